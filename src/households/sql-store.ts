import type { SqlDb } from '../storage/sql.ts';
import { claimRun, parse, type Row, saveReportIn, versions, writeChanges } from './sql-writes.ts';
import {
  type HouseholdsStore,
  type JobRun,
  OpenCaseTaken,
  type OutboxItem,
  type StoredReport,
  WriteConflict,
} from './store.ts';
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
    const sql = `SELECT body, rev FROM hh_cases WHERE unit_key = ? AND state <> 'closed'`;
    return parse<HouseholdCase>(await this.db.all<Row>(sql, [unitKey]))[0];
  }

  async getCase(id: string): Promise<HouseholdCase | undefined> {
    return parse<HouseholdCase>(
      await this.db.all<Row>('SELECT body, rev FROM hh_cases WHERE id = ?', [id]),
    )[0];
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
    const sql = `SELECT body, rev FROM hh_cases ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY opened_ts DESC, id`;
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
        await this.db.all<Row>('SELECT body, rev FROM hh_tasks WHERE case_id = ? ORDER BY due_ts, id', [
          f.caseId,
        ]),
      );
    const states = f.states ?? ['pending', 'done', 'overdue', 'escalated'];
    if (states.length === 0) return [];
    return parse(
      await this.db.all<Row>(
        `SELECT body, rev FROM hh_tasks WHERE state IN (${marks(states.length)}) ORDER BY due_ts, id`,
        states,
      ),
    );
  }

  async getTask(id: string): Promise<MeasurementTask | undefined> {
    return parse<MeasurementTask>(
      await this.db.all<Row>('SELECT body, rev FROM hh_tasks WHERE id = ?', [id]),
    )[0];
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
        await this.db.all<Row>(
          'SELECT body, rev FROM hh_work_orders WHERE case_id = ? ORDER BY created_ts, id',
          [f.caseId],
        ),
      );
    return parse(
      await this.db.all<Row>(
        'SELECT body, rev FROM hh_work_orders WHERE created_ts >= ? ORDER BY created_ts, id',
        [f.fromTs ?? 0],
      ),
    );
  }

  async getWorkOrder(id: string): Promise<WorkOrder | undefined> {
    return parse<WorkOrder>(
      await this.db.all<Row>('SELECT body, rev FROM hh_work_orders WHERE id = ?', [id]),
    )[0];
  }

  async commit(c: Changes, now: number): Promise<void> {
    await this.commitReports([], 0, c, now);
  }

  async commitReports(
    reports: readonly StoredReport[],
    keep: number,
    c: Changes,
    now: number,
    run?: JobRun,
  ): Promise<boolean> {
    const written: Array<[object, number]> = [];
    try {
      const made = await this.db.tx(async (q) => {
        if (run && !(await claimRun(q, run, now))) return false;
        for (const r of reports) await saveReportIn(q, r, keep);
        await writeChanges(q, c, now, written);
        return true;
      });
      // The records now stand at the versions written (only once the transaction committed).
      for (const [x, rev] of written) versions.set(x, rev);
      return made;
    } catch (err) {
      const e = err as { code?: string; constraint?: string; message?: string };
      const taken =
        (e.code === 'SQLITE_CONSTRAINT_UNIQUE' && /hh_cases\.unit_key/.test(e.message ?? '')) ||
        (e.code === '23505' && e.constraint === 'hh_cases_one_open');
      const unit = c.cases.find((k) => k.state !== 'closed')?.unitKey;
      if (taken && unit) throw new OpenCaseTaken(unit, { cause: err });
      throw e.code === '40P01' || e.code === '40001' ? new WriteConflict({ cause: err }) : err;
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
    await this.db.tx((q) => saveReportIn(q, r, keep));
  }

  async jobRan(run: JobRun): Promise<boolean> {
    const sql = 'SELECT 1 AS ran FROM hh_job_runs WHERE job = ? AND slot_ts = ?';
    return (await this.db.get(sql, [run.job, run.slotTs])) !== undefined;
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
