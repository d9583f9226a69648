import { randomUUID } from 'node:crypto';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';
import { type HouseholdsStore, OpenCaseTaken, type OutboxItem, type StoredReport } from './store.ts';
import type {
  CaseEvent,
  CaseState,
  Changes,
  Complaint,
  HouseholdCase,
  Measurement,
  MeasurementTask,
  TaskState,
  WorkOrder,
} from './types.ts';

type Row = { body: string };
const parse = <T>(rows: Row[]): T[] => rows.map((r) => JSON.parse(r.body) as T);
const marks = (n: number) => Array.from({ length: n }, () => '?').join(', ');

interface OutboxRow {
  id: string;
  kind: string;
  body: string;
  created_ts: number;
  attempts: number;
  next_ts: number;
  delivered_ts: number | null;
  dead_ts: number | null;
  last_error: string | null;
}

const outboxItem = (r: OutboxRow): OutboxItem => ({
  id: r.id,
  kind: r.kind,
  body: JSON.parse(r.body),
  createdTs: r.created_ts,
  attempts: r.attempts,
  nextTs: r.next_ts,
  deliveredTs: r.delivered_ts ?? undefined,
  deadTs: r.dead_ts ?? undefined,
  lastError: r.last_error ?? undefined,
});

const OUTBOX_COLUMNS = 'id, kind, body, created_ts, attempts, next_ts, delivered_ts, dead_ts, last_error';
const PENDING = 'delivered_ts IS NULL AND dead_ts IS NULL';

type ReportRow = { id: string; kind: StoredReport['kind']; ts: number; body: string };

/**
 * The households store on the ops database, one implementation for SQLite and PostgreSQL through
 * src/storage/sql.ts (tables: `householdsMigrations`). `commit` is one transaction, so a decision's
 * rows and its outbox messages are stored together or not at all.
 */
export class SqlHouseholdsStore implements HouseholdsStore {
  /** The outbox's insertion order: SQLite's rowid, PostgreSQL's identity column. */
  private readonly outboxOrder: string;

  constructor(private readonly db: SqlDb) {
    this.outboxOrder = db.dialect === 'sqlite' ? 'rowid' : 'seq';
  }

  async openCaseByUnit(unitKey: string): Promise<HouseholdCase | undefined> {
    const sql = `SELECT body FROM hh_cases WHERE unit_key = ? AND state <> 'closed'`;
    return parse<HouseholdCase>(await this.db.all<Row>(sql, [unitKey]))[0];
  }

  async getCase(id: string): Promise<HouseholdCase | undefined> {
    return parse<HouseholdCase>(await this.db.all<Row>('SELECT body FROM hh_cases WHERE id = ?', [id]))[0];
  }

  async listCases(f: {
    states?: readonly CaseState[];
    openedFromTs?: number;
    closedFromTs?: number;
  }): Promise<HouseholdCase[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.states) {
      // An empty list matches nothing, as `IN ()` would; PostgreSQL refuses `IN ()` itself.
      where.push(f.states.length ? `state IN (${marks(f.states.length)})` : '1 = 0');
      args.push(...f.states);
    }
    if (f.openedFromTs !== undefined) {
      where.push('opened_ts >= ?');
      args.push(f.openedFromTs);
    }
    if (f.closedFromTs !== undefined) {
      where.push('closed_ts >= ?');
      args.push(f.closedFromTs);
    }
    const sql = `SELECT body FROM hh_cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_ts DESC, id`;
    return parse<HouseholdCase>(await this.db.all<Row>(sql, args));
  }

  async caseEvents(caseId: string): Promise<CaseEvent[]> {
    const rows = await this.db.all<Record<string, unknown>>(
      `SELECT case_id AS "caseId", ts, actor, kind, from_state AS "fromState", to_state AS "toState", note
       FROM hh_case_events WHERE case_id = ? ORDER BY id`,
      [caseId],
    );
    return rows.map((r) => {
      const e = { ...r };
      for (const k of ['fromState', 'toState', 'note']) if (e[k] === null) delete e[k];
      return e as unknown as CaseEvent;
    });
  }

  async complaints(f: { caseId?: string; fromTs?: number; toTs?: number }): Promise<Complaint[]> {
    if (f.caseId !== undefined)
      return parse(
        await this.db.all<Row>('SELECT body FROM hh_complaints WHERE case_id = ? ORDER BY received_ts, id', [
          f.caseId,
        ]),
      );
    return parse(
      await this.db.all<Row>(
        'SELECT body FROM hh_complaints WHERE received_ts >= ? AND received_ts < ? ORDER BY received_ts, id',
        [f.fromTs ?? 0, f.toTs ?? Number.MAX_SAFE_INTEGER],
      ),
    );
  }

  async tasks(f: { caseId?: string; states?: readonly TaskState[] }): Promise<MeasurementTask[]> {
    if (f.caseId !== undefined)
      return parse(
        await this.db.all<Row>('SELECT body FROM hh_tasks WHERE case_id = ? ORDER BY due_ts, id', [f.caseId]),
      );
    const states = f.states ?? ['pending', 'done', 'overdue', 'escalated'];
    if (states.length === 0) return [];
    return parse(
      await this.db.all<Row>(
        `SELECT body FROM hh_tasks WHERE state IN (${marks(states.length)}) ORDER BY due_ts, id`,
        states,
      ),
    );
  }

  async getTask(id: string): Promise<MeasurementTask | undefined> {
    return parse<MeasurementTask>(await this.db.all<Row>('SELECT body FROM hh_tasks WHERE id = ?', [id]))[0];
  }

  async measurements(f: { unitKey?: string; sensorId?: string; caseId?: string }): Promise<Measurement[]> {
    const [col, val] =
      f.unitKey !== undefined
        ? ['unit_key', f.unitKey]
        : f.sensorId !== undefined
          ? ['sensor_id', f.sensorId]
          : ['case_id', f.caseId ?? ''];
    return parse(
      await this.db.all<Row>(`SELECT body FROM hh_measurements WHERE ${col} = ? ORDER BY ts, id`, [val]),
    );
  }

  async workOrders(f: { caseId?: string; fromTs?: number }): Promise<WorkOrder[]> {
    if (f.caseId !== undefined)
      return parse(
        await this.db.all<Row>('SELECT body FROM hh_work_orders WHERE case_id = ? ORDER BY created_ts, id', [
          f.caseId,
        ]),
      );
    return parse(
      await this.db.all<Row>(
        'SELECT body FROM hh_work_orders WHERE created_ts >= ? ORDER BY created_ts, id',
        [f.fromTs ?? 0],
      ),
    );
  }

  async getWorkOrder(id: string): Promise<WorkOrder | undefined> {
    return parse<WorkOrder>(await this.db.all<Row>('SELECT body FROM hh_work_orders WHERE id = ?', [id]))[0];
  }

  async commit(c: Changes, now: number): Promise<void> {
    try {
      await this.db.tx((q) => writeChanges(q, c, now));
    } catch (err) {
      const e = err as { code?: string; constraint?: string; message?: string };
      const taken =
        (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && /hh_cases\.unit_key/.test(e.message ?? '')) ||
        (e.code === '23505' && e.constraint === 'hh_cases_one_open');
      const unit = c.cases.find((k) => k.state !== 'closed')?.unitKey;
      throw taken && unit ? new OpenCaseTaken(unit, { cause: err }) : err;
    }
  }

  /**
   * Claims up to `limit` due deliveries for this deliverer: each is withheld from every other one
   * (their `next_ts` moves to `claimUntil`) until it is marked delivered or failed, or the claim
   * runs out because this instance died mid-attempt. The conditional UPDATE is what makes a row go
   * to one claimer only: PostgreSQL re-checks its WHERE after a concurrent update commits, SQLite
   * runs the transactions one after the other.
   */
  async outboxClaim(now: number, limit: number, claimUntil: number): Promise<OutboxItem[]> {
    return this.db.tx(async (q) => {
      const due = await q.all<OutboxRow>(
        `SELECT ${OUTBOX_COLUMNS} FROM hh_outbox WHERE ${PENDING} AND next_ts <= ?
         ORDER BY created_ts, ${this.outboxOrder} LIMIT ?`,
        [now, limit],
      );
      const claimed: OutboxItem[] = [];
      for (const r of due) {
        const { changes } = await q.run(
          `UPDATE hh_outbox SET next_ts = ? WHERE id = ? AND ${PENDING} AND next_ts <= ?`,
          [claimUntil, r.id, now],
        );
        if (changes === 1) claimed.push(outboxItem(r));
      }
      return claimed;
    });
  }

  async outboxDelivered(id: string, ts: number): Promise<void> {
    await this.db.run('UPDATE hh_outbox SET delivered_ts = ?, attempts = attempts + 1 WHERE id = ?', [
      ts,
      id,
    ]);
  }

  async outboxFailed(
    id: string,
    attempts: number,
    nextTs: number,
    error: string,
    dead: boolean,
  ): Promise<void> {
    await this.db.run(
      'UPDATE hh_outbox SET attempts = ?, next_ts = ?, last_error = ?, dead_ts = ? WHERE id = ?',
      [attempts, nextTs, error.slice(0, 500), dead ? nextTs : null, id],
    );
  }

  async outboxItems(f: { state?: 'pending' | 'delivered' | 'dead'; limit: number }): Promise<OutboxItem[]> {
    const where =
      f.state === 'delivered'
        ? 'WHERE delivered_ts IS NOT NULL'
        : f.state === 'dead'
          ? 'WHERE dead_ts IS NOT NULL'
          : f.state === 'pending'
            ? `WHERE ${PENDING}`
            : '';
    const rows = await this.db.all<OutboxRow>(
      `SELECT ${OUTBOX_COLUMNS} FROM hh_outbox ${where} ORDER BY created_ts DESC, ${this.outboxOrder} DESC LIMIT ?`,
      [f.limit],
    );
    return rows.map(outboxItem);
  }

  async saveReport(r: StoredReport, keep: number): Promise<void> {
    await this.db.tx(async (q) => {
      await q.run(
        `INSERT INTO hh_bulletins (id, kind, ts, body) VALUES (?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET kind = excluded.kind, ts = excluded.ts, body = excluded.body`,
        [r.id, r.kind, r.ts, JSON.stringify(r.body)],
      );
      await q.run(
        `DELETE FROM hh_bulletins WHERE kind = ? AND id NOT IN
           (SELECT id FROM hh_bulletins WHERE kind = ? ORDER BY ts DESC, id DESC LIMIT ?)`,
        [r.kind, r.kind, keep],
      );
    });
  }

  async reports(kind: StoredReport['kind'], limit: number): Promise<StoredReport[]> {
    const rows = await this.db.all<ReportRow>(
      'SELECT id, kind, ts, body FROM hh_bulletins WHERE kind = ? ORDER BY ts DESC, id DESC LIMIT ?',
      [kind, limit],
    );
    return rows.map((r) => ({ ...r, body: JSON.parse(r.body) }));
  }

  async getReport(id: string): Promise<StoredReport | undefined> {
    const r = await this.db.get<ReportRow>('SELECT id, kind, ts, body FROM hh_bulletins WHERE id = ?', [id]);
    return r && { ...r, body: JSON.parse(r.body) };
  }
}

/** The rows of one decision, inside the caller's transaction. */
async function writeChanges(q: SqlExecutor, c: Changes, now: number): Promise<void> {
  for (const k of c.cases)
    await q.run(
      `INSERT INTO hh_cases (id, unit_key, state, substation_id, building_id, opened_ts, updated_ts, due_ts, closed_ts, body)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_ts = excluded.updated_ts,
         due_ts = excluded.due_ts, closed_ts = excluded.closed_ts, body = excluded.body`,
      [
        k.id,
        k.unitKey,
        k.state,
        k.substationId,
        k.buildingId,
        k.openedTs,
        k.updatedTs,
        k.dueTs,
        k.closedTs ?? null,
        JSON.stringify(k),
      ],
    );
  for (const e of c.events)
    await q.run(
      'INSERT INTO hh_case_events (case_id, ts, actor, kind, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)',
      [e.caseId, e.ts, e.actor, e.kind, e.fromState ?? null, e.toState ?? null, e.note ?? null],
    );
  for (const x of c.complaints)
    await q.run(
      `INSERT INTO hh_complaints (id, case_id, unit_key, building_id, substation_id, received_ts, body)
       VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET case_id = excluded.case_id, body = excluded.body`,
      [x.id, x.caseId ?? null, x.unitKey, x.buildingId, x.substationId, x.receivedTs, JSON.stringify(x)],
    );
  for (const t of c.tasks)
    await q.run(
      `INSERT INTO hh_tasks (id, case_id, state, due_ts, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body`,
      [t.id, t.caseId, t.state, t.dueTs, JSON.stringify(t)],
    );
  for (const m of c.measurements)
    await q.run(
      'INSERT INTO hh_measurements (id, unit_key, sensor_id, case_id, ts, body) VALUES (?, ?, ?, ?, ?, ?)',
      [m.id, m.unitKey, m.sensorId ?? null, m.caseId ?? null, m.ts, JSON.stringify(m)],
    );
  for (const w of c.workOrders)
    await q.run(
      `INSERT INTO hh_work_orders (id, case_id, state, created_ts, body) VALUES (?, ?, ?, ?, ?)
       ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body`,
      [w.id, w.caseId ?? null, w.state, w.createdTs, JSON.stringify(w)],
    );
  // Due at once (next_ts 0): retries are timed by the deliverer's wall clock, not heating time.
  for (const o of c.outbox)
    await q.run('INSERT INTO hh_outbox (id, kind, body, created_ts, next_ts) VALUES (?, ?, ?, ?, ?)', [
      randomUUID(),
      o.kind,
      JSON.stringify(o.body),
      now,
      0,
    ]);
}
