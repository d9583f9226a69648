/**
 * Scenario 2, InfluxDB path: heatwatch's full path with the InfluxDB reading store writing to a
 * VictoriaMetrics (v2 write API) of our own, against the bare counting subscriber on the same
 * Mosquitto. Every reading is accounted for by exporting what VictoriaMetrics stored.
 */
import { hasVictoriaMetrics, startVictoriaMetrics } from '../../test/storage/tsdb-servers.ts';
import { pad, ratio, startMosquitto } from '../lib.ts';
import { bareRun, heatwatchRun } from './ingest-ceiling.ts';

/**
 * Samples VictoriaMetrics holds for one metric name (after a flush makes fresh writes searchable).
 * Polled many times a run: a request that fails at the socket (a kept-alive connection the server
 * closed) is tried again, up to three times, before the benchmark gives up on the server.
 */
export async function countSamples(vmUrl: string, metric: string): Promise<number> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await countSamplesOnce(vmUrl, metric);
    } catch (err) {
      if (attempt >= 3) throw err;
      await new Promise((r) => setTimeout(r, 250 * attempt));
    }
  }
}

async function countSamplesOnce(vmUrl: string, metric: string): Promise<number> {
  await (await fetch(`${vmUrl}/internal/force_flush`)).body?.cancel();
  const res = await fetch(`${vmUrl}/api/v1/export`, {
    method: 'POST',
    body: new URLSearchParams({ 'match[]': `{__name__="${metric}"}`, start: '0' }),
  });
  let n = 0;
  for (const line of (await res.text()).split('\n')) {
    if (line.trim() === '') continue;
    n += (JSON.parse(line) as { timestamps: number[] }).timestamps.length;
  }
  return n;
}

export interface InfluxFigures {
  readings: number;
  batchSize: number;
  writeBatchLines: number;
  bareReadingsPerS: number;
  heatwatchReadingsPerS: number;
  heatwatchStoredPerS: number;
  inVictoriaMetrics: number;
  lost: number;
  ratio: number;
}

export async function runInflux(opts: { readings: number }): Promise<InfluxFigures | { skipped: string }> {
  if (!hasVictoriaMetrics())
    return { skipped: 'victoria-metrics not installed (apt-get install victoria-metrics)' };
  const broker = await startMosquitto();
  const vm = await startVictoriaMetrics();
  try {
    const a = await bareRun(broker, 5, opts.readings, 1);
    const b = await heatwatchRun(broker, 5, opts.readings, 1, {
      store: 'influxdb',
      influxUrl: vm.url,
      idleMs: 10_000,
    });
    const stored = await countSamples(vm.url, 'room_temp_c');
    return {
      readings: opts.readings,
      batchSize: b.batchSize,
      writeBatchLines: b.writeBatchLines,
      bareReadingsPerS: a.readingsPerS,
      heatwatchReadingsPerS: b.acceptPerS,
      heatwatchStoredPerS: b.storedPerS,
      inVictoriaMetrics: stored,
      lost: opts.readings - stored,
      ratio: ratio(b.acceptPerS, a.readingsPerS),
    };
  } finally {
    await vm.stop();
    await broker.stop();
  }
}

export function formatInflux(f: InfluxFigures | { skipped: string }): string {
  if ('skipped' in f) return `influx: skipped — ${f.skipped}`;
  return [
    `influx: heatwatch → InfluxDB v2 write API → VictoriaMetrics, ${f.readings} single readings, QoS 1, Mosquitto`,
    `  bare counting subscriber ${pad(f.bareReadingsPerS, 8)} readings/s`,
    `  heatwatch (influxdb)     ${pad(f.heatwatchReadingsPerS, 8)} readings/s  stored ${f.heatwatchStoredPerS}/s  ratio ${f.ratio.toFixed(2)}`,
    `  batch ${f.batchSize} readings, ≤ ${f.writeBatchLines} lines per write; in VictoriaMetrics ${f.inVictoriaMetrics} of ${f.readings}, lost ${f.lost}`,
  ].join('\n');
}
