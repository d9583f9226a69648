/**
 * The bench's device field in one process: QoS 1 room readings round-robin over the demo network's
 * sensors. Two modes:
 *   bulk  — `count` readings as fast as the broker acknowledges, at most `window` unacknowledged;
 *   paced — `rate` messages/s for `seconds`, each reading stamped with its send time (epoch ms), so a
 *           receiver on this machine can measure publish → receipt latency from `ts` alone.
 * `perMessage` > 1 sends store-and-forward arrays of that many readings of one sensor.
 * Prints one JSON line: messages, readings, seconds, acked.
 *
 *   node --import tsx bench/procs/load.ts '<json options>'
 */
import mqtt from 'mqtt';
import { loadConfig } from '../../src/config/loader.ts';
import { sayResult } from '../lib.ts';

interface Options {
  url: string;
  root: string;
  mode: 'bulk' | 'paced';
  count?: number;
  window?: number;
  perMessage?: number;
  rate?: number;
  seconds?: number;
  protocol?: 4 | 5;
}
const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const sensors = [...loadConfig('config', {}).registry.sensors.keys()];
const perMessage = Math.max(1, o.perMessage ?? 1);
const startTs = Date.now() - 3_600_000;
// ~90 bytes, as docs/architecture.md "Measured facts": ts, temp, humidity, battery, seq.
const reading = (ts: number, n: number) => ({
  ts,
  temp: 20 + (n % 50) / 10,
  humidity: 40,
  battery: 3.01,
  seq: n,
});
const client = await mqtt.connectAsync(o.url, {
  clientId: `bench-load-${process.pid}`,
  protocolVersion: o.protocol ?? 5,
  clean: true,
});
const topicOf = (m: number) => `${o.root}/sensors/${sensors[m % sensors.length]}/telemetry`;
const t0 = performance.now();
let sent = 0;
let acked = 0;
let failed = 0;

if (o.mode === 'bulk') {
  const messages = Math.ceil((o.count ?? 0) / perMessage);
  const window = o.window ?? 500;
  await new Promise<void>((resolve) => {
    const pump = () => {
      while (sent < messages && sent - acked - failed < window) {
        const m = sent++;
        const first = m * perMessage;
        const body =
          perMessage === 1
            ? JSON.stringify(reading(startTs + m, m))
            : JSON.stringify(
                Array.from({ length: perMessage }, (_, i) => reading(startTs + first + i, first + i)),
              );
        client.publish(topicOf(m), body, { qos: 1 }, (err) => {
          if (err) failed++;
          else acked++;
          if (acked + failed === messages) resolve();
          else pump();
        });
      }
    };
    pump();
  });
} else {
  // Paced: a 1 ms tick sends what the schedule says is due, so the rate holds without bursts.
  const rate = o.rate ?? 1000;
  const total = Math.round(rate * (o.seconds ?? 5));
  await new Promise<void>((resolve) => {
    const timer = setInterval(() => {
      const due = Math.min(total, Math.floor(((performance.now() - t0) / 1000) * rate));
      while (sent < due) {
        const m = sent++;
        // The send instant as the reading's own timestamp: latency = receipt − ts on one machine.
        client.publish(topicOf(m), JSON.stringify(reading(Date.now(), m)), { qos: 1 }, (err) => {
          if (err) failed++;
          else acked++;
        });
      }
      if (sent >= total) {
        clearInterval(timer);
        resolve();
      }
    }, 1);
  });
  const until = performance.now() + 10_000;
  while (acked + failed < sent && performance.now() < until) await new Promise((r) => setTimeout(r, 10));
}
const seconds = (performance.now() - t0) / 1000;
await client.endAsync();
sayResult({ messages: sent, readings: sent * perMessage, acked, failed, seconds });
