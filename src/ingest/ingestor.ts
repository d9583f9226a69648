import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import {
  type Counter,
  type Histogram,
  JOURNAL_APPEND_BUCKETS_S,
  METRIC,
  type MetricsRegistry,
  STORE_WRITE_BUCKETS_S,
} from '../core/metrics.ts';
import type { RejectReason, RoomReading } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Topics } from '../mqtt/topics.ts';
import type { LiveState } from '../state/live-state.ts';
import type { DeadLetters } from '../storage/dead-letters.ts';
import type { Journal } from '../storage/journal.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import { type DecodeLimits, type decode, parseTs, ROOM_TEMP_MAX_C, ROOM_TEMP_MIN_C } from './decode.ts';
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

export type ManualResult = { ok: true } | { ok: false; reason: string };

/**
 * The ingestion pipeline: decode → journal (durable) → acknowledge → live state and events; then
 * journal → reading store in batches, in order, with backoff while the store is down.
 *
 * The acknowledgement follows durability: `handle` calls `done` only after the message is in the
 * journal (or, if refused, in the dead-letter table). When the journal is over its disk budget or
 * cannot be written, the message is held and `done` is not called: mqtt.js then reads no further
 * packets, the broker keeps everything unacknowledged, and an `alert` says so (never silent).
 */
export class Ingestor {
  private timer: TimerHandle | undefined;
  private readonly drainer: SpoolDrain;
  private drainQueued = false;
  private held: Held | undefined;
  private holdAlerted = false;
  private started = false;
  private c!: {
    received: Counter;
    accepted: Counter;
    rejected: Counter;
    stored: Counter;
    storeFailures: Counter;
    spoolRefused: Counter;
    writeSeconds: Histogram;
    appendSeconds: Histogram;
  };

  constructor(private readonly d: IngestorDeps) {
    this.drainer = new SpoolDrain({
      ...d,
      counters: () => this.c,
      settings: () => this.d.settings,
      afterBatch: () => this.releaseHeld(),
    });
  }

  start(): void {
    if (this.started) return;
    const m = this.d.metrics;
    this.c = {
      received: m.counter(METRIC.messagesReceived, 'MQTT messages received by ingestion.'),
      accepted: m.counter(METRIC.readingsAccepted, 'Readings accepted (validated and journalled).'),
      rejected: m.counter(METRIC.readingsRejected, 'Messages or readings refused, by reason.'),
      stored: m.counter(METRIC.readingsStored, 'Readings confirmed by the reading store.'),
      storeFailures: m.counter(
        'heatwatch_store_write_failures_total',
        'Reading-store batch writes that failed.',
      ),
      spoolRefused: m.counter(
        'heatwatch_spool_over_budget_total',
        'Times a message was held unacknowledged because the spool was over its disk budget.',
      ),
      writeSeconds: m.histogram(
        METRIC.storeWriteSeconds,
        'Reading-store batch write latency.',
        STORE_WRITE_BUCKETS_S,
      ),
      appendSeconds: m.histogram(
        METRIC.journalAppendSeconds,
        'Journal (spool) append latency, per accepted message.',
        JOURNAL_APPEND_BUCKETS_S,
      ),
    };
    m.gauge(
      METRIC.spoolDepth,
      'Readings journalled but not yet confirmed by the reading store.',
      () => this.d.journal.pendingReadings,
    );
    m.gauge(
      'heatwatch_spool_bytes',
      'Bytes of journalled readings waiting for the store.',
      () => this.d.journal.stats().bytes,
    );
    m.gauge(
      'heatwatch_spool_oldest_age_seconds',
      'Age of the oldest reading waiting for the store.',
      () => this.spoolOldestAgeMs() / 1000,
    );
    m.gauge(
      METRIC.storeUp,
      'Whether the reading store takes writes (0 while readings wait in the spool).',
      () => (this.drainer.storeUp ? 1 : 0),
    );
    m.gauge(METRIC.sensors, 'Room sensors by state.', () => {
      const n = this.d.live.sensorCounts(this.d.clock.now());
      return [
        { labels: { state: 'online' }, value: n.online },
        { labels: { state: 'offline' }, value: n.offline },
      ];
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
    await this.drainer.running;
    if (this.drainer.storeUp) await this.drainer.drain(true);
    // A held message was never acknowledged: the broker redelivers it to the next session.
    this.held = undefined;
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
    return this.held !== undefined;
  }

  spoolOldestAgeMs(): number {
    const oldest = this.d.journal.stats().oldestReceivedMs;
    return oldest === undefined ? 0 : Math.max(0, this.d.wallClock.now() - oldest);
  }

  /** One MQTT message; `done` is called once it may be acknowledged. Never throws. */
  handle(topic: string, payload: Buffer, done: AckCallback): void {
    this.c.received.inc();
    if (this.held) {
      // mqtt.js delivers one message at a time, so this only happens if a caller ignores `done`.
      done(new Error('ingestion is holding a message; retry later'));
      return;
    }
    this.process({ topic, payload, done });
  }

  /**
   * A manual in-home measurement (docs/domain.md: it counts, and outweighs a sensor). Durable like any
   * reading before this returns ok; refused with a reason otherwise.
   */
  ingestManual(reading: RoomReading): ManualResult {
    try {
      if (reading.source !== 'manual') return { ok: false, reason: 'bad_shape' };
      if (!Number.isFinite(reading.tempC)) return { ok: false, reason: 'temp_not_number' };
      if (reading.tempC < ROOM_TEMP_MIN_C || reading.tempC > ROOM_TEMP_MAX_C)
        return { ok: false, reason: 'temp_out_of_range' };
      const ts = parseTs(reading.ts);
      const now = this.d.clock.now();
      const lim = this.d.settings.limits;
      if (ts === undefined) return { ok: false, reason: 'ts_unparsable' };
      if (ts > now + lim.futureToleranceMs) return { ok: false, reason: 'ts_in_future' };
      if (ts < now - lim.maxReadingAgeMs) return { ok: false, reason: 'ts_too_old' };
      if (!this.d.registry().buildings.has(reading.buildingId))
        return { ok: false, reason: 'unknown_building' };
      if (this.d.journal.overBudget) return { ok: false, reason: 'spool_full' };
      const appended = this.c.appendSeconds.startTimer();
      this.d.journal.append('room', [reading], this.d.wallClock.now());
      appended();
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
    await this.drainer.running;
    await this.drainer.drain(true);
  }

  private process(msg: Held): void {
    let result: ReturnType<typeof decode>;
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
    try {
      if (!result.ok) {
        this.reject(msg.topic, msg.payload, result.reason, result.detail);
        msg.done();
        return;
      }
      const v = result.value;
      if (v.kind === 'room' || v.kind === 'substation') {
        if (this.d.journal.overBudget) {
          this.hold(msg, 'spool over budget');
          return;
        }
        const appended = this.c.appendSeconds.startTimer();
        this.d.journal.append(v.kind, v.readings, this.d.wallClock.now());
        appended();
      }
      for (const r of result.rejected)
        this.reject(msg.topic, Buffer.from(JSON.stringify(r.item) ?? ''), r.reason, r.detail);
      msg.done();
      this.publish(v);
      if (v.kind === 'room' || v.kind === 'substation') this.afterAppend();
    } catch (err) {
      // The journal or the dead-letter table could not be written (disk full, file gone): hold the
      // message unacknowledged rather than lose it, and retry from the flush timer.
      this.d.log.error({ err, topic: msg.topic }, 'could not make a message durable; holding it');
      this.hold(msg, 'journal write failed');
    }
  }

  private publish(v: Extract<ReturnType<typeof decode>, { ok: true }>['value']): void {
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
    this.held = msg;
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
    const h = this.held;
    if (!h || this.d.journal.overBudget) return;
    this.held = undefined;
    this.process(h);
    if (this.held) return; // still cannot write: held again, the alert stays active
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
      if (this.held) this.releaseHeld();
      void this.drainer.drain(false);
    });
  }
}
