/**
 * Scenario 1, ingest ceiling ratio: the same publisher load through (a) a bare counting subscriber and
 * (b) heatwatch's full path, on aedes and on Mosquitto, QoS 1, single readings and store-and-forward
 * arrays. Broker, publisher and receiver each run in their own process; (a) and (b) run back to back
 * in this process tree, so the ratio b/a is what the figure means.
 */
import { benchChild, pad, type Running, ratio, startAedes, startMosquitto } from '../lib.ts';

export interface LoadResult {
  messages: number;
  readings: number;
  acked: number;
  failed: number;
  seconds: number;
}
export interface CounterResult {
  messages: number;
  seconds: number;
  msgPerS: number;
}
export interface IngestResult {
  accepted: number;
  storedCounter: number;
  inSqlite?: number;
  acceptPerS: number;
  storedPerS: number;
  batchSize: number;
  writeBatchLines: number;
  /** Process CPU (all threads) and main-thread busy time per accepted reading, µs. */
  cpuUsPerReading?: number;
  loopUsPerReading?: number;
  /** Messages per journal transaction (absent before group commit). */
  messagesPerCommit?: number;
}

export interface CeilingRow {
  broker: 'aedes' | 'mosquitto';
  shape: string;
  readings: number;
  bareReadingsPerS: number;
  bareLost: number;
  heatwatchReadingsPerS: number;
  heatwatchStoredPerS: number;
  heatwatchLost: number;
  ratio: number;
  cpuUsPerReading?: number;
  loopUsPerReading?: number;
  messagesPerCommit?: number;
}

let runs = 0;
const rootFor = (tag: string) => `bench${process.pid}r${++runs}${tag}`;

/** The bare reference: counting subscriber, then the load; readings/s = messages/s × per message. */
export async function bareRun(
  broker: Running,
  protocol: 4 | 5,
  readings: number,
  perMessage: number,
): Promise<{ readingsPerS: number; lost: number }> {
  const root = rootFor('a');
  const messages = Math.ceil(readings / perMessage);
  const counter = benchChild<CounterResult>(
    'bench/procs/counter.ts',
    [broker.url, `${root}/sensors/+/telemetry`, String(messages), '5000', String(protocol)],
    { timeoutMs: 120_000 },
  );
  await counter.ready;
  const load = benchChild<LoadResult>(
    'bench/procs/load.ts',
    [JSON.stringify({ url: broker.url, root, mode: 'bulk', count: readings, perMessage, protocol })],
    { timeoutMs: 120_000 },
  );
  await load.result;
  const c = await counter.result;
  return { readingsPerS: c.msgPerS * perMessage, lost: (messages - c.messages) * perMessage };
}

/** heatwatch's full path in its own process, the same load; lost = published − stored rows. */
export async function heatwatchRun(
  broker: Running,
  protocol: 4 | 5,
  readings: number,
  perMessage: number,
  extra: Record<string, unknown> = {},
  cpuProfDir?: string,
): Promise<IngestResult & { lost: number }> {
  const root = rootFor('b');
  const hw = benchChild<IngestResult>(
    'bench/procs/heatwatch-ingest.ts',
    [JSON.stringify({ url: broker.url, root, expected: readings, ...extra })],
    {
      timeoutMs: 180_000,
      nodeArgs: cpuProfDir ? ['--cpu-prof', '--cpu-prof-dir', cpuProfDir] : undefined,
    },
  );
  await hw.ready;
  const load = benchChild<LoadResult>(
    'bench/procs/load.ts',
    [JSON.stringify({ url: broker.url, root, mode: 'bulk', count: readings, perMessage, protocol })],
    { timeoutMs: 120_000 },
  );
  await load.result;
  const r = await hw.result;
  return { ...r, lost: readings - (r.inSqlite ?? r.storedCounter) };
}

export async function runIngestCeiling(opts: {
  singles: number;
  arrays: number;
  perArray: number;
  /** Writes a `node --cpu-prof` profile of each heatwatch process into this directory. */
  cpuProfDir?: string;
}) {
  const rows: CeilingRow[] = [];
  for (const name of ['aedes', 'mosquitto'] as const) {
    const broker = name === 'aedes' ? await startAedes() : await startMosquitto();
    const protocol = name === 'aedes' ? 4 : 5;
    try {
      for (const [shape, readings, per] of [
        ['single', opts.singles, 1],
        [`array×${opts.perArray}`, opts.arrays, opts.perArray],
      ] as const) {
        const a = await bareRun(broker, protocol, readings, per);
        const b = await heatwatchRun(broker, protocol, readings, per, {}, opts.cpuProfDir);
        rows.push({
          broker: name,
          shape,
          readings,
          bareReadingsPerS: a.readingsPerS,
          bareLost: a.lost,
          heatwatchReadingsPerS: b.acceptPerS,
          heatwatchStoredPerS: b.storedPerS,
          heatwatchLost: b.lost,
          ratio: ratio(b.acceptPerS, a.readingsPerS),
          cpuUsPerReading: b.cpuUsPerReading,
          loopUsPerReading: b.loopUsPerReading,
          messagesPerCommit: b.messagesPerCommit,
        });
      }
    } finally {
      await broker.stop();
    }
  }
  return rows;
}

export function formatCeiling(rows: CeilingRow[]): string {
  const out = ['ingest-ceiling: QoS 1, broker / publisher / receiver in separate processes'];
  out.push(
    '  broker     shape      readings   bare r/s  lost   heatwatch r/s  stored r/s  lost  ratio  cpu µs/r  loop µs/r  msg/commit',
  );
  for (const r of rows)
    out.push(
      `  ${r.broker.padEnd(10)} ${r.shape.padEnd(9)} ${pad(r.readings, 8)} ${pad(r.bareReadingsPerS, 10)} ${pad(r.bareLost, 5)} ${pad(r.heatwatchReadingsPerS, 14)} ${pad(r.heatwatchStoredPerS, 11)} ${pad(r.heatwatchLost, 5)}  ${r.ratio.toFixed(2)} ${pad(r.cpuUsPerReading ?? 0, 9)} ${pad(r.loopUsPerReading ?? 0, 10)} ${pad(r.messagesPerCommit ?? 1, 11)}`,
    );
  return out.join('\n');
}
