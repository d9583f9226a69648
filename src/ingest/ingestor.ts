import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { RejectReason, RoomReading } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Topics } from '../mqtt/topics.ts';
import type { LiveState } from '../state/live-state.ts';
import type { DeadLetters } from '../storage/dead-letters.ts';
import type { Journal } from '../storage/journal.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import { type DecodeLimits, type decode, manualRefusal } from './decode.ts';
import { GroupCommit, type GroupCommitSettings, type GroupMember } from './group-commit.ts';
import { type IngestCounters, registerIngestMetrics } from './ingest-metrics.ts';
import { decodeMessage, type UplinkSources } from './sources.ts';
import { SpoolDrain } from './spool-drain.ts';

export interface IngestSettings {
  limits: DecodeLimits;
  /** `ingest.sources`: which non-contract topics carry network-server uplinks. */
  sources: UplinkSources;
  batchSize: number;
  flushIntervalMs: number;
  replayInitialBackoffMs: number;
  replayMaxBackoffMs: number;
  /** Readings per store write while a backlog at least this large is replayed (spool-drain.ts). */
  replayBatchSize: number;
  /** `ingest.groupCommit`: how the journal appends of one event-loop turn are grouped. */
  groupCommit: GroupCommitSettings;
}

export interface IngestorDeps {
  /** A getter, so a config reload's registry applies to the next message. */
  registry: () => RegistryIndex;
  topics: Topics;
  journal: Journal;
  deadLetters: DeadLetters;
  store: ReadingStore;
  live: LiveState;
  bus: EventBus<HeatEvents>;
  metrics: MetricsRegistry;
  /** Heating time: reading timestamps are judged against it. */
  clock: Clock;
  /** Wall time: flush timers and backoff are about the store and the disk, not heating time. */
  wallClock: Clock;
  log: Logger;
  settings: IngestSettings;
}

/** Called back once the message may be acknowledged to the broker; an error withholds the PUBACK. */
export type AckCallback = (err?: Error) => void;

interface Held {
  topic: string;
  payload: Buffer;
  done: AckCallback;
}

type Decoded = ReturnType<typeof decode>;
/** A message in the open journal group, decoded, waiting for the group's commit. */
interface Pending {
  msg: Held;
  result: Decoded;
}

export type ManualResult = { ok: true } | { ok: false; reason: string };

/**
 * The ingestion pipeline: decode → journal (durable) → acknowledge → live state and events; then
 * journal → reading store in batches, in order, with backoff while the store is down.
 *
 * The acknowledgement follows durability: `handle` calls `done` only after the message is in the
 * journal (or, if refused, in the dead-letter table). Messages of one event-loop turn share one journal
 * transaction (group-commit.ts): `handle` returns true to let the client deliver the next message
 * while this one waits for its group's commit. When the journal is over its disk budget or cannot be
 * written, messages are held, `done` is not called and `handle` returns false: the client then reads
 * no further packets, the broker keeps everything unacknowledged, and an `alert` says so (never silent).
 */
export class Ingestor {
  private timer: TimerHandle | undefined;
  private readonly drainer: SpoolDrain;
  private drainQueued = false;
  private readonly group: GroupCommit<Pending>;
  /** Messages not acknowledged because the journal could not take them, oldest first. */
  private held: Held[] = [];
  /** Journal body bytes of the readings in the open group, counted against the spool budget before they are written. */
  private groupBytes = 0;
  private holdAlerted = false;
  private started = false;
  private c!: IngestCounters;

  constructor(private readonly d: IngestorDeps) {
    this.drainer = new SpoolDrain({
      ...d,
      counters: () => this.c,
      settings: () => this.d.settings,
      afterBatch: () => this.releaseHeld(),
    });
    this.group = new GroupCommit<Pending>({
      journal: d.journal,
      wallClock: d.wallClock,
      settings: () => this.d.settings.groupCommit,
      committed: (members) => {
        this.groupBytes = 0;
        this.committed(members);
      },
      failed: (members, err) => {
        this.groupBytes = 0;
        // Nothing of the group is durable: hold all of it, ahead of anything held meanwhile.
        this.d.log.error(
          { err, messages: members.length },
          'could not journal a group of messages; holding it',
        );
        const before = this.held;
        this.held = [];
        for (const m of members) this.hold(m.message.msg, 'journal write failed');
        this.held.push(...before);
      },
      observe: (seconds) => {
        this.c.appendSeconds.observe(seconds);
        this.c.commits.inc();
      },
    });
  }

  start(): void {
    if (this.started) return;
    this.c = registerIngestMetrics(this.d.metrics, {
      journal: this.d.journal,
      spoolOldestAgeMs: () => this.spoolOldestAgeMs(),
      storeUp: () => this.drainer.storeUp,
      sensorCounts: () => this.d.live.sensorCounts(this.d.clock.now()),
    });
    this.timer = this.d.wallClock.setInterval(() => this.scheduleDrain(), this.d.settings.flushIntervalMs);
    this.started = true;
    this.scheduleDrain();
  }

  /** Stops the timer and makes one last attempt to move the journal into the store. */
  async stop(): Promise<void> {
    if (!this.started) return;
    this.started = false;
    this.timer?.cancel();
    this.timer = undefined;
    // The open group is journalled before the journal closes; its acknowledgements may no longer
    // reach the broker, which then redelivers and the store absorbs the repeat.
    this.group.commit();
    await this.drainer.running;
    if (this.drainer.storeUp) await this.drainer.drain(true);
    // A held message was never acknowledged: the broker redelivers it to the next session.
    this.held = [];
  }

  /** Adopts reloaded `ingest`/`spool` limits (config reload); the next message uses them. */
  applySettings(settings: IngestSettings): void {
    const intervalChanged = settings.flushIntervalMs !== this.d.settings.flushIntervalMs;
    this.d.settings = settings;
    if (intervalChanged && this.started) {
      this.timer?.cancel();
      this.timer = this.d.wallClock.setInterval(() => this.scheduleDrain(), settings.flushIntervalMs);
    }
  }

  get storeUp(): boolean {
    return this.drainer.storeUp;
  }

  get holding(): boolean {
    return this.held.length > 0;
  }

  spoolOldestAgeMs(): number {
    const oldest = this.d.journal.stats().oldestReceivedMs;
    return oldest === undefined ? 0 : Math.max(0, this.d.wallClock.now() - oldest);
  }

  /**
   * One MQTT message; `done` is called once it may be acknowledged. Returns true when the next message
   * may be delivered before `done` is called (it waits in the open group); false when ingestion is
   * holding it and the caller should read nothing more until `done`. Never throws.
   */
  handle(topic: string, payload: Buffer, done: AckCallback): boolean {
    this.c.received.inc();
    const msg = { topic, payload, done };
    if (this.held.length > 0) {
      // Behind a held message: order is kept, so this one waits too.
      this.held.push(msg);
      return false;
    }
    return this.process(msg);
  }

  /**
   * A manual in-home measurement (docs/domain.md: it counts, and outweighs a sensor). Durable like any
   * reading before this returns ok; refused with a reason otherwise.
   */
  ingestManual(reading: RoomReading): ManualResult {
    try {
      if (reading.source !== 'manual') return { ok: false, reason: 'bad_shape' };
      const refused = manualRefusal(reading, { nowMs: this.d.clock.now(), limits: this.d.settings.limits });
      if (refused) return { ok: false, reason: refused.reason };
      if (!this.d.registry().buildings.has(reading.buildingId))
        return { ok: false, reason: 'unknown_building' };
      if (this.d.journal.overBudgetWith(this.groupBytes)) return { ok: false, reason: 'spool_full' };
      const appended = this.c.appendSeconds.startTimer();
      this.d.journal.append('room', [reading], this.d.wallClock.now());
      appended();
      this.c.commits.inc();
      this.c.accepted.inc();
      this.d.live.applyRoom([reading]);
      this.d.bus.emit('roomReadings', [reading]);
      this.afterAppend();
      return { ok: true };
    } catch (err) {
      this.d.log.error({ err }, 'manual reading could not be journalled');
      return { ok: false, reason: 'journal_unavailable' };
    }
  }

  /** Submits the manual-measurement port the HTTP layer calls (http/ports.ts ManualReadingSink). */
  async submit(reading: RoomReading): Promise<ManualResult> {
    return this.ingestManual(reading);
  }

  /** Moves everything journalled into the store now (tests, shutdown). */
  async flush(): Promise<void> {
    this.group.commit();
    await this.drainer.running;
    await this.drainer.drain(true);
  }

  /** Decodes and joins the open group; false if the message is held instead. */
  private process(msg: Held): boolean {
    let result: Decoded;
    try {
      const ctx = {
        registry: this.d.registry(),
        topics: this.d.topics,
        nowMs: this.d.clock.now(),
        limits: this.d.settings.limits,
      };
      result = decodeMessage(msg.topic, msg.payload, ctx, this.d.settings.sources);
    } catch (err) {
      // decode is written not to throw; if it ever does, the message is kept as a dead letter.
      this.d.log.error({ err, topic: msg.topic }, 'decoder failed');
      result = { ok: false, reason: 'bad_shape', detail: `decoder error: ${String(err).slice(0, 200)}` };
    }
    const v = result.ok ? result.value : undefined;
    if (v?.kind === 'room' || v?.kind === 'substation') {
      if (this.d.journal.overBudgetWith(this.groupBytes)) {
        this.hold(msg, 'spool over budget');
        return false;
      }
      // The body is made here, once, so the budget counts it before the group commits.
      const body = JSON.stringify(v.readings);
      this.groupBytes += body.length;
      this.group.add(
        { msg, result },
        { kind: v.kind, readings: v.readings, receivedMs: this.d.wallClock.now(), body },
      );
    } else this.group.add({ msg, result }, undefined);
    return true;
  }

  /** The group is durable: dead letters, then each acknowledgement, then live state and events. */
  private committed(members: readonly GroupMember<Pending>[]): void {
    let appended = false;
    for (const { message, entry } of members) {
      const { msg, result } = message;
      try {
        if (!result.ok) this.reject(msg.topic, msg.payload, result.reason, result.detail);
        else
          for (const r of result.rejected)
            this.reject(msg.topic, Buffer.from(JSON.stringify(r.item) ?? ''), r.reason, r.detail);
      } catch (err) {
        // The dead-letter table could not be written (disk full, file gone): hold the message
        // unacknowledged rather than lose what it refused, and retry from the flush timer.
        this.d.log.error({ err, topic: msg.topic }, 'could not write a dead letter; holding the message');
        this.hold(msg, 'dead-letter write failed');
        continue;
      }
      msg.done();
      if (!result.ok) continue;
      this.publish(result.value);
      if (entry) appended = true;
    }
    if (appended) this.afterAppend();
  }

  private publish(v: Extract<Decoded, { ok: true }>['value']): void {
    switch (v.kind) {
      case 'room':
        this.c.accepted.inc(undefined, v.readings.length);
        this.d.live.applyRoom(v.readings);
        this.d.bus.emit('roomReadings', v.readings);
        break;
      case 'substation':
        this.c.accepted.inc(undefined, v.readings.length);
        this.d.live.applySubstation(v.readings);
        this.d.bus.emit('substationReadings', v.readings);
        break;
      case 'observation':
        this.d.live.applyObservation(v.observation);
        this.d.bus.emit('weatherObservation', v.observation);
        break;
      case 'forecast':
        this.d.live.applyForecast(v.forecast);
        this.d.bus.emit('weatherForecast', v.forecast);
        break;
      case 'status':
        this.d.live.applyStatus(v.status.sensorId, v.status.online, v.status.ts, v.status.fw);
        this.d.bus.emit('sensorStatus', v.status);
        break;
    }
  }

  private reject(topic: string, payload: Buffer, reason: RejectReason, detail: string): void {
    this.c.rejected.inc({ reason });
    this.d.deadLetters.add(topic, payload, reason, detail);
  }

  private hold(msg: Held, why: string): void {
    const alreadyHolding = this.holdAlerted;
    this.held.push(msg);
    // One count and one alert per episode, not one per retry of the same held message.
    if (alreadyHolding) return;
    this.holdAlerted = true;
    this.c.spoolRefused.inc();
    this.d.bus.emit('alert', {
      key: 'spool-over-budget',
      severity: 'critical',
      message: `ingestion stopped acknowledging (${why}); the broker keeps the messages`,
      active: true,
      ts: this.d.clock.now(),
    });
  }

  private releaseHeld(): void {
    if (this.held.length === 0 || this.d.journal.overBudget) return;
    const waiting = this.held;
    this.held = [];
    // In order; once one is held again, the rest stay behind it.
    for (const m of waiting) {
      if (this.held.length > 0) this.held.push(m);
      else this.process(m);
    }
    this.group.commit();
    if (this.held.length > 0) return; // still cannot write: held again, the alert stays active
    this.holdAlerted = false;
    this.d.bus.emit('alert', {
      key: 'spool-over-budget',
      severity: 'critical',
      message: 'ingestion acknowledges again',
      active: false,
      ts: this.d.clock.now(),
    });
  }

  private afterAppend(): void {
    if (this.d.journal.pendingReadings >= this.d.settings.batchSize) this.scheduleDrain();
  }

  private scheduleDrain(): void {
    if (this.drainQueued || this.drainer.running || !this.started) return;
    this.drainQueued = true;
    setImmediate(() => {
      this.drainQueued = false;
      if (this.held.length > 0) this.releaseHeld();
      void this.drainer.drain(false);
    });
  }
}
