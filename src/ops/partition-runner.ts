import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
import { fencedDb } from './lease.ts';
import { LeaseKeeper, type LeaseTimings } from './lease-keeper.ts';

/** What runs for one held partition (its rules, tickets and re-checks). */
export interface PartitionWork {
  stop(): Promise<void>;
}

/**
 * Starts a partition's work on `db`, the operational database behind the partition's fence: every
 * write it makes carries the lease's token, and is refused once another instance took the partition.
 */
export type StartPartition = (p: {
  name: string;
  substations: readonly string[];
  token: number;
  db: SqlDb;
}) => Promise<PartitionWork>;

/**
 * Runs in the transaction that takes a partition with a new token, before its work starts: the place
 * to free what an earlier holder left claimed, since that holder's writes are fenced off from here on.
 */
export type TakePartition = (
  q: SqlExecutor,
  p: { name: string; substations: readonly string[]; token: number },
) => Promise<Record<string, unknown> | undefined>;

export interface PartitionRunnerOptions {
  db: SqlDb;
  /** partition.leases.partitions: name → substations, the same on every rules instance. */
  partitions: Readonly<Record<string, readonly string[]>>;
  holder: string;
  timings: () => LeaseTimings;
  wallClock: Clock;
  /** The lease clock; default the database's. */
  nowMs?: () => Promise<number>;
  start: StartPartition;
  taking?: TakePartition;
  log: Logger;
}

/**
 * A rules instance in a city (docs/deploy.md "A city on PostgreSQL"): holds what leases it can get
 * (src/ops/lease-keeper.ts) and runs each held partition's work, stopping it when the lease is lost.
 * A standby is the same code holding nothing yet.
 */
export class PartitionRunner {
  /** The work of each held partition, from the moment its start began. */
  private readonly work = new Map<string, Promise<PartitionWork>>();
  readonly keeper: LeaseKeeper;

  constructor(o: PartitionRunnerOptions) {
    this.keeper = new LeaseKeeper({
      db: o.db,
      partitions: Object.keys(o.partitions),
      holder: o.holder,
      timings: o.timings,
      wallClock: o.wallClock,
      nowMs: o.nowMs,
      log: o.log,
      onTaking:
        o.taking &&
        ((q, name, token) => o.taking!(q, { name, substations: o.partitions[name] ?? [], token })),
      onAcquired: async (name, token, fence) => {
        const work = o.start({
          name,
          substations: o.partitions[name] ?? [],
          token,
          db: fencedDb(o.db, fence),
        });
        this.work.set(name, work);
        work.catch(() => this.work.get(name) === work && this.work.delete(name));
        await work;
      },
      onLost: async (name) => {
        const work = this.work.get(name);
        this.work.delete(name);
        // A start still running is let finish (its writes are fenced off already), then stopped.
        await work?.then(
          (w) => w.stop(),
          () => {},
        );
      },
    });
  }

  /** Names of the partitions this instance runs now. */
  running(): string[] {
    return [...this.work.keys()].sort();
  }

  start(): Promise<void> {
    return this.keeper.start();
  }

  stop(): Promise<void> {
    return this.keeper.stop();
  }
}
