import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { LiveEventName, LiveEvents } from '../http/wire.ts';
import type { SqlDb } from '../storage/sql.ts';
import {
  appendLive,
  type FeedEvent,
  LiveFeedFollower,
  type LiveFeedSettings,
  pruneLive,
} from './live-feed.ts';

/** The bus events a city shares between instances, and their name on the live stream. */
export const SHARED_EVENTS = {
  ticketChanged: 'ticket',
  caseChanged: 'case',
  buildingStatus: 'building',
} as const satisfies Partial<Record<keyof HeatEvents, LiveEventName>>;

export type SharedEvent = keyof typeof SHARED_EVENTS;

export interface LiveBridgeSettings extends LiveFeedSettings {
  /** Events older than this are deleted from the feed (it is not a history). */
  retentionMs: number;
  /** How often this instance deletes them. */
  pruneIntervalMs: number;
}

export interface LiveBridgeOptions {
  bus: EventBus<HeatEvents>;
  db: SqlDb;
  url: string;
  schema?: string;
  /** This instance's name, written on the events it appends. */
  origin: string;
  /**
   * Which of this instance's bus events it appends. Building states only where the rules judge
   * them: an API-only instance shows the rules' judgement it receives (relayed onto its bus), and
   * must not append it again.
   */
  share: readonly SharedEvent[];
  /** The live stream of this instance (LiveHub in `feed` mode). */
  publish<K extends LiveEventName>(event: K, data: LiveEvents[K]): void;
  settings: () => LiveBridgeSettings;
  wallClock: Clock;
  log: Logger;
}

/**
 * Joins an instance to the city's live feed (src/ops/live-feed.ts): what happens here (a ticket
 * approved on this API instance, a building judged by this rules instance) is appended; what the
 * feed holds, from any instance and in the feed's order, goes to this instance's live stream. A
 * building state from another instance is also announced on this bus, so this instance's building
 * view shows the rules' judgement, as in one process.
 *
 * An append happens after the change committed: an instance killed between the two loses that live
 * event (the dashboard shows the change at its next load), never the change itself.
 */
export class LiveBridge {
  private readonly follower: LiveFeedFollower;
  private offs: Array<() => void> = [];
  private relaying = false;
  private pruneTimer: TimerHandle | undefined;
  /** Appends in flight, in order: one instance's events enter the feed in the order they happened. */
  private appends: Promise<unknown> = Promise.resolve();
  appendFailures = 0;

  constructor(private readonly o: LiveBridgeOptions) {
    this.follower = new LiveFeedFollower({
      url: o.url,
      schema: o.schema,
      db: o.db,
      settings: o.settings,
      wallClock: o.wallClock,
      onEvent: (e) => this.deliver(e),
      log: o.log,
    });
  }

  get feed(): LiveFeedFollower {
    return this.follower;
  }

  async start(): Promise<void> {
    await this.follower.start();
    for (const kind of this.o.share)
      this.offs.push(
        this.o.bus.on(kind, 'live-bridge', (body) => {
          if (!this.relaying) this.append(kind, body);
        }),
      );
    this.pruneTimer = this.o.wallClock.setInterval(() => {
      void pruneLive(this.o.db, this.o.wallClock.now() - this.o.settings().retentionMs).catch(
        (err: unknown) => this.o.log.warn({ err }, 'live feed: prune failed'),
      );
    }, this.o.settings().pruneIntervalMs);
  }

  /** Resolves once every append made so far has been tried (tests, orderly stop). */
  idle(): Promise<unknown> {
    return this.appends;
  }

  async stop(): Promise<void> {
    for (const off of this.offs) off();
    this.offs = [];
    this.pruneTimer?.cancel();
    await this.appends;
    await this.follower.stop();
  }

  private append(kind: SharedEvent, body: unknown): void {
    this.appends = this.appends.then(() =>
      appendLive(this.o.db, { kind, origin: this.o.origin, body, tsMs: this.o.wallClock.now() }).catch(
        (err: unknown) => {
          this.appendFailures++;
          this.o.log.warn({ err, kind }, 'live feed: event not shared (database unreachable)');
        },
      ),
    );
  }

  private deliver(e: FeedEvent): void {
    const name = SHARED_EVENTS[e.kind as SharedEvent];
    if (name === undefined) return;
    if (e.kind === 'buildingStatus' && e.origin !== this.o.origin) {
      this.relaying = true;
      try {
        this.o.bus.emit('buildingStatus', e.body as HeatEvents['buildingStatus']);
      } finally {
        this.relaying = false;
      }
    }
    this.o.publish(name, e.body as LiveEvents[typeof name]);
  }
}
