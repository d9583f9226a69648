import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import { type Db, statementCache } from '../storage/sqlite.ts';
import type { SetpointPayload, SetpointPublisher } from './types.ts';

/** Whether the substation has been seen to run a published command (docs/rules.md "Confirmation"). */
export type ConfirmState = 'awaiting' | 'confirmed' | 'not-confirmed' | 'superseded';

/** One setpoint command as the outbox keeps it. */
export interface SetpointCommand {
  commandId: string;
  ticketId: string;
  substationId: string;
  payload: SetpointPayload;
  createdTs: number;
  attempts: number;
  lastError?: string;
  /** Heating-clock time the broker acknowledged it; absent while it waits in the outbox. */
  publishedTs?: number;
  confirm: ConfirmState;
  /** Heating-clock time of the first report showing it in force (or the verdict `not confirmed`). */
  confirmTs?: number;
  /** What the controller reported at the last verdict. */
  reported?: { supplyOffsetC?: number; setpointId?: string; ts: number };
}

interface Row {
  seq: number;
  command_id: string;
  ticket_id: string;
  substation_id: string;
  payload: string;
  created_ts: number;
  attempts: number;
  last_error: string | null;
  published_ts: number | null;
  confirm_state: ConfirmState;
  confirm_ts: number | null;
  reported: string | null;
}

/** Writes an event row on a ticket's history (TicketService's, so the history has one writer shape). */
export type TicketNote = (ticketId: string, kind: string, actor: string, reason: string) => void;

/**
 * The setpoint outbox: a command row is written in the same transaction as the ticket change that
 * causes it (apply, or the revert at a re-check), so a crash can never leave an applied ticket
 * without its command or a command without its ticket. One drainer per process publishes the rows
 * in order, per substation (retained messages have absolute semantics, so a later command must
 * never overtake an earlier one), marks each once the broker acknowledged it (QoS 1), and retries
 * a refused one with backoff. A crash between the broker's ack and the mark publishes that command
 * again after the restart: the payload's `setpointId` lets a controller see it already has it.
 */
export class SetpointOutbox {
  private busy = false;
  private again = false;
  private current: Promise<number> = Promise.resolve(0);
  private retryTimer: NodeJS.Timeout | undefined;
  private failedDrains = 0;
  private stopped = false;
  private readonly stmt: ReturnType<typeof statementCache>;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly publisher: SetpointPublisher,
    private readonly rules: () => RulesConfig,
    private readonly log: Logger,
    private readonly note: TicketNote,
  ) {
    this.stmt = statementCache(db);
  }

  /** Queues a command; call it inside the transaction that records why it is sent. */
  enqueue(ticketId: string, substationId: string, payload: SetpointPayload): void {
    this.stmt(
      `INSERT INTO setpoint_outbox (command_id, ticket_id, substation_id, payload, created_ts)
         VALUES (?, ?, ?, ?, ?)`,
    ).run(payload.setpointId, ticketId, substationId, JSON.stringify(payload), this.clock.now());
  }

  /** Publishes whatever is pending now (at start, after a restart, and after each enqueue). */
  start(): void {
    this.stopped = false;
    this.kick();
  }

  /** No more retries; a command still pending stays in the table for the next start. */
  stop(): void {
    this.stopped = true;
    if (this.retryTimer) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
  }

  /** Starts a drain unless one runs; a running one goes round again for what was added meanwhile. */
  kick(): void {
    if (this.stopped) return;
    void this.drainOnce().catch((err: unknown) => this.log.error({ err }, 'setpoint outbox drain failed'));
  }

  /**
   * Publishes every pending command through the SetpointPublisher and marks each acknowledged;
   * resolves with how many were published. Direct-coupled harnesses call it each step; a call
   * while a drain runs joins that drain (which then goes round once more).
   */
  drainOnce(): Promise<number> {
    if (this.busy) {
      this.again = true;
      return this.current;
    }
    this.current = this.drainLoop();
    return this.current;
  }

  /** Commands of a ticket, oldest first. */
  commandsOf(ticketId: string): SetpointCommand[] {
    return (
      this.stmt('SELECT * FROM setpoint_outbox WHERE ticket_id = ? ORDER BY seq').all(ticketId) as Row[]
    ).map(fromRow);
  }

  /** Commands not yet acknowledged by the broker, in the order they must go out. */
  pending(): SetpointCommand[] {
    return (
      this.stmt('SELECT * FROM setpoint_outbox WHERE published_ts IS NULL ORDER BY seq').all() as Row[]
    ).map(fromRow);
  }

  /** Published commands still waiting for (or missing) the substation's confirmation. */
  unconfirmed(): SetpointCommand[] {
    return (
      this.stmt(
        `SELECT * FROM setpoint_outbox WHERE published_ts IS NOT NULL
           AND confirm_state IN ('awaiting', 'not-confirmed') ORDER BY seq`,
      ).all() as Row[]
    ).map(fromRow);
  }

  /** The supply offset the substation's previous command asked for (0, the neutral one, before any). */
  offsetBefore(cmd: SetpointCommand): number {
    const row = this.stmt(
      `SELECT payload FROM setpoint_outbox WHERE substation_id = ?
         AND seq < (SELECT seq FROM setpoint_outbox WHERE command_id = ?) ORDER BY seq DESC LIMIT 1`,
    ).get(cmd.substationId, cmd.commandId) as { payload: string } | undefined;
    return row ? (JSON.parse(row.payload) as SetpointPayload).supplyOffset : 0;
  }

  /** Records a confirmation verdict (ConfirmationWatcher decides it). */
  setConfirm(commandId: string, state: ConfirmState, ts: number, reported?: SetpointCommand['reported']) {
    this.stmt(
      'UPDATE setpoint_outbox SET confirm_state = ?, confirm_ts = ?, reported = ? WHERE command_id = ?',
    ).run(state, ts, reported ? JSON.stringify(reported) : null, commandId);
  }

  private async drainLoop(): Promise<number> {
    this.busy = true;
    let published = 0;
    try {
      do {
        this.again = false;
        published += await this.drainPass();
      } while (this.again && !this.stopped);
    } finally {
      this.busy = false;
    }
    return published;
  }

  /** One pass over the pending rows; a refused command holds back its substation's later ones. */
  private async drainPass(): Promise<number> {
    const blocked = new Set<string>();
    let published = 0;
    for (const cmd of this.pending()) {
      if (blocked.has(cmd.substationId) || !this.db.open) continue;
      try {
        await this.publisher.publish(cmd.substationId, cmd.payload);
      } catch (err) {
        blocked.add(cmd.substationId);
        this.recordFailure(cmd, err as Error);
        continue;
      }
      // Closed while the broker answered (shutdown): the row stays pending and goes out again at start.
      if (!this.db.open) break;
      this.markPublished(cmd);
      published++;
    }
    if (blocked.size > 0) this.scheduleRetry();
    else this.failedDrains = 0;
    return published;
  }

  private markPublished(cmd: SetpointCommand): void {
    const now = this.clock.now();
    this.db.transaction(() => {
      this.stmt(
        'UPDATE setpoint_outbox SET published_ts = ?, attempts = attempts + 1 WHERE command_id = ?',
      ).run(now, cmd.commandId);
      // An older command of the substation that was never confirmed is overtaken by this one.
      this.stmt(
        `UPDATE setpoint_outbox SET confirm_state = 'superseded', confirm_ts = ?
           WHERE substation_id = ? AND published_ts IS NOT NULL AND command_id <> ?
             AND confirm_state IN ('awaiting', 'not-confirmed')`,
      ).run(now, cmd.substationId, cmd.commandId);
      const tries = cmd.attempts + 1;
      this.note(
        cmd.ticketId,
        'setpoint-published',
        'outbox',
        `setpoint ${cmd.commandId} acknowledged by the broker${tries > 1 ? ` after ${tries} attempts` : ''}`,
      );
    })();
  }

  private recordFailure(cmd: SetpointCommand, err: Error): void {
    if (!this.db.open) return;
    this.stmt('UPDATE setpoint_outbox SET attempts = attempts + 1, last_error = ? WHERE command_id = ?').run(
      err.message,
      cmd.commandId,
    );
    // The first failure goes into the ticket's history; the retries only count (attempts).
    if (cmd.attempts === 0)
      this.note(
        cmd.ticketId,
        'setpoint-retry',
        'outbox',
        `setpoint ${cmd.commandId} not acknowledged (${err.message}); retried until it is`,
      );
    this.log.warn({ commandId: cmd.commandId, attempts: cmd.attempts + 1, err }, 'setpoint publish failed');
  }

  /** Exponential backoff on the wall clock, from `setpoint.retryBaseMs` up to `retryMaxMs`. */
  private scheduleRetry(): void {
    if (this.stopped || this.retryTimer) return;
    const cfg = this.rules().setpoint;
    const waitMs = Math.min(cfg.retryMaxMs, cfg.retryBaseMs * 2 ** Math.min(this.failedDrains, 30));
    this.failedDrains++;
    this.retryTimer = setTimeout(() => {
      this.retryTimer = undefined;
      this.kick();
    }, waitMs);
    this.retryTimer.unref();
  }
}

function fromRow(r: Row): SetpointCommand {
  return {
    commandId: r.command_id,
    ticketId: r.ticket_id,
    substationId: r.substation_id,
    payload: JSON.parse(r.payload) as SetpointPayload,
    createdTs: r.created_ts,
    attempts: r.attempts,
    lastError: r.last_error ?? undefined,
    publishedTs: r.published_ts ?? undefined,
    confirm: r.confirm_state,
    confirmTs: r.confirm_ts ?? undefined,
    reported: r.reported ? (JSON.parse(r.reported) as SetpointCommand['reported']) : undefined,
  };
}
