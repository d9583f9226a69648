import type { SqlExecutor } from '../storage/sql.ts';
import {
  NEUTRAL_SETPOINT,
  OPEN_STATUSES,
  type Problem,
  type Proposal,
  SETTLING_STATUSES,
  type SetpointInForce,
  type Ticket,
  type TicketEvent,
  type TicketFilter,
  type TicketStatus,
} from './types.ts';

interface Row {
  id: string;
  status: TicketStatus;
  body: string;
  created_ts: number;
  updated_ts: number;
  applied_ts: number | null;
  not_before_ts: number | null;
  auto_apply: number;
}

interface EventRow {
  ticket_id: string;
  ts: number;
  actor: string;
  kind: string;
  from_status: TicketStatus | null;
  to_status: TicketStatus | null;
  reason: string | null;
}

const OPEN_SQL = OPEN_STATUSES.map((x) => `'${x}'`).join(', ');
const SETTLING_SQL = SETTLING_STATUSES.map((x) => `'${x}'`).join(', ');

/** A due re-check as the schedule holds it. */
export interface DueRecheck {
  ticketId: string;
  dueTs: number;
}

/**
 * The ticket tables as rows, on the one query layer (src/storage/sql.ts), so the same text runs on
 * the embedded SQLite file and on a city's PostgreSQL. `q` is the database or the transaction a
 * write belongs to. No decisions here — which change is allowed when is TicketService's (and
 * lifecycle.ts's).
 */
export class TicketStore {
  constructor(readonly q: SqlExecutor) {}

  async list(filter: TicketFilter = {}): Promise<Ticket[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status === 'open') where.push(`status IN (${OPEN_SQL})`);
    else if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    for (const [col, v] of [
      ['substation_id', filter.substationId],
      ['target_id', filter.targetId],
      ['problem', filter.problem],
    ] as const)
      if (v) {
        where.push(`${col} = ?`);
        args.push(v);
      }
    const sql = `SELECT * FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    return (await this.q.all<Row>(sql, args)).map(fromRow);
  }

  async ticket(id: string): Promise<Ticket | undefined> {
    const row = await this.q.get<Row>('SELECT * FROM tickets WHERE id = ?', [id]);
    return row && fromRow(row);
  }

  async get(id: string): Promise<{ ticket: Ticket; events: TicketEvent[] } | undefined> {
    const ticket = await this.ticket(id);
    if (!ticket) return undefined;
    const rows = await this.q.all<EventRow>('SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id', [
      id,
    ]);
    const events = rows.map((e) => ({
      ticketId: e.ticket_id,
      ts: e.ts,
      actor: e.actor,
      kind: e.kind,
      fromStatus: e.from_status ?? undefined,
      toStatus: e.to_status ?? undefined,
      reason: e.reason ?? undefined,
    }));
    return { ticket, events };
  }

  async openFor(targetId: string, problem: Problem): Promise<Ticket | undefined> {
    const row = await this.q.get<Row>(
      `SELECT * FROM tickets WHERE target_id = ? AND problem = ? AND status IN (${OPEN_SQL})`,
      [targetId, problem],
    );
    return row && fromRow(row);
  }

  /** Open tickets whose adjustment is settling (applied, waiting for its re-check). */
  async settling(): Promise<Ticket[]> {
    return (
      await this.q.all<Row>(`SELECT * FROM tickets WHERE status IN (${SETTLING_SQL}) ORDER BY seq`)
    ).map(fromRow);
  }

  /** Auto-approved tickets whose time has come (pre-heating waits for its lead time). */
  async dueForApply(now: number): Promise<string[]> {
    const rows = await this.q.all<{ id: string }>(
      "SELECT id FROM tickets WHERE status = 'approved' AND auto_apply = 1 AND (not_before_ts IS NULL OR not_before_ts <= ?) ORDER BY seq",
      [now],
    );
    return rows.map((r) => r.id);
  }

  async setpointOf(substationId: string): Promise<SetpointInForce> {
    const row = await this.q.get<{ body: string }>(
      'SELECT body FROM ticket_setpoints WHERE substation_id = ?',
      [substationId],
    );
    return row ? (JSON.parse(row.body) as SetpointInForce) : structuredClone(NEUTRAL_SETPOINT);
  }

  async setpoints(): Promise<Map<string, SetpointInForce>> {
    const rows = await this.q.all<{ substation_id: string; body: string }>(
      'SELECT substation_id, body FROM ticket_setpoints',
    );
    return new Map(rows.map((r) => [r.substation_id, JSON.parse(r.body) as SetpointInForce]));
  }

  /** Re-checks due by `now` and not claimed by a live claimer (`claimed_until` past). */
  async dueRechecks(now: number): Promise<DueRecheck[]> {
    return this.rechecks('AND due_ts <= ? AND (claimed_until IS NULL OR claimed_until < ?)', [now, now]);
  }

  async pendingRechecks(): Promise<DueRecheck[]> {
    return this.rechecks('', []);
  }

  private async rechecks(and: string, args: unknown[]): Promise<DueRecheck[]> {
    const rows = await this.q.all<{ ticket_id: string; due_ts: number }>(
      `SELECT ticket_id, due_ts FROM ticket_rechecks WHERE done_ts IS NULL ${and} ORDER BY due_ts, ticket_id`,
      args,
    );
    return rows.map((r) => ({ ticketId: r.ticket_id, dueTs: r.due_ts }));
  }

  /**
   * Claims a due re-check for `claimer` until `untilTs`, across processes: one conditional UPDATE, so
   * of two instances racing exactly one gets the row (the other's UPDATE finds it claimed). A claim
   * that lapsed (its claimer died mid-judgement) can be taken again. True when this caller has it.
   */
  async claimRecheck(ticketId: string, claimer: string, now: number, untilTs: number): Promise<boolean> {
    const got = await this.q.all<{ ticket_id: string }>(
      `UPDATE ticket_rechecks SET claimed_by = ?, claimed_until = ?
         WHERE ticket_id = ? AND done_ts IS NULL AND due_ts <= ?
           AND (claimed_until IS NULL OR claimed_until < ?)
         RETURNING ticket_id`,
      [claimer, untilTs, ticketId, now, now],
    );
    return got.length === 1;
  }

  /**
   * Frees every claim on a pending re-check of `substations`' tickets; returns how many. Called in the
   * transaction that takes a partition with a new fencing token (docs/deploy.md "Partitions that
   * fail over by themselves"): whoever claimed them did so under an older token, so its judgement can
   * no longer be recorded, and the new holder runs them at once instead of after `recheck.claimS`.
   * No claim of the new holder exists yet in that transaction, so all of them are an earlier
   * holder's, whatever its name (an instance restarted under the same name is one too).
   */
  async releaseRecheckClaims(substations: readonly string[]): Promise<number> {
    if (substations.length === 0) return 0;
    const inList =
      this.q.dialect === 'postgres'
        ? 'substation_id = ANY(?::text[])'
        : 'substation_id IN (SELECT value FROM json_each(?))';
    const r = await this.q.run(
      `UPDATE ticket_rechecks SET claimed_by = NULL, claimed_until = NULL
         WHERE done_ts IS NULL AND claimed_by IS NOT NULL
           AND ticket_id IN (SELECT id FROM tickets WHERE ${inList})`,
      [this.q.dialect === 'postgres' ? [...substations] : JSON.stringify(substations)],
    );
    return r.changes;
  }

  /** Moves a pending re-check to `dueTs` and frees its claim. */
  async rescheduleRecheck(id: string, dueTs: number): Promise<void> {
    await this.q.run(
      'UPDATE ticket_rechecks SET due_ts = ?, claimed_by = NULL, claimed_until = NULL WHERE ticket_id = ? AND done_ts IS NULL',
      [dueTs, id],
    );
  }

  /** Marks a pending re-check done; false when it was done already (it runs once). */
  async finishRecheck(id: string, now: number, outcome: unknown): Promise<boolean> {
    const r = await this.q.run(
      'UPDATE ticket_rechecks SET done_ts = ?, outcome = ? WHERE ticket_id = ? AND done_ts IS NULL',
      [now, JSON.stringify(outcome), id],
    );
    return r.changes === 1;
  }

  async scheduleRecheck(id: string, dueTs: number): Promise<void> {
    await this.q.run(
      `INSERT INTO ticket_rechecks (ticket_id, due_ts) VALUES (?, ?)
         ON CONFLICT (ticket_id) DO UPDATE SET due_ts = excluded.due_ts, done_ts = NULL, outcome = NULL,
           claimed_by = NULL, claimed_until = NULL`,
      [id, dueTs],
    );
  }

  async counts(): Promise<Record<string, number>> {
    const out: Record<string, number> = {};
    for (const r of await this.q.all<{ status: string; n: number }>(
      'SELECT status, COUNT(*) AS n FROM tickets GROUP BY status',
    ))
      out[r.status] = Number(r.n);
    return out;
  }

  /** An event row on a ticket's history. */
  async event(
    id: string,
    ts: number,
    kind: string,
    actor: string,
    from?: TicketStatus,
    to?: TicketStatus,
    reason?: string,
  ): Promise<void> {
    await this.q.run(
      'INSERT INTO ticket_events (ticket_id, ts, actor, kind, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [id, ts, actor, kind, from ?? null, to ?? null, reason ?? null],
    );
  }

  async saveBody(id: string, t: Ticket, updatedTs?: number, notBeforeTs?: number): Promise<void> {
    const { status: _s, autoApply: _a, ...body } = t;
    await this.q.run(
      'UPDATE tickets SET body = ?, updated_ts = COALESCE(?, updated_ts), not_before_ts = COALESCE(?, not_before_ts) WHERE id = ?',
      [JSON.stringify(body), updatedTs ?? null, notBeforeTs ?? null, id],
    );
  }

  async markApplied(id: string, now: number): Promise<void> {
    await this.q.run('UPDATE tickets SET applied_ts = ? WHERE id = ?', [now, id]);
  }

  /** Compare-and-set of a ticket's status: true when it was `from` and is `to` now. */
  async setStatus(id: string, from: TicketStatus, to: TicketStatus, now: number, autoApply?: boolean) {
    const r = await this.q.run(
      'UPDATE tickets SET status = ?, updated_ts = ?, auto_apply = COALESCE(?, auto_apply) WHERE id = ? AND status = ?',
      [to, now, autoApply === undefined ? null : autoApply ? 1 : 0, id, from],
    );
    return r.changes === 1;
  }

  async saveSetpoint(
    substationId: string,
    sp: SetpointInForce,
    ticketId: string,
    now: number,
  ): Promise<void> {
    await this.q.run(
      `INSERT INTO ticket_setpoints (substation_id, body, ticket_id, ts) VALUES (?, ?, ?, ?)
         ON CONFLICT (substation_id) DO UPDATE SET body = excluded.body, ticket_id = excluded.ticket_id, ts = excluded.ts`,
      [substationId, JSON.stringify(sp), ticketId, now],
    );
  }

  /**
   * Holds a substation's setpoint until the transaction ends, so two instances applying tickets of
   * one substation read and write its setpoint in force one after the other (PostgreSQL: a
   * transaction-scoped advisory lock; SQLite's write transactions are serialised already).
   */
  async lockSubstation(substationId: string): Promise<void> {
    if (this.q.dialect === 'postgres')
      await this.q.get('SELECT pg_advisory_xact_lock(?, hashtext(?))', [SUBSTATION_LOCK_CLASS, substationId]);
  }

  /** Inserts a new proposed ticket (inside the caller's transaction); returns its id. */
  async insert(p: Proposal, now: number): Promise<string> {
    const next = await this.q.get<{ n: number }>(
      this.q.dialect === 'postgres'
        ? "SELECT nextval('ticket_seq') AS n"
        : 'SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM tickets',
    );
    const seq = Number(next!.n);
    const id = `T-${String(seq).padStart(5, '0')}`;
    const t: Ticket = {
      ...p,
      id,
      status: 'proposed',
      createdTs: now,
      updatedTs: now,
      occurrences: 1,
      flapping: false,
      suppressedCount: 0,
      autoApply: false,
      escalations: p.escalations ?? 0,
    };
    await this.q.run(
      `INSERT INTO tickets (id, seq, status, problem, target_kind, target_id, substation_id, body, created_ts, updated_ts, not_before_ts)
         VALUES (?, ?, 'proposed', ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        id,
        seq,
        p.problem,
        p.targetKind,
        p.targetId,
        p.substationId,
        JSON.stringify(t),
        now,
        now,
        p.notBeforeTs ?? null,
      ],
    );
    return id;
  }
}

/** The first key of the substations' advisory locks (the second is the substation id's hash). */
const SUBSTATION_LOCK_CLASS = 0x6877_0002;

/**
 * Whether `err` is the database refusing a second open ticket for one (target, problem): the partial
 * unique index `tickets_one_open`, in either dialect.
 */
export function isOneOpenViolation(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string; message?: string };
  if (e?.code === '23505') return e.constraint === 'tickets_one_open';
  return (
    typeof e?.code === 'string' &&
    e.code.startsWith('SQLITE_CONSTRAINT') &&
    /tickets\.target_id, tickets\.problem/.test(e.message ?? '')
  );
}

function fromRow(r: Row): Ticket {
  const body = JSON.parse(r.body) as Ticket;
  return {
    ...body,
    status: r.status,
    autoApply: Number(r.auto_apply) === 1,
    createdTs: r.created_ts,
    updatedTs: r.updated_ts,
    appliedTs: r.applied_ts ?? body.appliedTs,
    notBeforeTs: r.not_before_ts ?? undefined,
  };
}
