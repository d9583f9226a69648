import { randomUUID } from 'node:crypto';
import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { SubstationReading } from '../core/readings.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
import { type SetpointStatus, setpointStatus } from './confirmation.ts';
import { nextStatus } from './lifecycle.ts';
import { type SetpointCommand, SetpointOutbox } from './outbox.ts';
import { type ProposeResult, proposeIn } from './proposals.ts';
import { commandIdOf, nextSetpoint, toPayload } from './setpoints.ts';
import { type DueRecheck, TicketStore } from './ticket-store.ts';
import { type TicketTx, TicketTxRunner } from './ticket-tx.ts';
import {
  OPEN_STATUSES,
  type Problem,
  type Proposal,
  type RecheckOutcome,
  SETTLING_STATUSES,
  type SetpointInForce,
  type SetpointPublisher,
  type Ticket,
  type TicketEvent,
  type TicketFilter,
} from './types.ts';

const HOUR_MS = 3_600_000;

export type { ProposeResult } from './proposals.ts';

export interface TicketServiceOptions {
  /** This instance's name in re-check and outbox claims (several instances may share one database). */
  instance?: string;
}

/**
 * Adjustment tickets: lifecycle, evidence, the setpoints in force, and the re-check schedule, in the
 * operational database (SQLite, or a city's PostgreSQL shared by several instances). Every
 * transition is checked against the one transition table (lifecycle.ts), compare-and-set on the
 * status it was read in, and writes an event row (actor, time, reason) in the same transaction; it
 * is announced as `ticketChanged` once committed. Two requests on one ticket, from one instance or
 * two, are served one after the other: the second sees the first's result and gets a 409.
 */
export class TicketService {
  private readonly store: TicketStore;
  private readonly txs: TicketTxRunner;
  /** The setpoint commands, published by one drainer (`outbox.start()`, `outbox.drainOnce()`). */
  readonly outbox: SetpointOutbox;
  /** This instance's name in claims. */
  readonly instance: string;

  constructor(
    db: SqlDb,
    private readonly clock: Clock,
    bus: EventBus<HeatEvents>,
    publisher: SetpointPublisher,
    private readonly rules: () => RulesConfig,
    private readonly log: Logger,
    opts: TicketServiceOptions = {},
  ) {
    this.instance = opts.instance ?? `pid${process.pid}-${randomUUID().slice(0, 8)}`;
    this.store = new TicketStore(db);
    this.txs = new TicketTxRunner(db, clock, bus);
    this.outbox = new SetpointOutbox(
      db,
      clock,
      publisher,
      rules,
      log,
      (id, kind, actor, reason, q) => this.note(id, kind, actor, reason, q),
      this.instance,
    );
  }

  // ---- reading (the store's) ------------------------------------------------------------------

  list(filter: TicketFilter = {}): Promise<Ticket[]> {
    return this.store.list(filter);
  }

  get(id: string): Promise<{ ticket: Ticket; events: TicketEvent[] } | undefined> {
    return this.store.get(id);
  }

  openFor(targetId: string, problem: Problem): Promise<Ticket | undefined> {
    return this.store.openFor(targetId, problem);
  }

  /** Open tickets whose adjustment is settling (applied, waiting for its re-check). */
  settling(): Promise<Ticket[]> {
    return this.store.settling();
  }

  setpointOf(substationId: string): Promise<SetpointInForce> {
    return this.store.setpointOf(substationId);
  }

  setpoints(): Promise<Map<string, SetpointInForce>> {
    return this.store.setpoints();
  }

  /** Re-checks due by `now` that no live instance has claimed. */
  dueRechecks(now: number): Promise<DueRecheck[]> {
    return this.store.dueRechecks(now);
  }

  pendingRechecks(): Promise<DueRecheck[]> {
    return this.store.pendingRechecks();
  }

  counts(): Promise<Record<string, number>> {
    return this.store.counts();
  }

  // ---- proposals -----------------------------------------------------------------------------

  /**
   * One open ticket per (target, problem): a repeat updates the open ticket's evidence and proposal
   * while it waits for approval, and is suppressed (counted, with the reason) while an applied
   * adjustment settles. A flapping condition marks its ticket instead of raising a new one. The
   * database holds the rule (a partial unique index): a proposal that raced another instance's is
   * tried again and then finds the ticket that instance opened.
   */
  propose(p: Proposal, opts: { flapping?: boolean } = {}): Promise<ProposeResult> {
    return this.txs.racingOneOpen(() => this.proposeOnce(p, opts.flapping ?? false));
  }

  private async proposeOnce(p: Proposal, flapping: boolean): Promise<ProposeResult> {
    const result = await this.txs.run((tx) => proposeIn(tx, p, flapping, this.clock.now(), this.rules()));
    return result ?? { outcome: 'flapping', ticket: undefined as never };
  }

  /** Records a suppression on the open ticket of (target, problem) for a reason outside it. */
  async noteSuppressed(targetId: string, problem: Problem, reason: string): Promise<void> {
    await this.txs.run(async (tx) => {
      const t = await tx.store.openFor(targetId, problem);
      if (!t) return;
      await tx.store.saveBody(t.id, {
        ...t,
        suppressedCount: t.suppressedCount + 1,
        lastSuppressedTs: this.clock.now(),
        suppressedReason: reason,
      });
    });
  }

  /**
   * Moves an open pre-heat's end as the forecast changes (issue #20 item 1): the body's `untilTs`,
   * and for an applied one its re-check (which takes the extra offset off), in one transaction with
   * an event of `kind` saying why.
   */
  async revisePreheat(id: string, untilTs: number, kind: string, reason: string): Promise<void> {
    const now = this.clock.now();
    await this.txs.run(async (tx) => {
      const t = await tx.store.ticket(id);
      if (t?.action.kind !== 'preheat' || !OPEN_STATUSES.includes(t.status)) return;
      const action = { ...t.action, untilTs };
      let recheckDueTs = t.recheckDueTs;
      if (SETTLING_STATUSES.includes(t.status)) {
        recheckDueTs = Math.max(now, untilTs);
        await tx.store.rescheduleRecheck(id, recheckDueTs);
      }
      await tx.store.saveBody(id, { ...t, action, recheckDueTs });
      await tx.store.event(id, now, kind, 'rules', t.status, t.status, reason);
    });
  }

  /**
   * A re-check without enough fresh data is deferred, never judged on nothing (issue #11 §2): its
   * row is due again at `retryTs` (and its claim freed), the ticket stays settling, and a `deferred`
   * event says why.
   */
  async deferRecheck(id: string, retryTs: number, reason: string): Promise<void> {
    await this.moveRecheck(id, retryTs, 'deferred', 'recheck', reason);
  }

  /**
   * A settling adjustment whose condition persists past its predicted response is judged now rather
   * than at its scheduled re-check (docs/rules.md): its row is due at `dueTs` if that is earlier.
   */
  async advanceRecheck(id: string, dueTs: number, reason: string): Promise<void> {
    await this.moveRecheck(id, dueTs, 'recheck-advanced', 'rules', reason, true);
  }

  private async moveRecheck(
    id: string,
    dueTs: number,
    kind: string,
    actor: string,
    reason: string,
    onlyEarlier = false,
  ): Promise<void> {
    await this.txs.run(async (tx) => {
      const t = await tx.store.ticket(id);
      if (!t || !SETTLING_STATUSES.includes(t.status)) return;
      if (onlyEarlier && t.recheckDueTs !== undefined && t.recheckDueTs <= dueTs) return;
      await tx.store.rescheduleRecheck(id, dueTs);
      await tx.store.saveBody(id, { ...t, recheckDueTs: dueTs });
      await tx.store.event(id, this.clock.now(), kind, actor, t.status, t.status, reason);
    });
  }

  async supersede(id: string, actor: string, reason: string): Promise<void> {
    await this.txs.run(async (tx) => {
      const t = await tx.store.ticket(id);
      if (t && nextStatus(t.status, 'supersede')) await tx.transition(id, 'supersede', actor, reason);
    });
  }

  // ---- operator actions (HTTP) ---------------------------------------------------------------

  async approve(id: string, actor: string, reason = 'approved'): Promise<Ticket> {
    return this.act(id, async (tx) => {
      await tx.check(id, 'approve');
      await tx.transition(id, 'approve', actor, reason);
    });
  }

  async reject(id: string, actor: string, reason = 'rejected'): Promise<Ticket> {
    return this.act(id, async (tx) => {
      await tx.check(id, 'reject');
      await tx.transition(id, 'reject', actor, reason);
    });
  }

  /** Closes a settling ticket by hand (an operator confirms it is solved before its re-check). */
  async close(id: string, actor: string, reason = 'closed by operator'): Promise<Ticket> {
    return this.act(id, async (tx) => {
      await tx.check(id, 'close');
      await tx.transition(id, 'close', actor, reason);
      await tx.store.finishRecheck(id, this.clock.now(), { closedBy: actor, reason });
    });
  }

  /**
   * Applies an approved ticket in one transaction: the transition to `applied` (first, so of two
   * racing applies the second is refused before it writes anything), the setpoint in force after its
   * action, the re-check row and the setpoint command in the outbox commit together or not at all.
   * Nothing is published before that commit; the outbox publishes it afterwards and retries until
   * the broker acknowledges (the ticket's history records both).
   */
  async apply(id: string, actor: string, reason = 'applied'): Promise<Ticket> {
    const t = await this.act(id, async (tx) => {
      const t = await tx.check(id, 'apply');
      const now = this.clock.now();
      const untilTs = t.action.kind === 'preheat' ? t.action.untilTs : 0;
      const dueTs = Math.max(now + this.rules().recheckAfterH * HOUR_MS, untilTs);
      await tx.transition(id, 'apply', actor, `${reason}; re-check due ${new Date(dueTs).toISOString()}`);
      await tx.store.lockSubstation(t.substationId);
      const before = await tx.store.setpointOf(t.substationId);
      const after = nextSetpoint(before, t.action, this.rules());
      if (t.action.kind !== 'field') {
        await tx.store.saveSetpoint(t.substationId, after, id, now);
        const payload = toPayload(commandIdOf(id, 'apply'), id, after, now);
        await this.outbox.enqueue(tx.q, id, t.substationId, payload);
      }
      await tx.store.scheduleRecheck(id, dueTs);
      await tx.store.markApplied(id, now);
      await tx.store.saveBody(id, {
        ...t,
        appliedTs: now,
        recheckDueTs: dueTs,
        setpointBefore: before,
        setpointAfter: after,
        baseline: { ...t.baseline, ts: now },
      });
    });
    this.outbox.kick();
    return t;
  }

  /** Auto-approved tickets whose time has come (pre-heating waits for its lead time). */
  async applyDue(): Promise<string[]> {
    const done: string[] = [];
    for (const id of await this.store.dueForApply(this.clock.now())) {
      try {
        await this.apply(id, 'auto', 'auto-approved action applied');
        done.push(id);
      } catch (err) {
        this.log.warn({ err, ticketId: id }, 'auto-apply failed; retried on the next tick');
      }
    }
    return done;
  }

  /** An operator action in one transaction; resolves with the ticket as it committed. */
  private async act(id: string, fn: (tx: TicketTx) => Promise<void>): Promise<Ticket> {
    return this.txs.run(async (tx) => {
      await fn(tx);
      return (await tx.store.ticket(id))!;
    });
  }

  // ---- re-checks (driven by RecheckScheduler) -------------------------------------------------

  /**
   * Claims a due re-check for this instance for `recheck.claimS`, so of several instances on one
   * database exactly one judges it (src/tickets/ticket-store.ts `claimRecheck`).
   */
  claimRecheck(ticketId: string): Promise<boolean> {
    const now = this.clock.now();
    return this.store.claimRecheck(ticketId, this.instance, now, now + this.rules().recheck.claimS * 1000);
  }

  /**
   * Records a re-check once: the row is marked done (`done_ts IS NULL`) in the same transaction that
   * moves the ticket applied → rechecking → resolved | escalated, so a second run changes nothing.
   * Returns false when it had already run. `revert` is the setpoint to restore (pre-heating ends):
   * its command goes into the outbox in the same transaction.
   */
  async recordRecheck(ticketId: string, outcome: RecheckOutcome, revert?: SetpointInForce): Promise<boolean> {
    const now = this.clock.now();
    const claimed = await this.txs.run(async (tx) => {
      if (!(await tx.store.finishRecheck(ticketId, now, outcome))) return false;
      const t = (await tx.store.ticket(ticketId))!;
      if (!SETTLING_STATUSES.includes(t.status)) return true; // closed by hand meanwhile: row done, no judgement
      if (t.status === 'applied') await tx.transition(ticketId, 'start-recheck', 'recheck', 're-check due');
      await tx.store.saveBody(ticketId, { ...t, outcome });
      if (revert) {
        await tx.store.lockSubstation(t.substationId);
        await tx.store.saveSetpoint(t.substationId, revert, ticketId, now);
        const payload = toPayload(commandIdOf(ticketId, 'revert'), ticketId, revert, now);
        await this.outbox.enqueue(tx.q, ticketId, t.substationId, payload);
      }
      await tx.transition(ticketId, outcome.resolved ? 'resolve' : 'escalate', 'recheck', outcome.text);
      return true;
    });
    if (claimed && revert) this.outbox.kick();
    return claimed;
  }

  /** The setpoint commands a ticket caused (its apply, and the revert at its re-check), oldest first. */
  commandsOf(ticketId: string): Promise<SetpointCommand[]> {
    return this.outbox.commandsOf(ticketId);
  }

  /** The ticket's latest setpoint command, delivery and confirmation, beside what the substation reports. */
  async setpointStatus(ticketId: string, reported?: SubstationReading): Promise<SetpointStatus | undefined> {
    const last = (await this.outbox.commandsOf(ticketId)).at(-1);
    return last && setpointStatus(last, reported, this.rules(), this.clock.now());
  }

  /**
   * Writes an event on a ticket's history without changing its status (setpoint delivery,
   * confirmation); `q`: the transaction it belongs to, if any.
   */
  async note(ticketId: string, kind: string, actor: string, reason: string, q?: SqlExecutor): Promise<void> {
    const store = q ? new TicketStore(q) : this.store;
    const t = await store.ticket(ticketId);
    if (t) await store.event(ticketId, this.clock.now(), kind, actor, t.status, t.status, reason);
  }
}
