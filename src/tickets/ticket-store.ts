import type { Clock } from '../core/clock.ts';
import { type Db, statementCache } from '../storage/sqlite.ts';
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

const OPEN_SQL = OPEN_STATUSES.map((x) => `'${x}'`).join(', ');
const SETTLING_SQL = SETTLING_STATUSES.map((x) => `'${x}'`).join(', ');

/**
 * The ticket tables as rows: reads, and the writes TicketService makes inside its transactions.
 * No decisions here — which change is allowed when is TicketService's (and lifecycle.ts's).
 */
export class TicketStore {
  /** Prepared statements are cached: the rules tick asks the same questions every few minutes. */
  readonly stmt: ReturnType<typeof statementCache>;

  constructor(
    db: Db,
    private readonly clock: Clock,
  ) {
    this.stmt = statementCache(db);
  }

  list(filter: TicketFilter = {}): Ticket[] {
    const where: string[] = [];
    const args: unknown[] = [];
    if (filter.status === 'open') where.push(`status IN (${OPEN_SQL})`);
    else if (filter.status) {
      where.push('status = ?');
      args.push(filter.status);
    }
    if (filter.substationId) {
      where.push('substation_id = ?');
      args.push(filter.substationId);
    }
    if (filter.targetId) {
      where.push('target_id = ?');
      args.push(filter.targetId);
    }
    if (filter.problem) {
      where.push('problem = ?');
      args.push(filter.problem);
    }
    const sql = `SELECT * FROM tickets ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY seq`;
    return (this.stmt(sql).all(...args) as Row[]).map((r) => this.fromRow(r));
  }

  get(id: string): { ticket: Ticket; events: TicketEvent[] } | undefined {
    const row = this.stmt('SELECT * FROM tickets WHERE id = ?').get(id) as Row | undefined;
    if (!row) return undefined;
    const events = (
      this.stmt('SELECT * FROM ticket_events WHERE ticket_id = ? ORDER BY id').all(id) as Array<{
        ticket_id: string;
        ts: number;
        actor: string;
        kind: string;
        from_status: TicketStatus | null;
        to_status: TicketStatus | null;
        reason: string | null;
      }>
    ).map((e) => ({
      ticketId: e.ticket_id,
      ts: e.ts,
      actor: e.actor,
      kind: e.kind,
      fromStatus: e.from_status ?? undefined,
      toStatus: e.to_status ?? undefined,
      reason: e.reason ?? undefined,
    }));
    return { ticket: this.fromRow(row), events };
  }

  openFor(targetId: string, problem: Problem): Ticket | undefined {
    const row = this.stmt(
      `SELECT * FROM tickets WHERE target_id = ? AND problem = ? AND status IN (${OPEN_SQL})`,
    ).get(targetId, problem) as Row | undefined;
    return row && this.fromRow(row);
  }

  /** Open tickets whose adjustment is settling (applied, waiting for its re-check). */
  settling(): Ticket[] {
    return (
      this.stmt(`SELECT * FROM tickets WHERE status IN (${SETTLING_SQL}) ORDER BY seq`).all() as Row[]
    ).map((r) => this.fromRow(r));
  }

  setpointOf(substationId: string): SetpointInForce {
    const row = this.stmt('SELECT body FROM ticket_setpoints WHERE substation_id = ?').get(substationId) as
      | { body: string }
      | undefined;
    return row ? (JSON.parse(row.body) as SetpointInForce) : structuredClone(NEUTRAL_SETPOINT);
  }

  setpoints(): Map<string, SetpointInForce> {
    const rows = this.stmt('SELECT substation_id, body FROM ticket_setpoints').all() as Array<{
      substation_id: string;
      body: string;
    }>;
    return new Map(rows.map((r) => [r.substation_id, JSON.parse(r.body) as SetpointInForce]));
  }

  dueRechecks(now: number): Array<{ ticketId: string; dueTs: number }> {
    return (
      this.stmt(
        'SELECT ticket_id, due_ts FROM ticket_rechecks WHERE done_ts IS NULL AND due_ts <= ? ORDER BY due_ts',
      ).all(now) as Array<{ ticket_id: string; due_ts: number }>
    ).map((r) => ({ ticketId: r.ticket_id, dueTs: r.due_ts }));
  }

  pendingRechecks(): Array<{ ticketId: string; dueTs: number }> {
    return (
      this.stmt(
        'SELECT ticket_id, due_ts FROM ticket_rechecks WHERE done_ts IS NULL ORDER BY due_ts',
      ).all() as Array<{
        ticket_id: string;
        due_ts: number;
      }>
    ).map((r) => ({ ticketId: r.ticket_id, dueTs: r.due_ts }));
  }

  counts(): Record<string, number> {
    const out: Record<string, number> = {};
    for (const r of this.stmt('SELECT status, COUNT(*) AS n FROM tickets GROUP BY status').all() as Array<{
      status: string;
      n: number;
    }>)
      out[r.status] = r.n;
    return out;
  }

  /** An event row on a ticket's history; returns its id. */
  event(
    id: string,
    kind: string,
    actor: string,
    from?: TicketStatus,
    to?: TicketStatus,
    reason?: string,
  ): number {
    return Number(
      this.stmt(
        'INSERT INTO ticket_events (ticket_id, ts, actor, kind, from_status, to_status, reason) VALUES (?, ?, ?, ?, ?, ?, ?)',
      ).run(id, this.clock.now(), actor, kind, from ?? null, to ?? null, reason ?? null).lastInsertRowid,
    );
  }

  saveBody(id: string, t: Ticket, updatedTs?: number, notBeforeTs?: number): void {
    const { status: _s, autoApply: _a, ...body } = t;
    this.stmt(
      'UPDATE tickets SET body = ?, updated_ts = COALESCE(?, updated_ts), not_before_ts = COALESCE(?, not_before_ts) WHERE id = ?',
    ).run(JSON.stringify(body), updatedTs ?? null, notBeforeTs ?? null, id);
  }

  saveSetpoint(substationId: string, sp: SetpointInForce, ticketId: string, now: number): void {
    this.stmt(
      'INSERT OR REPLACE INTO ticket_setpoints (substation_id, body, ticket_id, ts) VALUES (?, ?, ?, ?)',
    ).run(substationId, JSON.stringify(sp), ticketId, now);
  }

  private fromRow(r: Row): Ticket {
    const body = JSON.parse(r.body) as Ticket;
    return {
      ...body,
      status: r.status,
      autoApply: r.auto_apply === 1,
      createdTs: r.created_ts,
      updatedTs: r.updated_ts,
      appliedTs: r.applied_ts ?? body.appliedTs,
      notBeforeTs: r.not_before_ts ?? undefined,
    };
  } /** Inserts a new proposed ticket (inside the caller's transaction); returns its id. */
  insert(p: Proposal, now: number): string {
    const seq = ((this.stmt('SELECT MAX(seq) AS m FROM tickets').get() as { m: number | null }).m ?? 0) + 1;
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
    this.stmt(
      `INSERT INTO tickets (id, seq, status, problem, target_kind, target_id, substation_id, body, created_ts, updated_ts, not_before_ts)
         VALUES (?, ?, 'proposed', ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
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
    );
    return id;
  }
}
