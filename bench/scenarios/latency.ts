/**
 * Scenario 4, latency: a paced publisher (its own process) stamps each reading with its send instant;
 * heatwatch (own process, Mosquitto of our own) records publish → live state, and an SSE client (own
 * process) records publish → dashboard stream. Latency goals are absolute (BENCHMARKS.md "Goals"), so
 * the ratio beside each row is the publisher's achieved rate against the asked one: a run that could not hold
 * its rate says so instead of reporting flattering latencies.
 */
import { randomBytes } from 'node:crypto';
import { benchChild, pad, ratio, startMosquitto } from '../lib.ts';
import type { LoadResult } from './ingest-ceiling.ts';

interface Pct {
  readings: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}
export interface LatencyRow {
  rateMsgPerS: number;
  achievedMsgPerS: number;
  rateRatio: number;
  live: Pct;
  sse: Pct & { events: number };
}

export async function runLatency(opts: {
  rates: number[];
  seconds: number;
  batchSize?: number;
  /** Writes a `node --cpu-prof` profile of each heatwatch process into this directory. */
  cpuProfDir?: string;
}): Promise<LatencyRow[]> {
  const rows: LatencyRow[] = [];
  const broker = await startMosquitto();
  try {
    for (const rate of opts.rates) {
      const root = `bench${process.pid}lat${rate}`;
      const token = randomBytes(24).toString('hex');
      const hw = benchChild<Pct>(
        'bench/procs/heatwatch-live.ts',
        [JSON.stringify({ url: broker.url, root, token, idleMs: 3000, batchSize: opts.batchSize })],
        {
          timeoutMs: 180_000,
          nodeArgs: opts.cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', opts.cpuProfDir] : undefined,
        },
      );
      const { httpPort } = await hw.ready;
      const sse = benchChild<Pct & { events: number }>(
        'bench/procs/sse-client.ts',
        [`http://127.0.0.1:${httpPort}`, token, '3000'],
        { timeoutMs: 180_000 },
      );
      await sse.ready;
      const load = benchChild<LoadResult>(
        'bench/procs/load.ts',
        [JSON.stringify({ url: broker.url, root, mode: 'paced', rate, seconds: opts.seconds })],
        { timeoutMs: 120_000 },
      );
      const l = await load.result;
      const [live, s] = await Promise.all([hw.result, sse.result]);
      const achieved = Math.round(l.messages / l.seconds);
      rows.push({
        rateMsgPerS: rate,
        achievedMsgPerS: achieved,
        rateRatio: ratio(achieved, rate),
        live,
        sse: s,
      });
    }
  } finally {
    await broker.stop();
  }
  return rows;
}

export function formatLatency(rows: LatencyRow[]): string {
  const out = ['latency: paced QoS 1 publisher → Mosquitto → heatwatch → SSE client (each its own process)'];
  out.push('  asked msg/s  achieved  readings  live p50  live p99   sse p50   sse p99  sse events');
  for (const r of rows)
    out.push(
      `  ${pad(r.rateMsgPerS, 11)} ${pad(r.achievedMsgPerS, 9)} ${pad(r.live.readings, 9)} ${pad(r.live.p50Ms, 6)} ms ${pad(r.live.p99Ms, 6)} ms ${pad(r.sse.p50Ms, 6)} ms ${pad(r.sse.p99Ms, 6)} ms ${pad(r.sse.events, 10)}`,
    );
  return out.join('\n');
}
