/**
 * The reference receiver: a bare mqtt.js subscriber that only counts (the ceiling any client can take
 * from a broker). Subscribes at QoS 1, prints `{"ready":true}`, then one line of figures when it has
 * `expected` messages or none arrived for `idleMs`.
 *
 *   node --import tsx bench/procs/counter.ts URL FILTER EXPECTED_MESSAGES [IDLE_MS] [PROTOCOL]
 */
import mqtt from 'mqtt';
import { sayReady, sayResult } from '../lib.ts';

const [url = '', filter = '', expectedArg = '0', idleArg = '5000', protoArg = '5'] = process.argv.slice(2);
const expected = Number(expectedArg);
const idleMs = Number(idleArg);
const protocolVersion = Number(protoArg) === 4 ? 4 : 5;
const client = await mqtt.connectAsync(url, {
  clientId: `bench-counter-${process.pid}`,
  protocolVersion,
  clean: true,
  ...(protocolVersion === 5 ? { properties: { receiveMaximum: 1000 } } : {}),
});
let n = 0;
let first = 0;
let last = 0;
client.on('message', () => {
  const t = performance.now();
  if (n === 0) first = t;
  n++;
  last = t;
});
await client.subscribeAsync(filter, { qos: 1 });
sayReady();
const started = performance.now();
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    const now = performance.now();
    // Before the first message the publisher may still be starting: wait for it far longer.
    const idle = n === 0 ? now - started > 60_000 : now - last > idleMs;
    if (n >= expected || idle) {
      clearInterval(check);
      resolve();
    }
  }, 5);
});
await client.endAsync();
sayResult({
  messages: n,
  seconds: (last - first) / 1000,
  msgPerS: n > 1 ? Math.round(n / ((last - first) / 1000)) : 0,
});
