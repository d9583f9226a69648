import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';

/** A failure of the ticket store that says it cannot be reached now (a coded 503, src/storage/sql.ts), not a bug. */
const storeUnreachable = (err: unknown): boolean => (err as { statusCode?: unknown })?.statusCode === 503;

/**
 * The rules' pause while the ticket store (the ops database) cannot be reached: a tick that fails
 * for that reason pauses the rules visibly — one warning, a critical `alert` on the bus, the
 * `heatwatch_rules_paused` gauge (main reads `since`) — and the next tick that succeeds resumes
 * them, saying how long they were paused. Ticks keep running meanwhile; nothing is judged on a
 * store it cannot read, and no decision is half-written (each ticket write is one transaction).
 */
export class StorePause {
  /** Heating-clock time of the first failed tick of the current pause; undefined while running. */
  since: number | undefined;

  constructor(
    private readonly log: Logger,
    private readonly bus: EventBus<HeatEvents> | undefined,
  ) {}

  /** A tick failed: true when it was the store being unreachable (handled here). */
  failed(err: unknown, now: number): boolean {
    if (!storeUnreachable(err)) return false;
    if (this.since === undefined) {
      this.since = now;
      const message = 'rules paused: the ticket store is not reachable; they resume by themselves';
      this.log.warn({ err }, message);
      this.bus?.emit('alert', { key: 'rules-paused', severity: 'critical', message, active: true, ts: now });
    }
    return true;
  }

  /** A tick succeeded. */
  ok(now: number): void {
    if (this.since === undefined) return;
    const pausedS = Math.round((now - this.since) / 1000);
    this.since = undefined;
    const message = `rules resumed after ${pausedS} s: the ticket store answers again`;
    this.log.info({ pausedS }, message);
    this.bus?.emit('alert', { key: 'rules-paused', severity: 'critical', message, active: false, ts: now });
  }
}
