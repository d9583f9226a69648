// The writes of the households store (sql-store.ts), each inside the caller's one transaction, and
// the record versions they compare (docs/households.md "Several instances").
import { randomUUID } from 'node:crypto';
import type { SqlExecutor } from '../storage/sql.ts';
import { type JobRun, StaleRecord, type StoredReport } from './store.ts';
import type { Changes } from './types.ts';

export type Row = { body: string; rev?: number };

/**
 * The row version each case, task and work order was read at, kept beside the record (not in it, so
 * the API's JSON is unchanged): what `commit` compares, so a decision on a stale read is refused.
 */
export const versions = new WeakMap<object, number>();

export const parse = <T>(rows: Row[]): T[] =>
  rows.map((r) => {
    const x = JSON.parse(r.body) as T & object;
    if (r.rev !== undefined) versions.set(x, Number(r.rev));
    return x;
  });

export async function saveReportIn(q: SqlExecutor, r: StoredReport, keep: number): Promise<void> {
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
}

/**
 * Records the run; false when its row is there already (another instance made it). PostgreSQL
 * holds a second inserter of the same key until the first commits, then does nothing. The run
 * that is recorded deletes the job's records past their retention (`bulletin.runRetentionDays`).
 */
export async function claimRun(q: SqlExecutor, run: JobRun, now: number): Promise<boolean> {
  const r = await q.run(
    'INSERT INTO hh_job_runs (job, slot_ts, ran_ts) VALUES (?, ?, ?) ON CONFLICT (job, slot_ts) DO NOTHING',
    [run.job, run.slotTs, now],
  );
  if (r.changes !== 1) return false;
  if (run.pruneBeforeTs !== undefined)
    await q.run('DELETE FROM hh_job_runs WHERE job = ? AND slot_ts < ?', [run.job, run.pruneBeforeTs]);
  return true;
}

interface Versioned {
  table: string;
  /** The upsert: one more `rev` on conflict, ending in `WHERE ? < 0 OR <table>.rev = ?`. */
  sql: string;
}

const versioned = (table: string, columns: string[], onConflict: string[]): Versioned => ({
  table,
  sql: `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})
    ON CONFLICT (id) DO UPDATE SET ${onConflict.map((c) => `${c} = excluded.${c}`).join(', ')},
      rev = ${table}.rev + 1
    WHERE ? < 0 OR ${table}.rev = ?`,
});

const CASES = versioned(
  'hh_cases',
  'id unit_key state substation_id building_id opened_ts updated_ts due_ts closed_ts body'.split(' '),
  ['state', 'updated_ts', 'due_ts', 'closed_ts', 'body'],
);
const TASKS = versioned('hh_tasks', ['id', 'case_id', 'state', 'due_ts', 'body'], ['state', 'body']);
const WORK_ORDERS = versioned('hh_work_orders', 'id case_id state created_ts body'.split(' '), [
  'state',
  'body',
]);

/**
 * Writes a case, task or work order: one read from the store is written only if its row is still at
 * the version read, else StaleRecord rolls the whole decision back. One the decision made (or one
 * not read through the store) is written as it is.
 */
async function writeVersioned(
  q: SqlExecutor,
  v: Versioned,
  x: { id: string },
  params: unknown[],
  written: Array<[object, number]>,
): Promise<void> {
  // Written earlier in this same decision: its row is at that version now.
  const read = written.findLast(([y]) => y === x)?.[1] ?? versions.get(x) ?? -1;
  const row = await q.get<{ rev: number }>(`${v.sql} RETURNING rev`, [...params, read, read]);
  if (!row) throw new StaleRecord(v.table, x.id);
  written.push([x, Number(row.rev)]);
}

/**
 * By id: every decision locks the rows it writes in the same order, so two instances' decisions on
 * the same cases wait for each other instead of deadlocking (docs/households.md "Several instances").
 * A deadlock PostgreSQL finds all the same (on a new case's unit key) is a WriteConflict: decided again.
 */
const byId = <T extends { id: string }>(xs: readonly T[]): T[] =>
  [...xs].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

/** The rows of one decision, inside the caller's transaction. */
export async function writeChanges(
  q: SqlExecutor,
  c: Changes,
  now: number,
  written: Array<[object, number]>,
): Promise<void> {
  for (const k of byId(c.cases)) {
    const closed = k.closedTs ?? null;
    const row = [
      k.id,
      k.unitKey,
      k.state,
      k.substationId,
      k.buildingId,
      k.openedTs,
      k.updatedTs,
      k.dueTs,
      closed,
    ];
    await writeVersioned(q, CASES, k, [...row, JSON.stringify(k)], written);
  }
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
  for (const t of byId(c.tasks))
    await writeVersioned(q, TASKS, t, [t.id, t.caseId, t.state, t.dueTs, JSON.stringify(t)], written);
  for (const m of c.measurements)
    await q.run(
      'INSERT INTO hh_measurements (id, unit_key, sensor_id, case_id, ts, body) VALUES (?, ?, ?, ?, ?, ?)',
      [m.id, m.unitKey, m.sensorId ?? null, m.caseId ?? null, m.ts, JSON.stringify(m)],
    );
  for (const w of byId(c.workOrders)) {
    const row = [w.id, w.caseId ?? null, w.state, w.createdTs, JSON.stringify(w)];
    await writeVersioned(q, WORK_ORDERS, w, row, written);
  }
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
