import { HwError } from '../core/errors.ts';
import type { SqlDb, SqlExecutor } from '../storage/sql.ts';

/**
 * Partition leases with fencing tokens (docs/deploy.md "A city on PostgreSQL"). One row per
 * partition in the shared operational database: who holds it, until when, and a fencing token that
 * grows by one at every acquisition. A holder renews before expiry; a standby takes a partition only
 * once its lease has expired, and gets a new token. Every write made for a partition checks its token
 * inside the write's own transaction (`fence`), so a holder that was paused or cut off and lost its
 * lease meanwhile can no longer write: its token is not the current one.
 *
 * Times are the database's clock (`databaseNowMs`), one clock for every instance, so host clocks
 * that disagree do not shorten or stretch a lease.
 */
export const leaseMigrations = [
  {
    id: 'lease-001',
    sqlite: `CREATE TABLE partition_leases (
      partition   TEXT PRIMARY KEY,
      holder      TEXT NOT NULL,
      token       INTEGER NOT NULL,
      expires_ms  INTEGER NOT NULL,
      renewed_ms  INTEGER NOT NULL,
      acquired_ms INTEGER NOT NULL
    );`,
    postgres: `CREATE TABLE partition_leases (
      partition   TEXT PRIMARY KEY,
      holder      TEXT NOT NULL,
      token       BIGINT NOT NULL,
      expires_ms  BIGINT NOT NULL,
      renewed_ms  BIGINT NOT NULL,
      acquired_ms BIGINT NOT NULL
    );`,
  },
] as const;

export interface LeaseRow {
  partition: string;
  holder: string;
  token: number;
  expiresMs: number;
  renewedMs: number;
  acquiredMs: number;
}

/** A write for a partition whose fencing token is no longer the current one. */
export class FencedError extends HwError {
  constructor(
    readonly partition: string,
    readonly token: number,
    readonly current: number | undefined,
  ) {
    super(
      'HW_ERR_FENCED',
      409,
      `partition ${partition}: fencing token ${token} is not the current one (${current ?? 'none'}); ` +
        'another instance holds the lease, the write was refused',
    );
  }
}

/** The database server's clock in epoch ms (the lease clock of every instance). */
export async function databaseNowMs(q: SqlExecutor): Promise<number> {
  const sql =
    q.dialect === 'postgres'
      ? 'SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint AS now'
      : "SELECT CAST((julianday('now') - 2440587.5) * 86400000 AS INTEGER) AS now";
  const row = await q.get<{ now: number | string }>(sql);
  return Number(row!.now);
}

const SELECT = `SELECT partition, holder, token, expires_ms AS "expiresMs", renewed_ms AS "renewedMs",
  acquired_ms AS "acquiredMs" FROM partition_leases`;

function toLease(r: LeaseRow): LeaseRow {
  return {
    partition: r.partition,
    holder: r.holder,
    token: Number(r.token),
    expiresMs: Number(r.expiresMs),
    renewedMs: Number(r.renewedMs),
    acquiredMs: Number(r.acquiredMs),
  };
}

/** The rows of the lease table (for health, metrics and tests). */
export async function leases(q: SqlExecutor): Promise<LeaseRow[]> {
  return (await q.all<LeaseRow>(`${SELECT} ORDER BY partition`)).map(toLease);
}

/** Something that runs one transaction (`SqlDb.tx`). */
export interface TxRunner {
  tx<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T>;
}

/** Work done in the acquiring transaction with the new token, before any write of the new holder. */
export type OnTaking = (q: SqlExecutor, token: number) => Promise<void>;

/**
 * Takes `partition` for `holder` if nobody holds it or its lease expired at `nowMs`; returns the new
 * token, or undefined when another holder's lease is still running. A holder that restarts under the
 * same name waits for expiry too: its earlier life may still have writes in flight, which the new
 * token fences off. `onTaking` runs in the same transaction once the token is the new one (a
 * failure there leaves the lease as it was).
 */
export async function tryAcquire(
  db: TxRunner,
  partition: string,
  holder: string,
  nowMs: number,
  durationMs: number,
  onTaking?: OnTaking,
): Promise<number | undefined> {
  return db.tx(async (q) => {
    const fresh = await q.run(
      `INSERT INTO partition_leases (partition, holder, token, expires_ms, renewed_ms, acquired_ms)
       VALUES (?, ?, 1, ?, ?, ?) ON CONFLICT (partition) DO NOTHING`,
      [partition, holder, nowMs + durationMs, nowMs, nowMs],
    );
    if (fresh.changes === 0) {
      const taken = await q.run(
        `UPDATE partition_leases SET holder = ?, token = token + 1, expires_ms = ?, renewed_ms = ?,
           acquired_ms = ? WHERE partition = ? AND expires_ms <= ?`,
        [holder, nowMs + durationMs, nowMs, nowMs, partition, nowMs],
      );
      if (taken.changes === 0) return undefined;
    }
    const row = await q.get<{ token: number | string }>(
      'SELECT token FROM partition_leases WHERE partition = ?',
      [partition],
    );
    const token = Number(row!.token);
    await onTaking?.(q, token);
    return token;
  });
}

/**
 * Extends the lease `token` of `partition` to `nowMs + durationMs`. False when the token is no
 * longer current (another instance took the partition): the caller must stop writing for it.
 */
export async function renew(
  q: SqlExecutor,
  partition: string,
  token: number,
  nowMs: number,
  durationMs: number,
): Promise<boolean> {
  const r = await q.run(
    'UPDATE partition_leases SET expires_ms = ?, renewed_ms = ? WHERE partition = ? AND token = ?',
    [nowMs + durationMs, nowMs, partition, token],
  );
  return r.changes === 1;
}

/** Ends the lease `token` at once (clean stop), so a standby takes the partition at its next look. */
export async function release(q: SqlExecutor, partition: string, token: number): Promise<boolean> {
  const r = await q.run('UPDATE partition_leases SET expires_ms = 0 WHERE partition = ? AND token = ?', [
    partition,
    token,
  ]);
  return r.changes === 1;
}

/**
 * The fence: call inside the transaction of every write made for `partition`, before the write.
 * Throws FencedError (and so rolls the transaction back) unless `token` is the current one. On
 * PostgreSQL the lease row is locked (`FOR UPDATE`) until the write commits, so a takeover cannot
 * slip between the check and the write; SQLite's transactions are serialised already.
 */
export async function fence(q: SqlExecutor, partition: string, token: number): Promise<void> {
  const lock = q.dialect === 'postgres' ? ' FOR UPDATE' : '';
  const row = await q.get<{ token: number | string }>(
    `SELECT token FROM partition_leases WHERE partition = ?${lock}`,
    [partition],
  );
  const current = row === undefined ? undefined : Number(row.token);
  if (current !== token) throw new FencedError(partition, token, current);
}

/** A fence bound to one partition and token, as the writers of that partition receive it. */
export type WriteFence = (q: SqlExecutor) => Promise<void>;

export const fenceFor =
  (partition: string, token: number): WriteFence =>
  (q) =>
    fence(q, partition, token);

/** A plain read (SELECT without a row lock): needs no fence. */
const isRead = (sql: string): boolean => /^\s*SELECT\b/i.test(sql) && !/\bFOR\s+UPDATE\b/i.test(sql);

/**
 * The operational database as one partition's writers see it: every transaction and every statement
 * that is not a plain read (also an INSERT … RETURNING through `get`) first passes the partition's
 * fence, inside the same transaction, so a module built on it (the partition's tickets, re-checks,
 * checkpoint) cannot write once the lease is gone, without knowing about leases. Closing it leaves
 * the shared database open (its opener closes it).
 */
export function fencedDb(db: SqlDb, writeFence: WriteFence): SqlDb {
  const fenced = <T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T> =>
    db.tx(async (q) => {
      await writeFence(q);
      return fn(q);
    });
  return {
    dialect: db.dialect,
    all: (sql, params) => (isRead(sql) ? db.all(sql, params) : fenced((q) => q.all(sql, params))),
    get: (sql, params) => (isRead(sql) ? db.get(sql, params) : fenced((q) => q.get(sql, params))),
    run: (sql, params) => fenced((q) => q.run(sql, params)),
    exec: (sql) => fenced((q) => q.exec(sql)),
    tx: fenced,
    close: async () => {},
  };
}
