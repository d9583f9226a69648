/**
 * Reading-store write rates: SQLite in 1000-row transactions (synchronous FULL and NORMAL), and the
 * InfluxDB writer into a local VictoriaMetrics through /api/v2/write. Prints one line per figure.
 *
 *   node --import tsx bench/reading-store.ts [rows]
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ManualClock } from '../src/core/clock.ts';
import { silentLogger } from '../src/core/log.ts';
import type { RoomReading } from '../src/core/readings.ts';
import { InfluxReadingStore } from '../src/storage/influx-store.ts';
import { SqliteReadingStore } from '../src/storage/sqlite-store.ts';
import { hasVictoriaMetrics, startVictoriaMetrics } from '../test/storage/tsdb-servers.ts';

const total = Number(process.argv[2] ?? 100_000);
const T0 = Date.UTC(2026, 0, 15);

/** 1000 sensors in 50 buildings, one reading each per minute. */
function readings(n: number): RoomReading[] {
  return Array.from({ length: n }, (_, i) => {
    const s = i % 1000;
    return {
      sensorId: `s${s}`,
      buildingId: `b${s % 50}`,
      substationId: `ss${s % 5}`,
      floor: 1 + (s % 6),
      column: 1 + (s % 4),
      classes: s % 3 === 0 ? ['top', 'gable'] : ['middle'],
      source: 'sensor',
      ts: T0 + Math.floor(i / 1000) * 60_000,
      tempC: 19 + (i % 40) / 10,
      humidityPct: 40,
      batteryV: 2.9,
      seq: i,
    };
  });
}

async function sqlite(sync: 'FULL' | 'NORMAL', rows: RoomReading[]): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'hw-bench-'));
  const store = new SqliteReadingStore(
    {
      file: join(dir, 'r.db'),
      retentionDays: 3650,
      pruneIntervalMs: 3_600_000,
      pruneChunkRows: 10_000,
      synchronous: sync,
      busyTimeoutMs: 5000,
    },
    new ManualClock(T0),
    silentLogger(),
  );
  await store.start();
  const started = performance.now();
  for (let i = 0; i < rows.length; i += 1000) await store.writeRoom(rows.slice(i, i + 1000));
  const s = (performance.now() - started) / 1000;
  console.log(
    `sqlite synchronous=${sync}: ${Math.round(rows.length / s)} rows/s (${rows.length} rows, 1000-row batches)`,
  );
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
}

async function victoria(rows: RoomReading[]): Promise<void> {
  if (!hasVictoriaMetrics()) {
    console.log('victoria-metrics not installed: influx writer figure skipped');
    return;
  }
  const vm = await startVictoriaMetrics();
  const store = new InfluxReadingStore(
    {
      url: vm.url,
      token: undefined,
      org: 'heatwatch',
      bucket: 'heatwatch',
      timeoutMs: 30_000,
      writeBatchLines: 5000,
      writeBatchBytes: 4 << 20,
      gzipThresholdBytes: 64 * 1024,
    },
    silentLogger(),
  );
  await store.start();
  try {
    const started = performance.now();
    for (let i = 0; i < rows.length; i += 5000) await store.writeRoom(rows.slice(i, i + 5000));
    const s = (performance.now() - started) / 1000;
    console.log(
      `influx writer → VictoriaMetrics: ${Math.round(rows.length / s)} points/s, ${Math.round((rows.length * 6) / s)} field values/s (${rows.length} points, 5000-line requests)`,
    );
  } finally {
    await store.stop();
    await vm.stop();
  }
}

const rows = readings(total);
await sqlite('FULL', rows);
await sqlite('NORMAL', rows);
await victoria(rows);
