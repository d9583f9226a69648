import { randomUUID } from 'node:crypto';
import type { Db } from '../storage/sqlite.ts';
import type { HouseholdsStore, OutboxItem, StoredReport } from './store.ts';
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
const parse = <T>(rows: unknown[]): T[] => (rows as Row[]).map((r) => JSON.parse(r.body) as T);
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

/**
 * The households store on the ops database (opened with `householdsMigrations`). better-sqlite3 is
 * synchronous, so each method finishes before it returns its promise: a `commit` never interleaves
 * with another module's statements on the shared connection.
 */
export class SqliteHouseholdsStore implements HouseholdsStore {
  constructor(private readonly db: Db) {}

  async openCaseByUnit(unitKey: string): Promise<HouseholdCase | undefined> {
    return parse<HouseholdCase>(
      this.db.prepare(`SELECT body FROM hh_cases WHERE unit_key = ? AND state <> 'closed'`).all(unitKey),
    )[0];
  }

  async getCase(id: string): Promise<HouseholdCase | undefined> {
    return parse<HouseholdCase>(this.db.prepare('SELECT body FROM hh_cases WHERE id = ?').all(id))[0];
  }

  async listCases(f: {
    states?: readonly CaseState[];
    openedFromTs?: number;
    closedFromTs?: number;
  }): Promise<HouseholdCase[]> {
    const where: string[] = [];
    const args: unknown[] = [];
    if (f.states) {
      where.push(`state IN (${marks(f.states.length)})`);
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
    const sql = `SELECT body FROM hh_cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_ts DESC`;
    return parse<HouseholdCase>(this.db.prepare(sql).all(...args));
  }

  async caseEvents(caseId: string): Promise<CaseEvent[]> {
    const rows = this.db
      .prepare(
        `SELECT case_id AS caseId, ts, actor, kind, from_state AS fromState, to_state AS toState, note
         FROM hh_case_events WHERE case_id = ? ORDER BY id`,
      )
      .all(caseId) as Array<Record<string, unknown>>;
    return rows.map((r) => {
      const e = { ...r } as Record<string, unknown>;
      for (const k of ['fromState', 'toState', 'note']) if (e[k] === null) delete e[k];
      return e as unknown as CaseEvent;
    });
  }

  async complaints(f: { caseId?: string; fromTs?: number; toTs?: number }): Promise<Complaint[]> {
    if (f.caseId !== undefined)
      return parse(
        this.db
          .prepare('SELECT body FROM hh_complaints WHERE case_id = ? ORDER BY received_ts')
          .all(f.caseId),
      );
    return parse(
      this.db
        .prepare(
          'SELECT body FROM hh_complaints WHERE received_ts >= ? AND received_ts < ? ORDER BY received_ts',
        )
        .all(f.fromTs ?? 0, f.toTs ?? Number.MAX_SAFE_INTEGER),
    );
  }

  async tasks(f: { caseId?: string; states?: readonly TaskState[] }): Promise<MeasurementTask[]> {
    if (f.caseId !== undefined)
      return parse(
        this.db.prepare('SELECT body FROM hh_tasks WHERE case_id = ? ORDER BY due_ts').all(f.caseId),
      );
    const states = f.states ?? ['pending', 'done', 'overdue', 'escalated'];
    return parse(
      this.db
        .prepare(`SELECT body FROM hh_tasks WHERE state IN (${marks(states.length)}) ORDER BY due_ts`)
        .all(...states),
    );
  }

  async getTask(id: string): Promise<MeasurementTask | undefined> {
    return parse<MeasurementTask>(this.db.prepare('SELECT body FROM hh_tasks WHERE id = ?').all(id))[0];
  }

  async measurements(f: { unitKey?: string; sensorId?: string; caseId?: string }): Promise<Measurement[]> {
    const [col, val] =
      f.unitKey !== undefined
        ? ['unit_key', f.unitKey]
        : f.sensorId !== undefined
          ? ['sensor_id', f.sensorId]
          : ['case_id', f.caseId ?? ''];
    return parse(this.db.prepare(`SELECT body FROM hh_measurements WHERE ${col} = ? ORDER BY ts`).all(val));
  }

  async workOrders(f: { caseId?: string; fromTs?: number }): Promise<WorkOrder[]> {
    if (f.caseId !== undefined)
      return parse(
        this.db
          .prepare('SELECT body FROM hh_work_orders WHERE case_id = ? ORDER BY created_ts')
          .all(f.caseId),
      );
    return parse(
      this.db
        .prepare('SELECT body FROM hh_work_orders WHERE created_ts >= ? ORDER BY created_ts')
        .all(f.fromTs ?? 0),
    );
  }

  async getWorkOrder(id: string): Promise<WorkOrder | undefined> {
    return parse<WorkOrder>(this.db.prepare('SELECT body FROM hh_work_orders WHERE id = ?').all(id))[0];
  }

  async commit(c: Changes, now: number): Promise<void> {
    const db = this.db;
    db.transaction(() => {
      const upCase = db.prepare(
        `INSERT INTO hh_cases (id, unit_key, state, substation_id, building_id, opened_ts, updated_ts, due_ts, closed_ts, body)
         VALUES (@id, @unitKey, @state, @substationId, @buildingId, @openedTs, @updatedTs, @dueTs, @closedTs, @body)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, updated_ts = excluded.updated_ts,
           due_ts = excluded.due_ts, closed_ts = excluded.closed_ts, body = excluded.body`,
      );
      for (const k of c.cases)
        upCase.run({ ...k, closedTs: k.closedTs ?? null, body: JSON.stringify(k) } as Record<
          string,
          unknown
        >);
      const ev = db.prepare(
        `INSERT INTO hh_case_events (case_id, ts, actor, kind, from_state, to_state, note) VALUES (?, ?, ?, ?, ?, ?, ?)`,
      );
      for (const e of c.events)
        ev.run(e.caseId, e.ts, e.actor, e.kind, e.fromState ?? null, e.toState ?? null, e.note ?? null);
      const upComplaint = db.prepare(
        `INSERT INTO hh_complaints (id, case_id, unit_key, building_id, substation_id, received_ts, body)
         VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET case_id = excluded.case_id, body = excluded.body`,
      );
      for (const x of c.complaints)
        upComplaint.run(
          x.id,
          x.caseId ?? null,
          x.unitKey,
          x.buildingId,
          x.substationId,
          x.receivedTs,
          JSON.stringify(x),
        );
      const upTask = db.prepare(
        `INSERT INTO hh_tasks (id, case_id, state, due_ts, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body`,
      );
      for (const t of c.tasks) upTask.run(t.id, t.caseId, t.state, t.dueTs, JSON.stringify(t));
      const insM = db.prepare(
        'INSERT INTO hh_measurements (id, unit_key, sensor_id, case_id, ts, body) VALUES (?, ?, ?, ?, ?, ?)',
      );
      for (const m of c.measurements)
        insM.run(m.id, m.unitKey, m.sensorId ?? null, m.caseId ?? null, m.ts, JSON.stringify(m));
      const upWo = db.prepare(
        `INSERT INTO hh_work_orders (id, case_id, state, created_ts, body) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET state = excluded.state, body = excluded.body`,
      );
      for (const w of c.workOrders) upWo.run(w.id, w.caseId ?? null, w.state, w.createdTs, JSON.stringify(w));
      const insO = db.prepare(
        'INSERT INTO hh_outbox (id, kind, body, created_ts, next_ts) VALUES (?, ?, ?, ?, ?)',
      );
      // Due at once (next_ts 0): retries are timed by the deliverer's wall clock, not heating time.
      for (const o of c.outbox) insO.run(randomUUID(), o.kind, JSON.stringify(o.body), now, 0);
    })();
  }

  async outboxDue(now: number, limit: number): Promise<OutboxItem[]> {
    const rows = this.db
      .prepare(
        `SELECT * FROM hh_outbox WHERE delivered_ts IS NULL AND dead_ts IS NULL AND next_ts <= ?
         ORDER BY created_ts, rowid LIMIT ?`,
      )
      .all(now, limit) as OutboxRow[];
    return rows.map(outboxItem);
  }

  async outboxDelivered(id: string, ts: number): Promise<void> {
    this.db
      .prepare('UPDATE hh_outbox SET delivered_ts = ?, attempts = attempts + 1 WHERE id = ?')
      .run(ts, id);
  }

  async outboxFailed(
    id: string,
    attempts: number,
    nextTs: number,
    error: string,
    dead: boolean,
  ): Promise<void> {
    this.db
      .prepare('UPDATE hh_outbox SET attempts = ?, next_ts = ?, last_error = ?, dead_ts = ? WHERE id = ?')
      .run(attempts, nextTs, error.slice(0, 500), dead ? nextTs : null, id);
  }

  async outboxItems(f: { state?: 'pending' | 'delivered' | 'dead'; limit: number }): Promise<OutboxItem[]> {
    const where =
      f.state === 'delivered'
        ? 'WHERE delivered_ts IS NOT NULL'
        : f.state === 'dead'
          ? 'WHERE dead_ts IS NOT NULL'
          : f.state === 'pending'
            ? 'WHERE delivered_ts IS NULL AND dead_ts IS NULL'
            : '';
    const rows = this.db
      .prepare(`SELECT * FROM hh_outbox ${where} ORDER BY created_ts DESC, rowid DESC LIMIT ?`)
      .all(f.limit) as OutboxRow[];
    return rows.map(outboxItem);
  }

  async saveReport(r: StoredReport, keep: number): Promise<void> {
    this.db.transaction(() => {
      this.db
        .prepare('INSERT OR REPLACE INTO hh_bulletins (id, kind, ts, body) VALUES (?, ?, ?, ?)')
        .run(r.id, r.kind, r.ts, JSON.stringify(r.body));
      this.db
        .prepare(
          `DELETE FROM hh_bulletins WHERE kind = ? AND id NOT IN
             (SELECT id FROM hh_bulletins WHERE kind = ? ORDER BY ts DESC LIMIT ?)`,
        )
        .run(r.kind, r.kind, keep);
    })();
  }

  async reports(kind: StoredReport['kind'], limit: number): Promise<StoredReport[]> {
    const rows = this.db
      .prepare('SELECT id, kind, ts, body FROM hh_bulletins WHERE kind = ? ORDER BY ts DESC LIMIT ?')
      .all(kind, limit) as Array<{ id: string; kind: StoredReport['kind']; ts: number; body: string }>;
    return rows.map((r) => ({ ...r, body: JSON.parse(r.body) }));
  }

  async getReport(id: string): Promise<StoredReport | undefined> {
    const r = this.db.prepare('SELECT id, kind, ts, body FROM hh_bulletins WHERE id = ?').get(id) as
      | { id: string; kind: StoredReport['kind']; ts: number; body: string }
      | undefined;
    return r && { ...r, body: JSON.parse(r.body) };
  }
}
