/**
 * A dashboard stand-in in its own process: reads heatwatch's /api/live server-sent events and records
 * publish → SSE client latency for each reading pushed (its `ts` is its send instant). Prints
 * `{"ready":true}` once the stream is open, then p50/p99 when no reading came for `idleMs`.
 *
 *   node --import tsx bench/procs/sse-client.ts URL TOKEN [IDLE_MS]
 */
import { sayReady, sayResult } from '../lib.ts';
import { percentiles } from './percentiles.ts';

const [url = '', token = '', idleArg = '3000'] = process.argv.slice(2);
const idleMs = Number(idleArg);
const ac = new AbortController();
const res = await fetch(`${url}/api/live`, {
  headers: { authorization: `Bearer ${token}`, accept: 'text/event-stream' },
  signal: ac.signal,
});
if (!res.ok || !res.body) throw new Error(`/api/live: ${res.status}`);
sayReady();
const latencies: number[] = [];
let events = 0;
let last = 0;
const started = performance.now();
const watchdog = setInterval(() => {
  const now = performance.now();
  if (latencies.length === 0 ? now - started > 60_000 : now - last > idleMs) ac.abort();
}, 20);
const decoder = new TextDecoder();
let buf = '';
try {
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    buf += decoder.decode(value, { stream: true });
    let i = buf.indexOf('\n\n');
    while (i >= 0) {
      const frame = buf.slice(0, i);
      buf = buf.slice(i + 2);
      i = buf.indexOf('\n\n');
      if (!frame.includes('event: readings')) continue;
      const now = Date.now();
      const data = frame.split('\n').find((l) => l.startsWith('data: '));
      if (!data) continue;
      const body = JSON.parse(data.slice(6)) as { readings: Array<{ ts: number }> };
      events++;
      last = performance.now();
      for (const r of body.readings) latencies.push(now - r.ts);
    }
  }
} catch {
  // aborted by the watchdog: the run is over
}
clearInterval(watchdog);
sayResult({ events, readings: latencies.length, ...percentiles(latencies) });
