import type { HeatwatchConfig } from '../config/loader.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { Module } from '../core/module.ts';
import type { LiveHub } from '../http/live-hub.ts';
import type { SqlDb } from '../storage/sql.ts';
import type { SqlMigration } from '../storage/sql-migrate.ts';
import { leaseMigrations } from './lease.ts';
import { LiveBridge, type SharedEvent } from './live-bridge.ts';
import { liveFeedMigrations } from './live-feed.ts';
import { PartitionRunner, type TakePartition } from './partition-runner.ts';

/**
 * What a city adds to the operational database (docs/deploy.md "A city on PostgreSQL"): partition
 * leases and the live feed. Applied in both dialects, so an ops.db has the same tables.
 */
export const cityMigrations: readonly SqlMigration[] = [...leaseMigrations, ...liveFeedMigrations];

/** This instance's name in leases and on the events it shares (HEATWATCH_INSTANCE_ID, else host-pid). */
export function instanceName(config: HeatwatchConfig, hostname: string, pid: number): string {
  return config.service.partition.leases.instanceId ?? `${hostname}-${pid}`;
}

/**
 * Joins this instance's live stream to the city's feed, when the ops database is PostgreSQL and the
 * instance serves the API. An API-only instance shares ticket and case changes; one that runs the
 * rules shares their building states too (the rules judge buildings; the API only shows them).
 */
export async function startLiveBridge(o: {
  config: HeatwatchConfig;
  db: SqlDb;
  bus: EventBus<HeatEvents>;
  hub: LiveHub;
  origin: string;
  wallClock: Clock;
  log: Logger;
}): Promise<Module | undefined> {
  const { service } = o.config;
  if (o.db.dialect !== 'postgres' || !o.config.secrets.pgUrl) return undefined;
  const share: SharedEvent[] =
    service.role === 'api'
      ? ['ticketChanged', 'caseChanged']
      : ['ticketChanged', 'caseChanged', 'buildingStatus'];
  const bridge = new LiveBridge({
    bus: o.bus,
    db: o.db,
    url: o.config.secrets.pgUrl,
    origin: o.origin,
    share,
    publish: (event, data) => o.hub.publish(event, data),
    settings: () => service.ops.live,
    wallClock: o.wallClock,
    log: o.log.child({ module: 'live-feed' }),
  });
  await bridge.start();
  return { name: 'live-feed', stop: () => bridge.stop() };
}

/**
 * The partitions of a city's rules instances: `partition.leases.partitions`, or, when none are
 * named, the whole network as one partition `city` (two rules instances are then holder and standby).
 */
function cityPartitions(
  config: HeatwatchConfig,
  substationIds: readonly string[],
): Record<string, readonly string[]> {
  const named = config.service.partition.leases.partitions;
  return Object.keys(named).length > 0 ? named : { city: [...substationIds] };
}

/** The part of the rules module a partition's lifetime needs. */
export interface PartitionRules {
  start(): Promise<void>;
  stop(): Promise<void>;
  applyRules(next: unknown): unknown;
}

/**
 * A city's rules instance: holds what partition leases it can get and runs one rules module per
 * held partition on the fenced database (src/ops/partition-runner.ts); a config edit of the rules
 * reaches every running one. `build` makes a partition's module (main knows its dependencies).
 */
export async function startCityRules(o: {
  config: HeatwatchConfig;
  db: SqlDb;
  substationIds: readonly string[];
  holder: string;
  wallClock: Clock;
  log: Logger;
  build(p: { name: string; substations: readonly string[]; db: SqlDb }): PartitionRules;
  /** In the transaction that takes a partition (src/ops/partition-runner.ts `TakePartition`). */
  taking?: TakePartition;
}): Promise<Module<HeatwatchConfig> & { running(): string[] }> {
  const running = new Set<PartitionRules>();
  const runner = new PartitionRunner({
    db: o.db,
    partitions: cityPartitions(o.config, o.substationIds),
    holder: o.holder,
    timings: () => o.config.service.partition.leases,
    wallClock: o.wallClock,
    log: o.log.child({ module: 'leases' }),
    taking: o.taking,
    start: async (p) => {
      const mod = o.build(p);
      await mod.start();
      running.add(mod);
      return {
        stop: async () => {
          running.delete(mod);
          await mod.stop();
        },
      };
    },
  });
  await runner.start();
  return {
    name: 'rules-partitions',
    stop: () => runner.stop(),
    onConfig: (next, prev) => {
      if (JSON.stringify(next.rules) === JSON.stringify(prev.rules)) return;
      for (const mod of running) o.log.info({ applied: mod.applyRules(next.rules) }, 'rules reloaded');
    },
    running: () => runner.running(),
  };
}
