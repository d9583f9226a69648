/**
 * heatwatch's ingestion plus its HTTP module (SSE at /api/live) in one process, against an external
 * broker, for the latency scenario. Records publish → live state latency for every reading (the
 * `roomReadings` event fires right after LiveState.applyRoom; the reading's `ts` is its send instant),
 * prints `{"ready":true,"httpPort":…}` once listening, then p50/p99 when no reading came for `idleMs`.
 *
 *   node --import tsx bench/procs/heatwatch-live.ts '<json options>'
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { httpMigrations } from '../../src/http/audit.ts';
import { createHttpModule } from '../../src/http/module.ts';
import { startHeatwatch } from '../../src/main.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { sayResult } from '../lib.ts';
import { percentiles } from './percentiles.ts';

interface Options {
  url: string;
  root: string;
  token: string;
  idleMs?: number;
  /** Overrides ingest.batchSize (store transaction size) for a before/after comparison. */
  batchSize?: number;
}
const o = JSON.parse(process.argv[2] ?? '{}') as Options;
const dataDir = mkdtempSync(join(tmpdir(), 'hw-bench-live-'));
const log = silentLogger();
const hw = await startHeatwatch({
  configDir: 'config',
  env: { HEATWATCH_DATA_DIR: dataDir, HEATWATCH_SIM: 'off', HEATWATCH_ADMIN_TOKEN: o.token },
  log,
  ingestOnly: true,
  configure: (c) => {
    c.service.mqtt.mode = 'external';
    c.service.mqtt.url = o.url;
    c.service.mqtt.topicRoot = o.root;
    c.service.mqtt.clientId = `bench-live-${process.pid}`;
    c.service.mqtt.sessionExpiryS = 60;
    c.service.http.port = 0;
    if (o.batchSize) c.service.ingest.batchSize = o.batchSize;
  },
});
// startHeatwatch in ingest-only mode has no HTTP module: build it here as src/app/http.ts wires it,
// on its own ops DB.
const httpDb = openOpsDb(join(dataDir, 'http-ops.db'), httpMigrations);
const http = await createHttpModule({
  config: hw.config,
  clock: hw.clock,
  wallClock: systemClock(),
  bus: hw.bus,
  live: hw.live,
  opsDb: httpDb,
  log,
  metrics: hw.metrics,
});
const httpPort = await http.start();
const latencies: number[] = [];
let last = 0;
hw.bus.on('roomReadings', 'bench', (rs) => {
  const now = Date.now();
  last = performance.now();
  for (const r of rs) latencies.push(now - r.ts);
});
process.stdout.write(`${JSON.stringify({ ready: true, httpPort })}\n`);
const started = performance.now();
await new Promise<void>((resolve) => {
  const check = setInterval(() => {
    const now = performance.now();
    const idle = latencies.length === 0 ? now - started > 60_000 : now - last > (o.idleMs ?? 3000);
    if (idle) {
      clearInterval(check);
      resolve();
    }
  }, 20);
});
await http.stop();
await hw.stop();
httpDb.close();
rmSync(dataDir, { recursive: true, force: true });
sayResult({ readings: latencies.length, ...percentiles(latencies) });
