import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import { Errors } from '../core/errors.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { SubstationReading } from '../core/readings.ts';
import type { Db } from '../storage/sqlite.ts';
import { type SetpointStatus, setpointStatus } from './confirmation.ts';
import { nextStatus, startsFrom, type TicketAction } from './lifecycle.ts';
import { type SetpointCommand, SetpointOutbox } from './outbox.ts';
import { commandIdOf, nextSetpoint, toPayload } from './setpoints.ts';
import { TicketStore } from './ticket-store.ts';
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
  type TicketStatus,
} from './types.ts';

const HOUR_MS = 3_600_000;

export type ProposeResult =
  | { outcome: 'created' | 'updated'; ticket: Ticket }
  | { outcome: 'suppressed' | 'flapping'; ticket: Ticket };

/**
 * Adjustment tickets: lifecycle, evidence, the setpoints in force, and the re-check schedule, all in
 * the operational SQLite database. Every transition is checked against the one transition table
 * (lifecycle.ts) and writes an event row (actor, time, reason) in the same transaction, and is
 * announced as `ticketChanged` once committed. Each operator action is a single synchronous
 * transaction (check, transition, setpoint command), so two requests on one ticket are served one
 * after the other: the second sees the first's result and gets a 409.
 */
export class TicketService {
  private readonly store: TicketStore;
  /** The setpoint commands, published by one drainer (`outbox.start()`, `outbox.drainOnce()`). */
  readonly outbox: SetpointOutbox;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
    private readonly bus: EventBus<HeatEvents>,
    publisher: SetpointPublisher,
    private readonly rules: () => RulesConfig,
    private readonly log: Logger,
  ) {
    this.store = new TicketStore(db, clock);
    this.outbox = new SetpointOutbox(db, clock, publisher, rules, log, (id, kind, actor, reason) =>
      this.note(id, kind, actor, reason),
    );
  }

  // ---- reading (the store's) ------------------------------------------------------------------

  async list(filter: TicketFilter = {}): Promise<Ticket[]> {
    return this.store.list(filter);
  }

  async get(id: string): Promise<{ ticket: Ticket; events: TicketEvent[] } | undefined> {
    return this.store.get(id);
  }

  async openFor(targetId: string, problem: Problem): Promise<Ticket | undefined> {
    return this.store.openFor(targetId, problem);
  }

  /** Open tickets whose adjustment is settling (applied, waiting for its re-check). */
  async settling(): Promise<Ticket[]> {
    return this.store.settling();
  }

  async setpointOf(substationId: string): Promise<SetpointInForce> {
    return this.store.setpointOf(substationId);
  }

  async setpoints(): Promise<Map<string, SetpointInForce>> {
    return this.store.setpoints();
  }

  async dueRechecks(now: number): Promise<Array<{ ticketId: string; dueTs: number }>> {
    return this.store.dueRechecks(now);
  }

  async pendingRechecks(): Promise<Array<{ ticketId: string; dueTs: number }>> {
    return this.store.pendingRechecks();
  }

  async counts(): Promise<Record<string, number>> {
    return this.store.counts();
  }

  // ---- proposals -----------------------------------------------------------------------------

  /**
   * One open ticket per (target, problem): a repeat updates the open ticket's evidence and proposal
   * while it waits for approval, and is suppressed (counted, with the reason) while an applied
   * adjustment settles. A flapping condition marks its ticket instead of raising a new one.
   */
  async propose(p: Proposal, opts: { flapping?: boolean } = {}): Promise<ProposeResult> {
    const now = this.clock.now();
    const existing = this.store.openFor(p.targetId, p.problem);
    if (existing) {
      if (SETTLING_STATUSES.includes(existing.status)) {
        const reason = `settling until the re-check at ${new Date(existing.recheckDueTs ?? now).toISOString()}`;
        this.store.saveBody(existing.id, {
          ...existing,
          suppressedCount: existing.suppressedCount + 1,
          lastSuppressedTs: now,
          suppressedReason: reason,
        });
        // The first suppression is written to the history; later ones only count.
        if (existing.suppressedCount === 0)
          this.store.event(
            existing.id,
            'suppressed',
            'rules',
            existing.status,
            existing.status,
            `condition persists; ${reason}`,
          );
        return { outcome: 'suppressed', ticket: this.store.get(existing.id)!.ticket };
      }
      if (
        now - existing.updatedTs < this.rules().recheck.refreshS * 1000 &&
        existing.flapping === (opts.flapping ?? false)
      )
        return { outcome: 'updated', ticket: existing };
      const next: Ticket = {
        ...existing,
        ...p,
        parentId: existing.parentId ?? p.parentId,
        escalations: existing.escalations ?? p.escalations,
        occurrences: existing.occurrences + 1,
        flapping: opts.flapping ?? false,
        updatedTs: now,
        // An auto-approved step that grew beyond the policy keeps the step it was approved for.
        ...(this.keepsApprovedStep(existing, p)
          ? {
              action: existing.action,
              predicted: existing.predicted,
              summary: existing.summary,
              autoApprovable: true,
            }
          : {}),
      };
      this.store.saveBody(existing.id, next, now, p.notBeforeTs);
      this.reconsiderAutoApproval(existing, p);
      if (existing.flapping !== next.flapping)
        this.store.event(
          existing.id,
          next.flapping ? 'flapping' : 'steady',
          'rules',
          existing.status,
          existing.status,
          next.flapping
            ? 'condition flips too often; not raised again while it flaps'
            : 'condition steady again',
        );
      return { outcome: opts.flapping ? 'flapping' : 'updated', ticket: this.store.get(existing.id)!.ticket };
    }
    if (opts.flapping) return { outcome: 'flapping', ticket: undefined as never };
    const id = this.create(p, now);
    const cfg = this.rules().autoApprove;
    if (cfg.enabled && p.autoApprovable) {
      this.transition(id, 'approve', 'auto', 'small, safe action: auto-approve policy (rules.autoApprove)', {
        autoApply: true,
      });
    }
    return { outcome: 'created', ticket: this.store.get(id)!.ticket };
  }

  /**
   * The auto-approve policy judged again whenever a waiting proposal changes (issue #20 item 3): a
   * proposal refreshed into the limits is approved now (an auto-approved one that grew beyond them
   * keeps the step it was approved for, see `keepsApprovedStep`).
   */
  private reconsiderAutoApproval(existing: Ticket, p: Proposal): void {
    const policy = this.rules().autoApprove;
    if (existing.status === 'proposed' && policy.enabled && p.autoApprovable)
      this.transition(
        existing.id,
        'approve',
        'auto',
        `proposal changed to a small, safe action: ${p.summary}`,
        {
          autoApply: true,
        },
      );
  }

  /** An auto-approved ticket whose refreshed proposal is beyond the policy: the approved step stays. */
  private keepsApprovedStep(existing: Ticket, p: Proposal): boolean {
    const policy = this.rules().autoApprove;
    return existing.status === 'approved' && existing.autoApply && !(policy.enabled && p.autoApprovable);
  }

  /** Records a suppression on the open ticket of (target, problem) for a reason outside it. */
  async noteSuppressed(targetId: string, problem: Problem, reason: string): Promise<void> {
    const t = this.store.openFor(targetId, problem);
    if (!t) return;
    this.store.saveBody(t.id, {
      ...t,
      suppressedCount: t.suppressedCount + 1,
      lastSuppressedTs: this.clock.now(),
      suppressedReason: reason,
    });
  }

  /**
   * Moves an open pre-heat's end as the forecast changes (issue #20 item 1): the body's `untilTs`,
   * and for an applied one its re-check (which takes the extra offset off), in one transaction with
   * an event of `kind` saying why.
   */
  async revisePreheat(id: string, untilTs: number, kind: string, reason: string): Promise<void> {
    const t = this.store.get(id)?.ticket;
    if (t?.action.kind !== 'preheat' || !OPEN_STATUSES.includes(t.status)) return;
    const action = { ...t.action, untilTs };
    const now = this.clock.now();
    this.db.transaction(() => {
      let recheckDueTs = t.recheckDueTs;
      if (SETTLING_STATUSES.includes(t.status)) {
        recheckDueTs = Math.max(now, untilTs);
        this.store
          .stmt('UPDATE ticket_rechecks SET due_ts = ? WHERE ticket_id = ? AND done_ts IS NULL')
          .run(recheckDueTs, id);
      }
      this.store.saveBody(id, { ...t, action, recheckDueTs });
      this.store.event(id, kind, 'rules', t.status, t.status, reason);
    })();
  }

  /**
   * A re-check without enough fresh data is deferred, never judged on nothing (issue #11 §2): its
   * row is due again at `retryTs`, the ticket stays settling, and a `deferred` event says why.
   */
  async deferRecheck(id: string, retryTs: number, reason: string): Promise<void> {
    const t = this.store.get(id)?.ticket;
    if (!t || !SETTLING_STATUSES.includes(t.status)) return;
    this.db.transaction(() => {
      this.store
        .stmt('UPDATE ticket_rechecks SET due_ts = ? WHERE ticket_id = ? AND done_ts IS NULL')
        .run(retryTs, id);
      this.store.saveBody(id, { ...t, recheckDueTs: retryTs });
      this.store.event(id, 'deferred', 'recheck', t.status, t.status, reason);
    })();
  }

  async supersede(id: string, actor: string, reason: string): Promise<void> {
    const t = this.store.get(id)?.ticket;
    if (!t || !nextStatus(t.status, 'supersede')) return;
    this.transition(id, 'supersede', actor, reason);
  }

  // ---- operator actions (HTTP) ---------------------------------------------------------------

  async approve(id: string, actor: string, reason = 'approved'): Promise<Ticket> {
    this.db.transaction(() => this.transition(this.check(id, 'approve').id, 'approve', actor, reason))();
    return this.store.get(id)!.ticket;
  }

  async reject(id: string, actor: string, reason = 'rejected'): Promise<Ticket> {
    this.db.transaction(() => this.transition(this.check(id, 'reject').id, 'reject', actor, reason))();
    return this.store.get(id)!.ticket;
  }

  /** Closes a settling ticket by hand (an operator confirms it is solved before its re-check). */
  async close(id: string, actor: string, reason = 'closed by operator'): Promise<Ticket> {
    this.db.transaction(() => {
      this.check(id, 'close');
      this.store
        .stmt('UPDATE ticket_rechecks SET done_ts = ?, outcome = ? WHERE ticket_id = ? AND done_ts IS NULL')
        .run(this.clock.now(), JSON.stringify({ closedBy: actor, reason }), id);
      this.transition(id, 'close', actor, reason);
    })();
    return this.store.get(id)!.ticket;
  }

  /**
   * Applies an approved ticket in one transaction: the transition to `applied`, the setpoint in
   * force after its action, the re-check row and the setpoint command in the outbox commit together
   * or not at all. Nothing is published before that commit; the outbox publishes it afterwards and
   * retries until the broker acknowledges (the ticket's history records both).
   */
  async apply(id: string, actor: string, reason = 'applied'): Promise<Ticket> {
    this.db.transaction(() => {
      const t = this.check(id, 'apply');
      const now = this.clock.now();
      const before = this.store.setpointOf(t.substationId);
      const after = nextSetpoint(before, t.action, this.rules());
      const untilTs = t.action.kind === 'preheat' ? t.action.untilTs : 0;
      const dueTs = Math.max(now + this.rules().recheckAfterH * HOUR_MS, untilTs);
      if (t.action.kind !== 'field') {
        this.store.saveSetpoint(t.substationId, after, id, now);
        this.outbox.enqueue(id, t.substationId, toPayload(commandIdOf(id, 'apply'), id, after, now));
      }
      this.store
        .stmt(
          'INSERT OR REPLACE INTO ticket_rechecks (ticket_id, due_ts, done_ts, outcome) VALUES (?, ?, NULL, NULL)',
        )
        .run(id, dueTs);
      this.store.stmt('UPDATE tickets SET applied_ts = ? WHERE id = ?').run(now, id);
      this.store.saveBody(id, {
        ...t,
        appliedTs: now,
        recheckDueTs: dueTs,
        setpointBefore: before,
        setpointAfter: after,
        baseline: { ...t.baseline, ts: now },
      });
      this.transition(id, 'apply', actor, `${reason}; re-check due ${new Date(dueTs).toISOString()}`);
    })();
    this.outbox.kick();
    return this.store.get(id)!.ticket;
  }

  /** Auto-approved tickets whose time has come (pre-heating waits for its lead time). */
  async applyDue(): Promise<string[]> {
    const now = this.clock.now();
    const rows = this.store
      .stmt(
        "SELECT id FROM tickets WHERE status = 'approved' AND auto_apply = 1 AND (not_before_ts IS NULL OR not_before_ts <= ?) ORDER BY seq",
      )
      .all(now) as Array<{ id: string }>;
    const done: string[] = [];
    for (const { id } of rows) {
      try {
        await this.apply(id, 'auto', 'auto-approved action applied');
        done.push(id);
      } catch (err) {
        this.log.warn({ err, ticketId: id }, 'auto-apply failed; retried on the next tick');
      }
    }
    return done;
  }

  // ---- re-checks (driven by RecheckScheduler) -------------------------------------------------

  /**
   * Records a re-check once: the row is claimed with `done_ts IS NULL` in the same transaction that
   * moves the ticket applied → rechecking → resolved | escalated, so a second run changes nothing.
   * Returns false when it had already run. `revert` is the setpoint to restore (pre-heating ends):
   * its command goes into the outbox in the same transaction.
   */
  async recordRecheck(ticketId: string, outcome: RecheckOutcome, revert?: SetpointInForce): Promise<boolean> {
    const now = this.clock.now();
    let claimed = false;
    this.db.transaction(() => {
      const r = this.store
        .stmt('UPDATE ticket_rechecks SET done_ts = ?, outcome = ? WHERE ticket_id = ? AND done_ts IS NULL')
        .run(now, JSON.stringify(outcome), ticketId);
      if (r.changes !== 1) return;
      claimed = true;
      const t = this.store.get(ticketId)!.ticket;
      if (!SETTLING_STATUSES.includes(t.status)) return; // closed by hand meanwhile: row done, no judgement
      if (t.status === 'applied') this.transition(ticketId, 'start-recheck', 'recheck', 're-check due');
      this.store.saveBody(ticketId, { ...this.store.get(ticketId)!.ticket, outcome });
      if (revert) {
        this.store.saveSetpoint(t.substationId, revert, ticketId, now);
        const payload = toPayload(commandIdOf(ticketId, 'revert'), ticketId, revert, now);
        this.outbox.enqueue(ticketId, t.substationId, payload);
      }
      this.transition(ticketId, outcome.resolved ? 'resolve' : 'escalate', 'recheck', outcome.text);
    })();
    if (claimed && revert) this.outbox.kick();
    return claimed;
  }

  /** The setpoint commands a ticket caused (its apply, and the revert at its re-check), oldest first. */
  async commandsOf(ticketId: string): Promise<SetpointCommand[]> {
    return this.outbox.commandsOf(ticketId);
  }

  /** The ticket's latest setpoint command, delivery and confirmation, beside what the substation reports. */
  async setpointStatus(ticketId: string, reported?: SubstationReading): Promise<SetpointStatus | undefined> {
    const last = this.outbox.commandsOf(ticketId).at(-1);
    return last && setpointStatus(last, reported, this.rules(), this.clock.now());
  }

  /** Writes an event on a ticket's history without changing its status (setpoint delivery, confirmation). */
  note(ticketId: string, kind: string, actor: string, reason: string): void {
    const row = this.store.stmt('SELECT status FROM tickets WHERE id = ?').get(ticketId) as
      | { status: TicketStatus }
      | undefined;
    if (row) this.store.event(ticketId, kind, actor, row.status, row.status, reason);
  }

  // ---- internals -----------------------------------------------------------------------------

  /** The ticket, if `action` is allowed from its status now; else a coded 404 / 409. */
  private check(id: string, action: TicketAction): Ticket {
    const got = this.store.get(id);
    if (!got) throw Errors.notFound(`No ticket ${id}.`);
    if (!nextStatus(got.ticket.status, action))
      throw Errors.conflict(
        `Ticket ${id} is ${got.ticket.status}; ${action} needs it to be ${startsFrom(action).join(' or ')}.`,
      );
    return got.ticket;
  }

  private create(p: Proposal, now: number): string {
    let id = '';
    this.db.transaction(() => {
      id = this.store.insert(p, now);
      this.store.event(id, 'created', 'rules', undefined, 'proposed', p.summary);
    })();
    this.emit(id, 'proposed', undefined, 'rules');
    return id;
  }

  /**
   * Moves a ticket by `action` as the transition table allows, compare-and-set on the status it was
   * read in, so a status changed in between can never be overwritten (a 409 instead).
   */
  private transition(
    id: string,
    action: TicketAction,
    actor: string,
    reason: string,
    extra: { autoApply?: boolean } = {},
  ): void {
    const now = this.clock.now();
    const row = this.store.stmt('SELECT status FROM tickets WHERE id = ?').get(id) as {
      status: TicketStatus;
    };
    const from = row.status;
    const to = nextStatus(from, action);
    if (!to) throw Errors.conflict(`Ticket ${id} is ${from}; ${action} is not allowed from there.`);
    const changed = this.store
      .stmt(
        'UPDATE tickets SET status = ?, updated_ts = ?, auto_apply = COALESCE(?, auto_apply) WHERE id = ? AND status = ?',
      )
      .run(to, now, extra.autoApply === undefined ? null : extra.autoApply ? 1 : 0, id, from);
    if (changed.changes !== 1) throw Errors.conflict(`Ticket ${id} changed meanwhile; ${action} not done.`);
    const eventId = this.store.event(id, to, actor, from, to, reason);
    if (!this.db.inTransaction) {
      this.emit(id, to, from, actor);
      return;
    }
    // Announce after the surrounding transaction commits, and only if it did (its event row is there):
    // a listener never sees a rolled-back change, nor misses one the same task changed again.
    queueMicrotask(() => {
      if (this.store.stmt('SELECT 1 FROM ticket_events WHERE id = ? AND ticket_id = ?').get(eventId, id))
        this.emit(id, to, from, actor);
    });
  }

  private emit(id: string, status: TicketStatus, previous: TicketStatus | undefined, actor: string): void {
    const t = this.store.get(id)?.ticket;
    if (!t) return;
    this.bus.emit('ticketChanged', {
      ticketId: id,
      status,
      previousStatus: previous,
      target: t.targetId,
      problem: t.problem,
      actor,
      ts: this.clock.now(),
    });
  }
}
