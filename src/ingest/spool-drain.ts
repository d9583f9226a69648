import { performance } from 'node:perf_hooks';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { Counter, Histogram } from '../core/metrics.ts';
import type { RoomReading, SubstationReading } from '../core/readings.ts';
import type { Topics } from '../mqtt/topics.ts';
import type { DeadLetters } from '../storage/dead-letters.ts';
import type { Journal, JournalRow } from '../storage/journal.ts';
import { type ReadingStore, StoreWriteError } from '../storage/reading-store.ts';

/** Dead-letter reason of a reading the reading store refused as data (not retriable). */
export const STORE_REFUSED = 'store_refused';

export interface SpoolDrainSettings {
  /** Readings per store write in normal running. */
  batchSize: number;
  /** Readings per store write while a backlog at least this large is replayed. */
  replayBatchSize: number;
  replayInitialBackoffMs: number;
  replayMaxBackoffMs: number;
}

export interface SpoolDrainDeps {
  journal: Journal;
  store: ReadingStore;
  deadLetters: DeadLetters;
  topics: Topics;
  bus: EventBus<HeatEvents>;
  /** Heating time, for alert timestamps. */
  clock: Clock;
  /** Wall time, for the backoff. */
  wallClock: Clock;
  log: Logger;
  /** A getter: ingestion registers its metrics when it starts. */
  counters: () => { stored: Counter; rejected: Counter; storeFailures: Counter; writeSeconds: Histogram };
  settings: () => SpoolDrainSettings;
  /** Called after each batch the store took (ingestion may release a held message then). */
  afterBatch: () => void;
}

type Refused<T> = { reading: T; err: StoreWriteError };

/**
 * Moves journalled readings into the reading store, oldest first, one drain at a time (docs/ingest.md).
 * A write the store may accept later (`StoreWriteError.retriable`, or any other error) leaves the rows
 * in the journal, which is then the spool, and sets a backoff. A write the store refuses as data is
 * bisected until only the refused readings are left: those are dead-lettered with the store's reason,
 * the rest stored, so one bad reading never blocks the spool behind it.
 */
export class SpoolDrain {
  private flushing: Promise<void> | undefined;
  private backoffMs = 0;
  private retryAtMs = 0;
  private healthy = true;

  constructor(private readonly d: SpoolDrainDeps) {}

  get storeUp(): boolean {
    return this.healthy;
  }

  /** The drain in progress, if any. */
  get running(): Promise<void> | undefined {
    return this.flushing;
  }

  /** Writes journalled rows to the store batch by batch. `force` ignores the backoff. */
  drain(force: boolean): Promise<void> {
    if (this.flushing) return this.flushing;
    if (!force && this.d.wallClock.now() < this.retryAtMs) return Promise.resolve();
    const run = async () => {
      for (;;) {
        const s = this.d.settings();
        // A backlog (after an outage) is replayed in larger writes: fewer transactions, a faster drain.
        const size = this.d.journal.pendingReadings >= s.replayBatchSize ? s.replayBatchSize : s.batchSize;
        const rows = this.d.journal.peek(size);
        if (rows.length === 0) return;
        if (!(await this.writeBatch(rows))) return;
        this.d.afterBatch();
        // Let the MQTT socket progress between batches: acknowledging is the hot path.
        await new Promise((r) => setImmediate(r));
      }
    };
    this.flushing = run().finally(() => {
      this.flushing = undefined;
    });
    return this.flushing;
  }

  private async writeBatch(rows: JournalRow[]): Promise<boolean> {
    const room: RoomReading[] = [];
    const sub: SubstationReading[] = [];
    for (const r of rows) {
      if (r.kind === 'room') room.push(...(r.readings as RoomReading[]));
      else sub.push(...(r.readings as SubstationReading[]));
    }
    const refusedRoom: Refused<RoomReading>[] = [];
    const refusedSub: Refused<SubstationReading>[] = [];
    const t0 = performance.now();
    try {
      if (room.length > 0) await bisect((b) => this.d.store.writeRoom(b), room, refusedRoom);
      if (sub.length > 0) await bisect((b) => this.d.store.writeSubstation(b), sub, refusedSub);
      // Dead letters before the journal rows go: if this fails, the batch is retried as a whole.
      for (const r of refusedRoom) this.deadLetter(this.d.topics.sensorTelemetry(r.reading.sensorId), r);
      for (const r of refusedSub)
        this.deadLetter(this.d.topics.substationTelemetry(r.reading.substationId), r);
    } catch (err) {
      this.failed(err);
      return false;
    }
    this.d.counters().writeSeconds.observe((performance.now() - t0) / 1000);
    this.d.journal.remove(rows);
    const refused = refusedRoom.length + refusedSub.length;
    this.d.counters().stored.inc(undefined, room.length + sub.length - refused);
    if (refused > 0)
      this.d.log.warn(
        { refused, batch: room.length + sub.length, reason: (refusedRoom[0] ?? refusedSub[0])?.err.message },
        'reading store refused readings as data; dead-lettered them, stored the rest',
      );
    this.recovered();
    return true;
  }

  private deadLetter(topic: string, r: Refused<unknown>): void {
    this.d.deadLetters.add(topic, Buffer.from(JSON.stringify(r.reading)), STORE_REFUSED, r.err.message);
    this.d.counters().rejected.inc({ reason: STORE_REFUSED });
  }

  private failed(err: unknown): void {
    this.d.counters().storeFailures.inc();
    const s = this.d.settings();
    this.backoffMs =
      this.backoffMs === 0 ? s.replayInitialBackoffMs : Math.min(s.replayMaxBackoffMs, this.backoffMs * 2);
    this.retryAtMs = this.d.wallClock.now() + this.backoffMs;
    if (!this.healthy) return;
    this.healthy = false;
    this.d.log.warn({ err, backoffMs: this.backoffMs }, 'reading store write failed; spooling');
    this.d.bus.emit('alert', {
      key: 'store-down',
      severity: 'warning',
      message: `reading store (${this.d.store.kind}) refuses writes; readings are spooled`,
      active: true,
      ts: this.d.clock.now(),
    });
  }

  private recovered(): void {
    this.backoffMs = 0;
    this.retryAtMs = 0;
    if (this.healthy) return;
    this.healthy = true;
    this.d.log.info('reading store accepts writes again; spool replayed');
    this.d.bus.emit('alert', {
      key: 'store-down',
      severity: 'warning',
      message: `reading store (${this.d.store.kind}) accepts writes again`,
      active: false,
      ts: this.d.clock.now(),
    });
  }
}

/**
 * Writes `readings`; if the store refuses them as data, writes each half on its own, down to single
 * readings, which are collected in `refused`. k refused readings in a batch of n cost about
 * 2·k·log2(n) extra writes. A retriable error anywhere is thrown: the whole batch is replayed later
 * (rewriting what was already stored is idempotent).
 */
export async function bisect<T>(
  write: (batch: readonly T[]) => Promise<void>,
  readings: readonly T[],
  refused: Refused<T>[],
): Promise<void> {
  try {
    await write(readings);
  } catch (err) {
    if (!(err instanceof StoreWriteError) || err.retriable) throw err;
    const [only] = readings;
    if (readings.length === 1 && only !== undefined) {
      refused.push({ reading: only, err });
      return;
    }
    const mid = Math.ceil(readings.length / 2);
    await bisect(write, readings.slice(0, mid), refused);
    await bisect(write, readings.slice(mid), refused);
  }
}
