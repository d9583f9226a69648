/**
 * Ingestion benchmark: the same publisher, the same broker, QoS 1, two receivers in turn:
 *   (a) a bare subscriber that only counts (the ceiling a client can take from this broker), and
 *   (b) heatwatch's full path (decode → journal → PUBACK → live state; journal → SQLite store),
 *       once with the journal at synchronous=NORMAL and once at FULL.
 * Prints readings/s of each, the ratio to the bare rate, and how many readings were lost.
 * With `--format chirpstack|tts|all`, the same again (journal NORMAL) with the readings sent as
 * network-server uplinks through `ingest.sources`, beside the native format.
 *
 *   node --import tsx bench/ingest.ts [--count N] [--format chirpstack|tts|all]
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import mqtt from 'mqtt';
import { silentLogger } from '../src/core/log.ts';
import { startHeatwatch } from '../src/main.ts';

export type BenchFormat = 'native' | 'chirpstack' | 'tts';

export interface IngestBenchResult {
  count: number;
  bareMsgPerS: number;
  bareLost: number;
  /** The bare subscriber per format (uplinks are larger messages than the contract's). */
  bare: Array<{ format: BenchFormat; msgPerS: number; lost: number; payloadBytes: number }>;
  heatwatch: Array<{
    format: BenchFormat;
    journal: 'NORMAL' | 'FULL';
    msgPerS: number;
    ratio: number;
    lost: number;
    storedPerS: number;
  }>;
}

const MOSQUITTO = '/usr/sbin/mosquitto';

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => resolve(typeof a === 'object' && a ? a.port : 0));
    });
  });
}

/** A Mosquitto with the settings docs/ingest.md asks for (deep queue, wide in-flight window). */
async function startMosquitto(dir: string): Promise<{ url: string; proc: ChildProcess }> {
  const port = await freePort();
  const conf = join(dir, 'mosquitto.conf');
  writeFileSync(
    conf,
    `listener ${port} 127.0.0.1\nallow_anonymous true\npersistence false\nmax_queued_messages 1000000\nmax_inflight_messages 1000\n`,
  );
  const proc = spawn(MOSQUITTO, ['-c', conf], { stdio: 'ignore' });
  const url = `mqtt://127.0.0.1:${port}`;
  for (let i = 0; i < 100; i++) {
    try {
      const c = await mqtt.connectAsync(url, { reconnectPeriod: 0, connectTimeout: 200 });
      await c.endAsync();
      return { url, proc };
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error('mosquitto did not start');
}

function publish(
  url: string,
  root: string,
  count: number,
  startTs: number,
  format: BenchFormat,
): Promise<void> {
  return new Promise((resolve, reject) => {
    const p = spawn(
      process.execPath,
      ['--import', 'tsx', 'bench/publisher.ts', url, root, String(count), '500', String(startTs), format],
      { stdio: ['ignore', 'ignore', 'inherit'] },
    );
    p.once('exit', (code) => (code === 0 ? resolve() : reject(new Error(`publisher exited ${code}`))));
  });
}

async function waitUntil(cond: () => boolean, timeoutMs: number): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  while (Date.now() < end) {
    if (cond()) return true;
    await new Promise((r) => setTimeout(r, 5));
  }
  return cond();
}

async function bare(
  url: string,
  root: string,
  count: number,
  format: BenchFormat,
): Promise<{ msgPerS: number; lost: number; payloadBytes: number }> {
  const sub = await mqtt.connectAsync(url, { clientId: `${root}-bare`, protocolVersion: 5, clean: true });
  let n = 0;
  let first = 0;
  let last = 0;
  let bytes = 0;
  sub.on('message', (_t, payload) => {
    if (n === 0) first = performance.now();
    n++;
    bytes += payload.length;
    last = performance.now();
  });
  await sub.subscribeAsync(`${root}/#`, { qos: 1 });
  await publish(url, root, count, Date.now() - 3_600_000, format);
  await waitUntil(() => n >= count, 30_000);
  await sub.endAsync();
  return {
    msgPerS: Math.round(n / ((last - first) / 1000)),
    lost: count - n,
    payloadBytes: Math.round(bytes / Math.max(1, n)),
  };
}

async function full(
  url: string,
  root: string,
  count: number,
  journal: 'NORMAL' | 'FULL',
  format: BenchFormat,
): Promise<{ msgPerS: number; storedPerS: number; lost: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), 'hw-bench-'));
  const hw = await startHeatwatch({
    configDir: 'config',
    env: { HEATWATCH_DATA_DIR: dataDir, HEATWATCH_SIM: 'off' },
    log: silentLogger(),
    ingestOnly: true,
    configure: (c) => {
      c.service.mqtt.mode = 'external';
      c.service.mqtt.url = url;
      c.service.mqtt.topicRoot = root;
      c.service.mqtt.clientId = `${root}-heatwatch`;
      c.service.mqtt.sessionExpiryS = 60;
      c.service.spool.synchronous = journal;
      c.service.ingest.sources = [
        { filter: `${root}/application/+/device/+/event/up`, format: 'chirpstack' },
        { filter: `${root}/v3/+/devices/+/up`, format: 'tts' },
      ];
    },
  });
  try {
    const counter = (name: string) => {
      const m = hw.metrics.render().match(new RegExp(`^${name} (\\d+)$`, 'm'));
      return m ? Number(m[1]) : 0;
    };
    let first = 0;
    let lastAccepted = 0;
    let seen = 0;
    hw.bus.on('roomReadings', 'bench', (r) => {
      if (seen === 0) first = performance.now();
      seen += r.length;
      lastAccepted = performance.now();
    });
    await publish(url, root, count, Date.now() - 3_600_000, format);
    // journal FULL takes a few hundred readings/s on a busy machine: wait for all of them.
    await waitUntil(() => counter('heatwatch_readings_stored_total') >= count, Math.max(60_000, count * 5));
    const storedAt = performance.now();
    await hw.stop();
    const db = new Database(join(dataDir, 'readings.db'), { readonly: true });
    const stored = (db.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number }).n;
    db.close();
    return {
      msgPerS: Math.round(seen / ((lastAccepted - first) / 1000)),
      storedPerS: Math.round(stored / ((storedAt - first) / 1000)),
      lost: count - stored,
    };
  } finally {
    await hw.stop();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export async function runIngestBench(
  count: number,
  adapters: readonly BenchFormat[] = [],
): Promise<IngestBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-broker-'));
  const broker = await startMosquitto(dir);
  try {
    const tag = `bench${process.pid}`;
    const bares: IngestBenchResult['bare'] = [];
    const heatwatch: IngestBenchResult['heatwatch'] = [];
    for (const format of ['native', ...adapters] as const) {
      const b = await bare(broker.url, `${tag}${format}a`, count, format);
      bares.push({ format, ...b });
      // The journal comparison on the native format; an adapter at the default (NORMAL).
      for (const journal of format === 'native' ? (['NORMAL', 'FULL'] as const) : (['NORMAL'] as const)) {
        const r = await full(broker.url, `${tag}${format}${journal}`, count, journal, format);
        heatwatch.push({ format, journal, ...r, ratio: Math.round((r.msgPerS / b.msgPerS) * 100) / 100 });
      }
    }
    const native = bares[0]!;
    return { count, bareMsgPerS: native.msgPerS, bareLost: native.lost, bare: bares, heatwatch };
  } finally {
    broker.proc.kill('SIGTERM');
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `--format chirpstack|tts|all`: the adapter formats to measure beside the native one. */
export function benchFormats(argv: readonly string[]): BenchFormat[] {
  const i = argv.indexOf('--format');
  if (i < 0) return [];
  const v = argv[i + 1];
  if (v === 'all') return ['chirpstack', 'tts'];
  if (v === 'chirpstack' || v === 'tts') return [v];
  if (v === 'native') return [];
  throw new Error(`--format: expected chirpstack, tts or all, got '${v}'`);
}

export function formatIngestBench(r: IngestBenchResult): string {
  const lines = [`ingest: ${r.count} readings, QoS 1, Mosquitto, publisher in its own process`];
  for (const b of r.bare) {
    lines.push(
      `  ${b.format.padEnd(10)} bare counting subscriber   ${String(b.msgPerS).padStart(7)} readings/s   ${b.payloadBytes} B/message   lost ${b.lost}`,
    );
    for (const h of r.heatwatch.filter((x) => x.format === b.format))
      lines.push(
        `  ${b.format.padEnd(10)} heatwatch, journal ${h.journal.padEnd(6)} ${String(h.msgPerS).padStart(7)} readings/s   ratio ${h.ratio.toFixed(2)}   stored end-to-end ${h.storedPerS}/s   lost ${h.lost}`,
      );
  }
  return lines.join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const i = process.argv.indexOf('--count');
  const count = i > 0 ? Number(process.argv[i + 1]) : 50_000;
  process.stdout.write(`${formatIngestBench(await runIngestBench(count, benchFormats(process.argv)))}\n`);
}
