import type { Clock, TimerHandle } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { SqlExecutor } from '../storage/sql.ts';
import {
  databaseNowMs,
  fenceFor,
  release,
  renew,
  type TxRunner,
  tryAcquire,
  type WriteFence,
} from './lease.ts';

export interface LeaseTimings {
  /** The holder renews this often (partition.leases.renewMs). */
  renewMs: number;
  /** A lease lasts this long after its last renewal (partition.leases.durationMs). */
  durationMs: number;
  /** A standby looks for expired leases this often (partition.leases.takeoverMs). */
  takeoverMs: number;
}

export interface LeaseKeeperOptions {
  db: TxRunner & SqlExecutor;
  /** Every partition of the city; this instance takes whichever has no live holder. */
  partitions: readonly string[];
  /** This instance's name in the lease table. */
  holder: string;
  timings: () => LeaseTimings;
  /** Wall clock for the renew and takeover timers (not heating time: leases are about processes). */
  wallClock: Clock;
  /** The lease clock; default the database's (one clock for every instance). */
  nowMs?: () => Promise<number>;
  /**
   * Runs in the transaction that takes `partition` with the new `token`, before the partition's work
   * starts (docs/deploy.md: a re-check the previous holder had claimed is freed there). What it
   * returns is added to the `lease acquired` log line.
   */
  onTaking?(q: SqlExecutor, partition: string, token: number): Promise<Record<string, unknown> | undefined>;
  /**
   * Starts the partition's work; its writes carry `fence`. Runs beside the renewals (it may take
   * long); a rejection gives the lease back. `onLost` may come while it still runs.
   */
  onAcquired(partition: string, token: number, fence: WriteFence): Promise<void>;
  /** Stops the partition's work: the lease was taken, could not be renewed in time, or we stop. */
  onLost(partition: string, token: number, why: string): Promise<void>;
  log: Logger;
}

interface Held {
  token: number;
  /** Wall time at which the last successful renewal (or the acquisition) was started. */
  renewStartedMs: number;
}

/**
 * Holds the leases of the partitions this rules instance judges (src/ops/lease.ts). Every `renewMs`
 * it renews what it holds; every `takeoverMs` it tries the partitions it does not hold, which
 * succeeds only for a partition without a lease or with an expired one. A holder that cannot reach
 * the database stops the partition's work itself before its lease can have expired (its last
 * successful renewal + durationMs − renewMs), so even without the fence two instances do not work
 * one partition at once; the fence stays the guarantee.
 */
export class LeaseKeeper {
  private readonly held = new Map<string, Held>();
  private renewTimer: TimerHandle | undefined;
  private takeoverTimer: TimerHandle | undefined;
  private queue: Promise<void> = Promise.resolve();
  private pending = 0;
  private stopped = false;

  constructor(private readonly o: LeaseKeeperOptions) {}

  /** Tries every partition once, then keeps renewing and taking over on the timers. */
  async start(): Promise<void> {
    this.stopped = false;
    const t = this.o.timings();
    this.renewTimer = this.o.wallClock.setInterval(() => this.schedule(() => this.renewAll()), t.renewMs);
    this.takeoverTimer = this.o.wallClock.setInterval(
      () => this.schedule(() => this.acquireFree()),
      t.takeoverMs,
    );
    await this.enqueue(() => this.acquireFree());
  }

  /** Partition → token of every lease this instance holds now. */
  holding(): Map<string, number> {
    return new Map([...this.held].map(([p, h]) => [p, h.token]));
  }

  /** Stops the timers, stops every partition's work and gives its lease back. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.renewTimer?.cancel();
    this.takeoverTimer?.cancel();
    await this.enqueue(async () => {
      for (const [partition, h] of [...this.held]) {
        await this.lose(partition, h.token, 'stopping');
        await release(this.o.db, partition, h.token).catch((err: unknown) =>
          this.o.log.warn({ err, partition }, 'lease not released; it expires by itself'),
        );
      }
    });
  }

  /** One renewal round now (tests and the timer). */
  renewNow(): Promise<void> {
    return this.enqueue(() => this.renewAll());
  }

  /** One takeover round now (tests and the timer). */
  takeoverNow(): Promise<void> {
    return this.enqueue(() => this.acquireFree());
  }

  /** Timer ticks: one at a time, and a tick that finds the previous one still running is skipped. */
  private schedule(fn: () => Promise<void>): void {
    if (this.pending > 0 || this.stopped) return;
    void this.enqueue(fn);
  }

  private enqueue(fn: () => Promise<void>): Promise<void> {
    this.pending++;
    const run = this.queue.then(fn).finally(() => {
      this.pending--;
    });
    this.queue = run.catch((err: unknown) => this.o.log.error({ err }, 'lease round failed'));
    return run;
  }

  private now(): Promise<number> {
    return this.o.nowMs ? this.o.nowMs() : databaseNowMs(this.o.db);
  }

  private async acquireFree(): Promise<void> {
    const free = this.o.partitions.filter((p) => !this.held.has(p));
    if (free.length === 0 || this.stopped) return;
    const { durationMs } = this.o.timings();
    for (const partition of free) {
      const started = this.o.wallClock.now();
      let token: number | undefined;
      let taking: Record<string, unknown> | undefined;
      const onTaking = this.o.onTaking;
      try {
        token = await tryAcquire(
          this.o.db,
          partition,
          this.o.holder,
          await this.now(),
          durationMs,
          onTaking &&
            (async (q, t) => {
              taking = await onTaking(q, partition, t);
            }),
        );
      } catch (err) {
        this.o.log.warn(
          { err, partition },
          'lease: not taken (database unreachable, or the takeover failed)',
        );
        return;
      }
      if (token === undefined) continue;
      this.held.set(partition, { token, renewStartedMs: started });
      this.o.log.info({ partition, token, holder: this.o.holder, ...taking }, 'lease acquired');
      // Not awaited: a partition's start runs its due re-checks, which may take longer than a lease;
      // the renewals must go on meanwhile.
      this.o.onAcquired(partition, token, fenceFor(partition, token)).catch((err: unknown) => {
        this.o.log.error({ err, partition }, 'partition failed to start; lease given back');
        void this.enqueue(async () => {
          if (this.held.get(partition)?.token !== token) return;
          this.held.delete(partition);
          await release(this.o.db, partition, token).catch(() => {});
        });
      });
    }
  }

  private async renewAll(): Promise<void> {
    const { durationMs, renewMs } = this.o.timings();
    for (const [partition, h] of [...this.held]) {
      const started = this.o.wallClock.now();
      try {
        if (await renew(this.o.db, partition, h.token, await this.now(), durationMs)) {
          h.renewStartedMs = started;
          continue;
        }
        await this.lose(partition, h.token, 'taken by another instance');
      } catch (err) {
        // Unreachable: keep the work going while the lease surely still runs, then stop it.
        const deadline = h.renewStartedMs + durationMs - renewMs;
        this.o.log.warn({ err, partition, untilMs: deadline }, 'lease not renewed');
        if (this.o.wallClock.now() >= deadline) await this.lose(partition, h.token, 'not renewed in time');
      }
    }
  }

  private async lose(partition: string, token: number, why: string): Promise<void> {
    if (this.held.get(partition)?.token !== token) return;
    this.held.delete(partition);
    this.o.log.warn({ partition, token, why }, 'lease lost; partition stopped');
    try {
      await this.o.onLost(partition, token, why);
    } catch (err) {
      this.o.log.error({ err, partition }, 'partition did not stop cleanly');
    }
  }
}
