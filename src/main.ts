/**
 * heatwatch's composition root (docs/architecture.md "Modules and their ports"): load the config,
 * then start each block of modules in order (src/app/, one file per block); the `ModuleList` stops
 * them in reverse. Each block adds its modules to the list and returns what later blocks need, so
 * adding a feature is adding a block.
 *
 *   npm start -- [--speed N] [--config DIR]
 */
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startBroker } from './app/broker.ts';
import { startConfigWatcher } from './app/config-reload.ts';
import { createAppContext } from './app/context.ts';
import { startHouseholds } from './app/households.ts';
import { startHttp } from './app/http.ts';
import { ingestionHealth, startIngestion, startReadingPath } from './app/ingestion.ts';
import { startForecastFeed, startSimulator } from './app/inputs.ts';
import { startOpsStores } from './app/ops-stores.ts';
import { startRules } from './app/rules.ts';
import { type HeatwatchConfig, loadConfig } from './config/loader.ts';
import type { Clock } from './core/clock.ts';
import type { EventBus } from './core/event-bus.ts';
import type { HeatEvents } from './core/events.ts';
import type { Logger } from './core/log.ts';
import type { MetricsRegistry } from './core/metrics.ts';
import type { IngestHealth } from './ingest/health.ts';
import type { Ingestor } from './ingest/ingestor.ts';
import type { LogLevelControl } from './ops/log-level.ts';
import type { SimulatorFactory } from './sim/port.ts';
import type { LiveState } from './state/live-state.ts';
import type { DeadLetters } from './storage/dead-letters.ts';
import type { Journal } from './storage/journal.ts';
import { EXIT_OPS_DB_UNREACHABLE } from './storage/ops-sql.ts';
import type { ReadingStore } from './storage/reading-store.ts';
import { OpsDbUnreachableError, type SqlDb } from './storage/sql.ts';
import type { Db } from './storage/sqlite.ts';

export { ingestSettings } from './app/ingestion.ts';

export interface StartOptions {
  /** Config directory; default HEATWATCH_CONFIG or `config/`. */
  configDir?: string;
  env?: Record<string, string | undefined>;
  /** `--speed N`: overrides clock.speed. */
  speed?: number;
  log?: Logger;
  /** Adjusts the loaded config before anything starts (tests: ports 0, temp dirs). */
  configure?: (config: HeatwatchConfig) => void;
  /** Only the ingestion path: no simulator, rules or HTTP (crash tests, the benchmark). */
  ingestOnly?: boolean;
  /** The simulated network (sim.enabled); default: the factory of the module `sim.adapter` names. */
  simulator?: SimulatorFactory;
  /** Watch the config directory and apply edits (default true). */
  watchConfig?: boolean;
}

export interface Heatwatch {
  config: HeatwatchConfig;
  clock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveState;
  metrics: MetricsRegistry;
  store: ReadingStore;
  ingestor: Ingestor;
  journal: Journal;
  deadLetters: DeadLetters;
  opsDb: Db;
  /** The ops database of the modules on the query layer: ops.db, or PostgreSQL with `ops.kind: postgres`. */
  opsSql: SqlDb;
  /** The broker ingestion uses (the embedded one's bound address, or mqtt.url). */
  mqttUrl: string;
  /** Port of the embedded broker, when there is one. */
  mqttPort?: number;
  /** Port of the HTTP server, once the HTTP module is wired. */
  httpPort?: number;
  /** Device group key of this run (embedded broker), for an in-process simulator or tests. */
  deviceKey?: string;
  health(): Promise<IngestHealth>;
  /** Runtime log levels: the engineer API and config reloads call `setLogLevel`; SIGUSR2 toggles debug. */
  logLevels: LogLevelControl;
  stop(): Promise<void>;
}

export async function startHeatwatch(opts: StartOptions = {}): Promise<Heatwatch> {
  const env = opts.env ?? process.env;
  // ── Config ───────────────────────────────────────────────────────────────────────────────────
  const config = loadConfig(opts.configDir ?? env.HEATWATCH_CONFIG ?? 'config', env);
  if (opts.speed !== undefined) config.service.clock.speed = opts.speed;
  opts.configure?.(config);
  // ── Clock, logger, bus, metrics and the module list every block adds to ─────────────────────
  const ctx = createAppContext(config, env, { log: opts.log, ingestOnly: opts.ingestOnly });
  const { svc, clock, modules } = ctx;
  try {
    // ── The ingestion path: an ingestion instance (role ingest, ingestOnly) runs only this ──────
    const ops = await startOpsStores(ctx);
    const path = await startReadingPath(ctx, ops.opsDb);
    const broker = await startBroker(ctx);
    const ingest = await startIngestion(ctx, { ...ops, ...path, broker });
    const watcher = startConfigWatcher(ctx, opts.watchConfig !== false);
    const current = () => watcher.config;
    const health = ingestionHealth(ctx, { ...path, ...ingest, broker, watcher });
    // ── Inputs beside the devices: the demo network, the forecast over HTTP ─────────────────────
    await startSimulator(ctx, broker, opts.simulator);
    startForecastFeed(ctx, path.live);
    // ── Rules and tickets, households, HTTP API and dashboard (not on an ingestion instance) ────
    let httpPort: number | undefined;
    if (!ctx.ingestOnly) {
      const judged = await startRules(ctx, { ...ops, ...path, ...ingest, current });
      const households = await startHouseholds(ctx, { ...ops, ...path, ...judged, current });
      httpPort = await startHttp(ctx, { ...ops, ...path, ...judged, ...ingest, health, households });
    }

    const dashboardUrl = `http://${svc.http.host}:${httpPort ?? svc.http.port}/`;
    ctx.log.info(
      { mqtt: broker.mqttUrl, store: path.store.kind, speed: clock.speed },
      `heatwatch running: ${dashboardUrl}`,
    );
    return {
      config,
      clock,
      bus: ctx.bus,
      live: path.live,
      metrics: ctx.metrics,
      store: path.store,
      ingestor: ingest.ingestor,
      journal: path.journal,
      deadLetters: ops.deadLetters,
      opsDb: ops.opsDb,
      opsSql: ops.opsSql,
      mqttUrl: broker.mqttUrl,
      mqttPort: broker.mqttPort,
      httpPort,
      deviceKey: broker.deviceKey,
      health: () => health.health(),
      logLevels: ctx.logLevels,
      stop: () => modules.stopAll(),
    };
  } catch (err) {
    // A start that threw: the modules already started stop, newest first, before the error goes on.
    await modules.stopAll();
    throw err;
  }
}

const USAGE = 'usage: heatwatch [--speed N] [--config DIR]';

/** `--speed N`, `--config DIR`, `-h/--help`; anything else is refused with usage. */
export function parseArgs(argv: readonly string[]): { speed?: number; configDir?: string; help?: true } {
  const out: { speed?: number; configDir?: string; help?: true } = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const next = argv[i + 1];
    if (a === '--help' || a === '-h') out.help = true;
    else if (a === '--speed' && next !== undefined) {
      const n = Number(next);
      if (!(n > 0) || !Number.isFinite(n)) throw new Error(`--speed needs a positive number, got '${next}'`);
      out.speed = n;
      i++;
    } else if (a === '--config' && next !== undefined) {
      out.configDir = next;
      i++;
    } else throw new Error(`unknown argument '${a}' (${USAGE})`);
  }
  return out;
}

async function runFromCommandLine(): Promise<void> {
  // Handlers first: a signal that arrives while heatwatch is starting must still stop it in order.
  let stopRequested: string | undefined;
  let hw: Heatwatch | undefined;
  let stopping = false;
  const shutdown = (signal: string) => {
    stopRequested = signal;
    if (!hw || stopping) return;
    stopping = true;
    process.stderr.write(`heatwatch: ${signal}, stopping\n`);
    hw.stop().then(
      () => {
        process.exitCode = 0;
      },
      (err: unknown) => {
        process.stderr.write(`heatwatch: stop failed: ${String(err)}\n`);
        process.exitCode = 1;
      },
    );
  };
  process.once('SIGINT', () => shutdown('SIGINT'));
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  try {
    const args = parseArgs(process.argv.slice(2));
    if (args.help) {
      process.stdout.write(`${USAGE}\n`);
      return;
    }
    hw = await startHeatwatch(args);
  } catch (err) {
    process.stderr.write(`heatwatch: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = err instanceof OpsDbUnreachableError ? EXIT_OPS_DB_UNREACHABLE : 1;
    return;
  }
  if (stopRequested) shutdown(stopRequested);
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href)
  void runFromCommandLine();
