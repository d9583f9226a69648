/**
 * heatwatch's full ingestion path in its own process, against an external broker: decode, validate,
 * enrich, journal, PUBACK, live state, batched durable store (SQLite or InfluxDB). Prints
 * `{"ready":true}` when subscribed, then one line of figures once `expected` readings are stored or
 * nothing was stored for `idleMs`.
 *
 *   node --import tsx bench/procs/heatwatch-ingest.ts '<json options>'
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';
import { sayReady, sayResult } from '../lib.ts';

interface Options {
  url: string;
  root: string;
  expected: number;
  idleMs?: number;
  store?: 'sqlite' | 'influxdb';
  influxUrl?: string;
  batchSize?: number;
  flushIntervalMs?: number;
  /** `store.sqlite.writeInWorker` (absent: the config's). */
  writeInWorker?: boolean;
}
const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const dataDir = mkdtempSync(join(tmpdir(), 'hw-bench-ingest-'));
const hw = await startHeatwatch({
  configDir: 'config',
  env: { HEATWATCH_DATA_DIR: dataDir, HEATWATCH_SIM: 'off' },
  log: silentLogger(),
  ingestOnly: true,
  configure: (c) => {
    c.service.mqtt.mode = 'external';
    c.service.mqtt.url = o.url;
    c.service.mqtt.topicRoot = o.root;
    c.service.mqtt.clientId = `bench-hw-${process.pid}`;
    c.service.mqtt.sessionExpiryS = 60;
    if (o.batchSize) c.service.ingest.batchSize = o.batchSize;
    if (o.flushIntervalMs) c.service.ingest.flushIntervalMs = o.flushIntervalMs;
    if (o.writeInWorker !== undefined)
      (c.service.store.sqlite as { writeInWorker?: boolean }).writeInWorker = o.writeInWorker;
    if (o.store === 'influxdb') {
      c.service.store.kind = 'influxdb';
      c.service.store.influxdb.url = o.influxUrl;
    }
  },
});
const counter = (name: string): number => {
  const m = new RegExp(`^${name} (\\d+)$`, 'm').exec(hw.metrics.render());
  return m ? Number(m[1]) : 0;
};
const storedTotal = (): number => counter('heatwatch_readings_stored_total');
let accepted = 0;
let first = 0;
let lastAccepted = 0;
hw.bus.on('roomReadings', 'bench', (rs) => {
  const t = performance.now();
  if (accepted === 0) first = t;
  accepted += rs.length;
  lastAccepted = t;
});
sayReady();
const started = performance.now();
// CPU of the whole process (all threads) and the main thread's busy time, per reading accepted: figures
// that move less than rates when other work shares the machine.
const cpu0 = process.cpuUsage();
const elu0 = performance.eventLoopUtilization();
let stored = 0;
let lastStoredChange = started;
let storedAt = started;
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    const now = performance.now();
    const s = storedTotal();
    if (s !== stored) {
      stored = s;
      lastStoredChange = now;
      storedAt = now;
    }
    // Before the first reading the publisher may still be starting: wait for it far longer.
    const idle =
      accepted === 0
        ? now - started > 60_000
        : now - Math.max(lastStoredChange, lastAccepted) > (o.idleMs ?? 8000);
    if (stored >= o.expected || idle) {
      clearInterval(check);
      resolve();
    }
  }, 5);
});
const cpu = process.cpuUsage(cpu0);
const elu = performance.eventLoopUtilization(elu0);
const commits = counter('heatwatch_journal_commits_total');
const messages = counter('heatwatch_messages_received_total');
const journal = hw.journal.stats();
const batchSize = hw.config.service.ingest.batchSize;
const writeBatchLines = hw.config.service.store.influxdb.writeBatchLines;
await hw.stop();
let inSqlite: number | undefined;
if (o.store !== 'influxdb') {
  const db = new Database(join(dataDir, 'readings.db'), { readonly: true });
  inSqlite = (db.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number }).n;
  db.close();
}
rmSync(dataDir, { recursive: true, force: true });
const acceptS = (lastAccepted - first) / 1000;
sayResult({
  accepted,
  storedCounter: stored,
  inSqlite,
  acceptPerS: accepted > 1 ? Math.round(accepted / acceptS) : 0,
  storedPerS: stored > 0 ? Math.round(stored / ((storedAt - first) / 1000)) : 0,
  journal,
  cpuUsPerReading: accepted > 0 ? Math.round((cpu.user + cpu.system) / accepted) : 0,
  loopUsPerReading: accepted > 0 ? Math.round((elu.active * 1000) / accepted) : 0,
  messagesPerCommit: commits > 0 ? Math.round(messages / commits) : undefined,
  batchSize,
  writeBatchLines,
});
