import pg from 'pg';
import { HwError } from '../core/errors.ts';
import { type Db, statementCache } from './sqlite.ts';

/**
 * The one query layer of the operational database (docs/architecture.md decision 3): the same SQL
 * text runs on the embedded SQLite file and on a city's PostgreSQL. Plain SQL through one small
 * adapter, not a query builder: the ops tables are few, their queries short, and both dialects
 * accept the same text for nearly all of them (`?` placeholders are numbered here for PostgreSQL;
 * `ON CONFLICT`, `RETURNING` and partial indexes exist in both).
 */
export type SqlDialect = 'sqlite' | 'postgres';

export interface SqlExecutor {
  readonly dialect: SqlDialect;
  /** `?` placeholders in both dialects; integers come back as JS numbers in both. */
  all<T>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly unknown[]): Promise<T | undefined>;
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /** A script of several statements without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface SqlDb extends SqlExecutor {
  /**
   * Runs `fn` in one transaction: committed when it resolves, rolled back when it throws. SQLite:
   * serialised on the one connection by an async mutex, `BEGIN IMMEDIATE` (the write lock is taken
   * up front, so two writers never deadlock upgrading a read lock); PostgreSQL: one pooled client.
   * Use only `q` inside `fn`: calling this SqlDb there waits for the transaction and never returns.
   */
  tx<T>(fn: (q: SqlExecutor) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/** A FIFO async mutex: each holder runs after the previous one settled. */
class Mutex {
  private tail: Promise<unknown> = Promise.resolve();

  run<T>(fn: () => Promise<T>): Promise<T> {
    const result = this.tail.then(fn, fn);
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const sqliteSqls = new WeakMap<Db, SqlDb>();

/**
 * The SqlDb over an open better-sqlite3 connection (the ops database of `openOpsDb`). Every call
 * waits for the transaction in progress, so a statement of another caller never lands inside it;
 * every caller asking for the same connection gets the same SqlDb, so they all queue on one mutex.
 * Closing the connection stays with its opener (main's `ops-db` module): `close` only waits for the
 * work in flight. Code that still uses the connection directly (synchronous better-sqlite3 calls)
 * bypasses the queue: it must not run while a `tx` of this SqlDb awaits something other than it.
 */
export function sqliteSql(db: Db): SqlDb {
  let sql = sqliteSqls.get(db);
  if (!sql) {
    sql = sqliteAdapter(db);
    sqliteSqls.set(db, sql);
  }
  return sql;
}

function sqliteAdapter(db: Db): SqlDb {
  const stmt = statementCache(db);
  const raw: SqlExecutor = {
    dialect: 'sqlite',
    all: async <T>(sql: string, params: readonly unknown[] = []) => stmt(sql).all(...params) as T[],
    get: async <T>(sql: string, params: readonly unknown[] = []) => stmt(sql).get(...params) as T | undefined,
    run: async (sql, params = []) => ({ changes: stmt(sql).run(...params).changes }),
    exec: async (sql) => void db.exec(sql),
  };
  const mutex = new Mutex();
  return {
    dialect: 'sqlite',
    all: (sql, params) => mutex.run(() => raw.all(sql, params)),
    get: (sql, params) => mutex.run(() => raw.get(sql, params)),
    run: (sql, params) => mutex.run(() => raw.run(sql, params)),
    exec: (sql) => mutex.run(() => raw.exec(sql)),
    tx: (fn) =>
      mutex.run(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const out = await fn(raw);
          db.exec('COMMIT');
          return out;
        } catch (err) {
          if (db.inTransaction) db.exec('ROLLBACK');
          throw err;
        }
      }),
    close: () => mutex.run(async () => undefined),
  };
}

/**
 * Numbers `?` placeholders as `$1..$n` for PostgreSQL, leaving `?` inside string literals, quoted
 * identifiers and comments alone.
 */
export function numberPlaceholders(sql: string): string {
  let out = '';
  let n = 0;
  let i = 0;
  while (i < sql.length) {
    const c = sql[i];
    const end = skipQuoted(sql, i);
    if (end > i) {
      out += sql.slice(i, end);
      i = end;
    } else {
      out += c === '?' ? `$${++n}` : c;
      i++;
    }
  }
  return out;
}

/** The index after the literal, identifier or comment starting at `i`, or `i` when none starts there. */
function skipQuoted(sql: string, i: number): number {
  const c = sql[i];
  if (c === "'" || c === '"') {
    // A doubled quote inside is an escaped quote: the scan simply continues past it.
    let j = i + 1;
    while (j < sql.length) {
      if (sql[j] === c) {
        if (sql[j + 1] === c) j += 2;
        else return j + 1;
      } else j++;
    }
    return sql.length;
  }
  if (c === '-' && sql[i + 1] === '-') {
    const nl = sql.indexOf('\n', i);
    return nl < 0 ? sql.length : nl;
  }
  if (c === '/' && sql[i + 1] === '*') {
    const close = sql.indexOf('*/', i + 2);
    return close < 0 ? sql.length : close + 2;
  }
  return i;
}

export interface PostgresOptions {
  /** Most connections this instance holds open (`ops.postgres.poolSize`). */
  poolSize: number;
  /** A new connection must be established within this time (`ops.postgres.connectTimeoutMs`). */
  connectTimeoutMs: number;
  /** The server cancels a statement running longer than this (`ops.postgres.statementTimeoutMs`). */
  statementTimeoutMs: number;
  /** An unused pooled connection is closed after this long (`ops.postgres.idleTimeoutMs`). */
  idleTimeoutMs: number;
  /** Tables are created and read in this schema (search_path); absent: the URL's or the server's. */
  schema?: string;
  /** Errors of idle pooled connections (server restarted, network cut); the pool replaces them. */
  onIdleError?: (err: Error) => void;
}

const PG_INT8 = 20;
const PG_NUMERIC = 1700;

/** int8 (counts, epoch milliseconds) and numeric (sums) as JS numbers, as SQLite returns them. */
function toNumber(text: string): number {
  const n = Number(text);
  if (!Number.isFinite(n) || (Number.isInteger(n) && !Number.isSafeInteger(n)))
    throw new Error(`PostgreSQL value ${text} does not fit a JS number`);
  return n;
}

const pgTypes = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === PG_INT8 || oid === PG_NUMERIC
      ? toNumber
      : pg.types.getTypeParser(oid, format ?? 'text')) as typeof pg.types.getTypeParser,
};

/** The URL without its password, for messages and logs. */
export function redactUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(unparseable HEATWATCH_PG_URL)';
  }
}

/** Thrown when the ops database on PostgreSQL cannot be reached or refuses us at start. */
export class OpsDbUnreachableError extends HwError {
  constructor(url: string, cause: unknown) {
    const why =
      cause instanceof Error
        ? cause.message || (cause as { code?: string }).code || cause.name
        : String(cause);
    super(
      'HW_ERR_OPS_DB_UNREACHABLE',
      503,
      `the operational database on PostgreSQL at ${redactUrl(url)} is not reachable: ${why}`,
    );
    this.name = 'OpsDbUnreachableError';
  }
}

/**
 * Failures that mean "the server cannot be reached now" rather than "this statement is wrong":
 * socket errors, pg's own connection messages, SQLSTATE class 08 (connection exception) and the
 * server shutting down or starting (57P01–57P03).
 */
const UNREACHABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
  '57P01',
  '57P02',
  '57P03',
]);

export function isUnreachable(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (UNREACHABLE_CODES.has(code) || /^08/.test(code))) return true;
  return /Connection terminated|timeout exceeded when trying to connect|connection error|Client was closed|not queryable/i.test(
    err.message,
  );
}

/**
 * The operational database on PostgreSQL stopped answering while heatwatch runs: a 503 in the API's
 * error shape (`HW_ERR_OPS_DB_UNAVAILABLE`), so an operator's action is refused at once and can be
 * retried; readings never wait on this database.
 */
export class OpsDbUnavailableError extends HwError {
  constructor(cause: unknown) {
    super('HW_ERR_OPS_DB_UNAVAILABLE', 503, 'The operational database is not reachable; try again shortly.');
    this.name = 'OpsDbUnavailableError';
    this.cause = cause;
  }
}

/** Rethrows a connection failure as OpsDbUnavailableError, anything else as it is. */
const unavailable = (err: unknown): unknown => (isUnreachable(err) ? new OpsDbUnavailableError(err) : err);

async function guarded<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw unavailable(err);
  }
}

type PgQueryable = Pick<pg.PoolClient, 'query'>;

function pgExecutor(client: PgQueryable): SqlExecutor {
  const numbered = new Map<string, string>();
  const text = (sql: string) => {
    let t = numbered.get(sql);
    if (t === undefined) {
      t = numberPlaceholders(sql);
      numbered.set(sql, t);
    }
    return t;
  };
  const rows = <T>(sql: string, params: readonly unknown[] = []) =>
    guarded(async () => (await client.query(text(sql), params as unknown[])).rows as T[]);
  return {
    dialect: 'postgres',
    all: rows,
    get: async <T>(sql: string, params?: readonly unknown[]) => (await rows<T>(sql, params))[0],
    run: (sql, params = []) =>
      guarded(async () => ({ changes: (await client.query(text(sql), params as unknown[])).rowCount ?? 0 })),
    // Without parameters pg uses the simple query protocol, which runs several statements.
    exec: (sql) => guarded(async () => void (await client.query(sql))),
  };
}

/**
 * Opens a pool on the city's PostgreSQL and checks it answers, so a wrong URL or a server that is
 * down stops the start with one clear error (OpsDbUnreachableError) instead of failing later.
 */
export async function openPostgres(url: string, opts: PostgresOptions): Promise<SqlDb> {
  if (opts.schema !== undefined && !/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(opts.schema))
    throw new Error(`schema '${opts.schema}': letters, digits and _ only, not starting with a digit`);
  const pool = new pg.Pool({
    connectionString: url,
    max: opts.poolSize,
    connectionTimeoutMillis: opts.connectTimeoutMs,
    idleTimeoutMillis: opts.idleTimeoutMs,
    statement_timeout: opts.statementTimeoutMs,
    types: pgTypes,
    ...(opts.schema !== undefined ? { options: `-c search_path=${opts.schema}` } : {}),
  });
  // Without a listener an idle client's error (server restart) would crash the process.
  pool.on('error', (err) => opts.onIdleError?.(err));
  try {
    await pool.query('SELECT 1');
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new OpsDbUnreachableError(url, err);
  }
  const q = pgExecutor(pool);
  return {
    ...q,
    tx: async (fn) => {
      const client = await guarded(() => pool.connect());
      let broken: Error | undefined;
      // A checked-out client has no pool listener: a connection lost between two statements would
      // be an uncaught 'error' event (a crash) without this one. The next statement then fails.
      const onError = (e: Error) => {
        broken = e;
      };
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const out = await fn(pgExecutor(client));
        await client.query('COMMIT');
        return out;
      } catch (err) {
        await client.query('ROLLBACK').catch((e: Error) => {
          broken = e;
        });
        throw unavailable(err);
      } finally {
        client.off('error', onError);
        // A client whose rollback failed is in an unknown state: destroyed, not reused.
        client.release(broken);
      }
    },
    close: () => pool.end(),
  };
}
