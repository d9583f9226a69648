import type { Clock } from '../core/clock.ts';
import { Errors } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
import { nextStatus, startsFrom, type TicketAction } from './lifecycle.ts';
import { isOneOpenViolation, TicketStore } from './ticket-store.ts';
import type { Ticket, TicketStatus } from './types.ts';

/** How often a proposal that raced another instance's for the same (target, problem) is tried again. */
const ONE_OPEN_RETRIES = 3;

/**
 * One ticket transaction: the store on the transaction's connection, and the status changes made in
 * it, announced as `ticketChanged` only once it committed (a listener never sees a rolled-back change).
 */
export class TicketTx {
  readonly store: TicketStore;
  readonly changes: HeatEvents['ticketChanged'][] = [];

  constructor(
    readonly q: SqlExecutor,
    private readonly clock: Clock,
  ) {
    this.store = new TicketStore(q);
  }

  /** The ticket, if `action` is allowed from its status now; else a coded 404 / 409. */
  async check(id: string, action: TicketAction): Promise<Ticket> {
    const t = await this.store.ticket(id);
    if (!t) throw Errors.notFound(`No ticket ${id}.`);
    if (!nextStatus(t.status, action))
      throw Errors.conflict(
        `Ticket ${id} is ${t.status}; ${action} needs it to be ${startsFrom(action).join(' or ')}.`,
      );
    return t;
  }

  /**
   * Moves a ticket by `action` as the transition table (lifecycle.ts) allows, compare-and-set on the
   * status it was read in, so a status changed in between — by this instance or another on the same
   * database — is never overwritten (a 409 instead), and writes the event row.
   */
  async transition(
    id: string,
    action: TicketAction,
    actor: string,
    reason: string,
    extra: { autoApply?: boolean } = {},
  ): Promise<TicketStatus> {
    const now = this.clock.now();
    const t = await this.store.ticket(id);
    if (!t) throw Errors.notFound(`No ticket ${id}.`);
    const from = t.status;
    const to = nextStatus(from, action);
    if (!to) throw Errors.conflict(`Ticket ${id} is ${from}; ${action} is not allowed from there.`);
    if (!(await this.store.setStatus(id, from, to, now, extra.autoApply)))
      throw Errors.conflict(`Ticket ${id} changed meanwhile; ${action} not done.`);
    await this.store.event(id, now, to, actor, from, to, reason);
    this.changes.push({
      ticketId: id,
      status: to,
      previousStatus: from,
      target: t.targetId,
      problem: t.problem,
      actor,
      ts: now,
    });
    return to;
  }

  /** A new ticket's creation, announced like a transition. */
  created(t: Pick<Ticket, 'targetId' | 'problem'>, id: string): void {
    this.changes.push({
      ticketId: id,
      status: 'proposed',
      previousStatus: undefined,
      target: t.targetId,
      problem: t.problem,
      actor: 'rules',
      ts: this.clock.now(),
    });
  }
}

/** Runs ticket transactions on one database and announces what committed. */
export class TicketTxRunner {
  constructor(
    private readonly db: SqlDb,
    private readonly clock: Clock,
    private readonly bus: EventBus<HeatEvents>,
  ) {}

  /** `fn` in one transaction; its status changes are emitted in order once it committed. */
  async run<T>(fn: (tx: TicketTx) => Promise<T>): Promise<T> {
    let changes: TicketTx['changes'] = [];
    const out = await this.db.tx(async (q) => {
      const tx = new TicketTx(q, this.clock);
      const r = await fn(tx);
      changes = tx.changes;
      return r;
    });
    for (const c of changes) this.bus.emit('ticketChanged', c);
    return out;
  }

  /**
   * Runs `attempt` again when the database refused a second open ticket for one (target, problem):
   * another instance opened it between our read and our insert, so the next attempt finds it.
   */
  async racingOneOpen<T>(attempt: () => Promise<T>): Promise<T> {
    for (let i = 1; ; i++) {
      try {
        return await attempt();
      } catch (err) {
        if (!isOneOpenViolation(err) || i >= ONE_OPEN_RETRIES) throw err;
      }
    }
  }
}
