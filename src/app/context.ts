import { isAbsolute, join } from 'node:path';
import type { HeatwatchConfig } from '../config/loader.ts';
import type { ServiceConfig } from '../config/service-schema.ts';
import { type Clock, ScaledClock, systemClock } from '../core/clock.ts';
import { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import { createLogger, type Logger } from '../core/log.ts';
import { MetricsRegistry } from '../core/metrics.ts';
import { ModuleList } from '../core/module.ts';
import { LogLevelControl } from '../ops/log-level.ts';

/**
 * What every block of the composition root (src/main.ts, src/app/) shares: the loaded config, the
 * clocks, the logger, the bus, the metrics and the one `ModuleList` each block adds its modules to
 * (docs/architecture.md "Modules and their ports").
 */
export interface AppContext {
  config: HeatwatchConfig;
  svc: ServiceConfig;
  env: Record<string, string | undefined>;
  /** Only the ingestion path runs: no simulator, rules, households or HTTP. */
  ingestOnly: boolean;
  /** Heating time (`clock.speed`, `--speed N`). */
  clock: Clock;
  /** Transport timers (flushes, disk syncs, reconnects) run in wall time whatever the demo speed. */
  wallClock: Clock;
  log: Logger;
  logLevels: LogLevelControl;
  bus: EventBus<HeatEvents>;
  metrics: MetricsRegistry;
  /** Every module started is added here in start order; stopAll() stops them in reverse. */
  modules: ModuleList<HeatwatchConfig>;
  /** A data file's path: absolute and `:memory:` as given, others under `dataDir`. */
  dataFile(file: string): string;
}

/** The shared context of a loaded config: clocks, logger and log levels, bus, metrics, the module list. */
export function createAppContext(
  config: HeatwatchConfig,
  env: Record<string, string | undefined>,
  o: { log?: Logger; ingestOnly?: boolean } = {},
): AppContext {
  const svc = config.service;
  const clock = new ScaledClock(
    svc.clock.speed,
    svc.clock.start !== undefined ? Date.parse(svc.clock.start) : undefined,
  );
  const log = o.log ?? createLogger(svc.logLevel);
  // Registered before any module takes its child logger, so a level change reaches them all.
  const logLevels = new LogLevelControl(log, svc.logLevel);
  logLevels.attach();
  const bus = new EventBus<HeatEvents>(log.child({ module: 'bus' }));
  bus.on('alert', 'log', (a) => log[a.active ? 'warn' : 'info']({ alert: a.key }, a.message));
  // A start that throws stops those already started before the error goes on (startHeatwatch's
  // catch); a config edit that validated is handed to each module's onConfig, in start order.
  const modules = new ModuleList<HeatwatchConfig>(log);
  modules.add({
    name: 'log-levels',
    onConfig: (next, prev) => {
      if (next.service.logLevel === prev.service.logLevel) return;
      logLevels.setConfiguredLevel(next.service.logLevel);
      logLevels.setLogLevel(next.service.logLevel);
    },
  });
  return {
    config,
    svc,
    env,
    // role (docs/deploy.md "A city on PostgreSQL"): an ingestion instance runs the ingestion path only.
    ingestOnly: o.ingestOnly === true || svc.role === 'ingest',
    clock,
    wallClock: systemClock(),
    log,
    logLevels,
    bus,
    metrics: new MetricsRegistry({ defaults: true }),
    modules,
    dataFile: (file) => (file === ':memory:' || isAbsolute(file) ? file : join(svc.dataDir, file)),
  };
}
