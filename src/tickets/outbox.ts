import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { Logger } from '../core/log.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
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

/**
 * Writes an event row on a ticket's history (TicketService's, so the history has one writer shape);
 * `q`: the transaction it belongs to, if any.
 */
export type TicketNote = (
  ticketId: string,
  kind: string,
  actor: string,
  reason: string,
  q?: SqlExecutor,
) => Promise<void>;

/**
 * The setpoint outbox: a command row is written in the same transaction as the ticket change that
 * causes it (apply, or the revert at a re-check), so a crash can never leave an applied ticket
 * without its command or a command without its ticket. One drainer per process publishes the rows
 * in order, per substation (retained messages have absolute semantics, so a later command must
 * never overtake an earlier one), marks each once the broker acknowledged it (QoS 1), and retries
 * a refused one with backoff. A crash between the broker's ack and the mark publishes that command
 * again after the restart: the payload's `setpointId` lets a controller see it already has it.
 * Several instances on one PostgreSQL database each drain, but a command is claimed (`claimed_by`,
 * until `setpoint.claimMs` later) before it is published, so only one of them sends it.
 */
export class SetpointOutbox {
  private busy = false;
  private again = false;
  private current: Promise<number> = Promise.resolve(0);
  private retryTimer: NodeJS.Timeout | undefined;
  private failedDrains = 0;
  private stopped = false;

  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
    private readonly publisher: SetpointPublisher,
    private readonly rules: () => RulesConfig,
    private readonly log: Logger,
    private readonly note: TicketNote,
    /** This instance's name in claims (several instances may drain one database). */
    private readonly claimer: string,
  ) {}

  /** Queues a command; call it with `q`, the transaction that records why it is sent. */
  async enqueue(q: SqlExecutor, ticketId: string, substationId: string, payload: SetpointPayload) {
    await q.run(
      `INSERT INTO setpoint_outbox (command_id, ticket_id, substation_id, payload, created_ts)
         VALUES (?, ?, ?, ?, ?)`,
      [payload.setpointId, ticketId, substationId, JSON.stringify(payload), this.clock.now()],
    );
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
    void this.drainOnce().catch((err: unknown) => {
      // The database refused (unreachable): the pending rows stay; the retry timer comes back.
      this.log.error({ err }, 'setpoint outbox drain failed');
      this.scheduleRetry();
    });
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
  async commandsOf(ticketId: string): Promise<SetpointCommand[]> {
    return this.select('WHERE ticket_id = ?', [ticketId]);
  }

  /** Commands not yet acknowledged by the broker, in the order they must go out. */
  async pending(): Promise<SetpointCommand[]> {
    return this.select('WHERE published_ts IS NULL', []);
  }

  /** Published commands still waiting for (or missing) the substation's confirmation. */
  async unconfirmed(): Promise<SetpointCommand[]> {
    return this.select(
      "WHERE published_ts IS NOT NULL AND confirm_state IN ('awaiting', 'not-confirmed')",
      [],
    );
  }

  private async select(where: string, args: unknown[]): Promise<SetpointCommand[]> {
    return (await this.db.all<Row>(`SELECT * FROM setpoint_outbox ${where} ORDER BY seq`, args)).map(fromRow);
  }

  /** The supply offset the substation's previous command asked for (0, the neutral one, before any). */
  async offsetBefore(cmd: SetpointCommand): Promise<number> {
    const row = await this.db.get<{ payload: string }>(
      `SELECT payload FROM setpoint_outbox WHERE substation_id = ?
         AND seq < (SELECT seq FROM setpoint_outbox WHERE command_id = ?) ORDER BY seq DESC LIMIT 1`,
      [cmd.substationId, cmd.commandId],
    );
    return row ? (JSON.parse(row.payload) as SetpointPayload).supplyOffset : 0;
  }

  /** Records a confirmation verdict (ConfirmationWatcher decides it). */
  async setConfirm(
    commandId: string,
    state: ConfirmState,
    ts: number,
    reported?: SetpointCommand['reported'],
  ): Promise<void> {
    await this.db.run(
      'UPDATE setpoint_outbox SET confirm_state = ?, confirm_ts = ?, reported = ? WHERE command_id = ?',
      [state, ts, reported ? JSON.stringify(reported) : null, commandId],
    );
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

  /**
   * One pass over the pending rows; a refused command holds back its substation's later ones, and so
   * does one another instance is sending (claimed): order per substation is kept across instances.
   * A database that fails mid-pass ends the pass; the retry timer comes back to it.
   */
  private async drainPass(): Promise<number> {
    const blocked = new Set<string>();
    let published = 0;
    for (const cmd of await this.pending()) {
      if (blocked.has(cmd.substationId) || this.stopped) continue;
      if (!(await this.claim(cmd))) {
        blocked.add(cmd.substationId);
        continue;
      }
      try {
        await this.publisher.publish(cmd.substationId, cmd.payload);
      } catch (err) {
        blocked.add(cmd.substationId);
        await this.recordFailure(cmd, err as Error);
        continue;
      }
      try {
        await this.markPublished(cmd);
      } catch (err) {
        // Stopped (shutdown) or the database went away while the broker answered: the row stays
        // pending and goes out again (same setpointId) once its claim lapses or at the next start.
        if (this.stopped) break;
        throw err;
      }
      published++;
    }
    if (blocked.size > 0) this.scheduleRetry();
    else this.failedDrains = 0;
    return published;
  }

  /**
   * Takes a pending command for this instance until `setpoint.claimMs` from now (wall clock). On
   * SQLite one process owns the file and its one drainer needs no claim (a restart after a crash
   * sends at once what the crash left pending).
   */
  private async claim(cmd: SetpointCommand): Promise<boolean> {
    if (this.db.dialect === 'sqlite') return true;
    const now = Date.now();
    const got = await this.db.all<{ seq: number }>(
      `UPDATE setpoint_outbox SET claimed_by = ?, claimed_until = ?
         WHERE command_id = ? AND published_ts IS NULL
           AND (claimed_until IS NULL OR claimed_until < ? OR claimed_by = ?)
         RETURNING seq`,
      [this.claimer, now + this.rules().setpoint.claimMs, cmd.commandId, now, this.claimer],
    );
    return got.length === 1;
  }

  private async markPublished(cmd: SetpointCommand): Promise<void> {
    const now = this.clock.now();
    await this.db.tx(async (q) => {
      await q.run(
        `UPDATE setpoint_outbox SET published_ts = ?, attempts = attempts + 1, claimed_by = NULL,
           claimed_until = NULL WHERE command_id = ?`,
        [now, cmd.commandId],
      );
      // An older command of the substation that was never confirmed is overtaken by this one.
      await q.run(
        `UPDATE setpoint_outbox SET confirm_state = 'superseded', confirm_ts = ?
           WHERE substation_id = ? AND published_ts IS NOT NULL AND command_id <> ?
             AND confirm_state IN ('awaiting', 'not-confirmed')`,
        [now, cmd.substationId, cmd.commandId],
      );
      const tries = cmd.attempts + 1;
      const why = `setpoint ${cmd.commandId} acknowledged by the broker${tries > 1 ? ` after ${tries} attempts` : ''}`;
      await this.note(cmd.ticketId, 'setpoint-published', 'outbox', why, q);
    });
  }

  private async recordFailure(cmd: SetpointCommand, err: Error): Promise<void> {
    this.log.warn({ commandId: cmd.commandId, attempts: cmd.attempts + 1, err }, 'setpoint publish failed');
    if (this.stopped) return;
    await this.db.run(
      `UPDATE setpoint_outbox SET attempts = attempts + 1, last_error = ?, claimed_by = NULL,
         claimed_until = NULL WHERE command_id = ?`,
      [err.message, cmd.commandId],
    );
    // The first failure goes into the ticket's history; the retries only count (attempts).
    if (cmd.attempts === 0)
      await this.note(
        cmd.ticketId,
        'setpoint-retry',
        'outbox',
        `setpoint ${cmd.commandId} not acknowledged (${err.message}); retried until it is`,
      );
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
