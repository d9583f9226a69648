import type { FastifyRequest } from 'fastify';
import type { SqlDb } from '../storage/sql.ts';
import { type SqlMigration, sqliteMigrations } from '../storage/sql-migrate.ts';
import type { Migration } from '../storage/sqlite.ts';

const auditTable = (t: { id: string; time: string }) => `CREATE TABLE http_audit (
      id ${t.id},
      ts ${t.time} NOT NULL,
      actor TEXT NOT NULL,
      role TEXT,
      ip TEXT,
      method TEXT NOT NULL,
      path TEXT NOT NULL,
      action TEXT NOT NULL,
      target TEXT,
      outcome TEXT NOT NULL,
      status INTEGER NOT NULL,
      detail TEXT
    );
    CREATE INDEX http_audit_ts ON http_audit (ts);`;

/**
 * The audit log: one row for every write through the API and every failed login (issue: who, what,
 * when). Append-only by construction: triggers refuse UPDATE and DELETE (and, on PostgreSQL,
 * TRUNCATE), so even a bug in heatwatch cannot rewrite history; pruning, if ever wanted, is a
 * deliberate schema step. On the ops query layer, so a city's API instances share one log.
 */
export const auditMigrations: readonly SqlMigration[] = [
  {
    id: 'http-001-audit',
    sqlite: `${auditTable({ id: 'INTEGER PRIMARY KEY AUTOINCREMENT', time: 'INTEGER' })}
    CREATE TRIGGER http_audit_no_update BEFORE UPDATE ON http_audit
      BEGIN SELECT RAISE(ABORT, 'http_audit is append-only'); END;
    CREATE TRIGGER http_audit_no_delete BEFORE DELETE ON http_audit
      BEGIN SELECT RAISE(ABORT, 'http_audit is append-only'); END;`,
    postgres: `${auditTable({ id: 'BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY', time: 'BIGINT' })}
    CREATE FUNCTION http_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN RAISE EXCEPTION 'http_audit is append-only'; END $$;
    CREATE TRIGGER http_audit_no_change BEFORE UPDATE OR DELETE ON http_audit
      FOR EACH ROW EXECUTE FUNCTION http_audit_append_only();
    CREATE TRIGGER http_audit_no_truncate BEFORE TRUNCATE ON http_audit
      FOR EACH STATEMENT EXECUTE FUNCTION http_audit_append_only();`,
  },
];

/** The SQLite ops.db's http tables: the audit log, and the first-start admin token (local to an instance). */
export const httpMigrations: Migration[] = [
  ...sqliteMigrations(auditMigrations),
  {
    id: 'http-002-admin-token',
    // Only the hash of the token created on first start; the token itself is printed once.
    sql: `CREATE TABLE http_admin_token (
      id INTEGER PRIMARY KEY CHECK (id = 1),
      token_hash TEXT NOT NULL,
      created_ts INTEGER NOT NULL
    );`,
  },
];

export interface AuditEntry {
  ts: number;
  actor: string;
  role?: string;
  ip?: string;
  method: string;
  path: string;
  /** e.g. `ticket.approve`, `reading.manual`, `login.failed`. */
  action: string;
  target?: string;
  outcome: 'ok' | 'refused' | 'failed';
  status: number;
  detail?: string;
}

/**
 * The audit row of one HTTP request: who asked (principal, address) and for what (method, route)
 * come from the request, the rest from the caller. Marks the request as audited, so the error path
 * never writes a second row for it.
 */
export function auditRequest(
  log: AuditLog,
  ts: number,
  req: FastifyRequest,
  e: Pick<AuditEntry, 'action' | 'target' | 'outcome' | 'status' | 'detail'>,
): Promise<void> {
  req.audited = true;
  return log.record({
    ts,
    actor: req.principal?.name ?? 'anonymous',
    role: req.principal?.role,
    ip: req.ip,
    method: req.method,
    path: req.routeOptions.url ?? req.url.split('?')[0]!,
    ...e,
  });
}

export interface AuditRow {
  id: number;
  ts: number;
  actor: string;
  role: string | null;
  ip: string | null;
  method: string;
  path: string;
  action: string;
  target: string | null;
  outcome: string;
  status: number;
  detail: string | null;
}

/** Detail text is bounded so a hostile request cannot grow the log by its size. */
const DETAIL_MAX_CHARS = 2000;

export class AuditLog {
  constructor(private readonly db: SqlDb) {}

  async record(e: AuditEntry): Promise<void> {
    await this.db.run(
      `INSERT INTO http_audit (ts, actor, role, ip, method, path, action, target, outcome, status, detail)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        e.ts,
        e.actor.slice(0, 128),
        e.role ?? null,
        e.ip ?? null,
        e.method,
        e.path.slice(0, 512),
        e.action,
        e.target?.slice(0, 256) ?? null,
        e.outcome,
        e.status,
        e.detail?.slice(0, DETAIL_MAX_CHARS) ?? null,
      ],
    );
  }

  page(limit: number, beforeId?: number): Promise<AuditRow[]> {
    return beforeId === undefined
      ? this.db.all<AuditRow>('SELECT * FROM http_audit ORDER BY id DESC LIMIT ?', [limit])
      : this.db.all<AuditRow>('SELECT * FROM http_audit WHERE id < ? ORDER BY id DESC LIMIT ?', [
          beforeId,
          limit,
        ]);
  }
}
