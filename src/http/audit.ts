import type { FastifyRequest } from 'fastify';
import type { Db, Migration } from '../storage/sqlite.ts';

/**
 * The audit log: one row for every write through the API and every failed login (issue: who, what,
 * when). Append-only by construction: triggers refuse UPDATE and DELETE, so even a bug in heatwatch
 * cannot rewrite history; pruning, if ever wanted, is a deliberate schema step.
 */
export const httpMigrations: Migration[] = [
  {
    id: 'http-001-audit',
    sql: `CREATE TABLE http_audit (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      ts INTEGER NOT NULL,
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
    CREATE INDEX http_audit_ts ON http_audit (ts);
    CREATE TRIGGER http_audit_no_update BEFORE UPDATE ON http_audit
      BEGIN SELECT RAISE(ABORT, 'http_audit is append-only'); END;
    CREATE TRIGGER http_audit_no_delete BEFORE DELETE ON http_audit
      BEGIN SELECT RAISE(ABORT, 'http_audit is append-only'); END;`,
  },
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
): void {
  req.audited = true;
  log.record({
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
  private insert?: ReturnType<Db['prepare']>;

  constructor(private readonly db: Db) {}

  record(e: AuditEntry): void {
    this.insert ??= this.db.prepare(
      `INSERT INTO http_audit (ts, actor, role, ip, method, path, action, target, outcome, status, detail)
       VALUES (@ts, @actor, @role, @ip, @method, @path, @action, @target, @outcome, @status, @detail)`,
    );
    this.insert.run({
      ts: e.ts,
      actor: e.actor.slice(0, 128),
      role: e.role ?? null,
      ip: e.ip ?? null,
      method: e.method,
      path: e.path.slice(0, 512),
      action: e.action,
      target: e.target?.slice(0, 256) ?? null,
      outcome: e.outcome,
      status: e.status,
      detail: e.detail?.slice(0, DETAIL_MAX_CHARS) ?? null,
    });
  }

  page(limit: number, beforeId?: number): AuditRow[] {
    return this.db
      .prepare(
        `SELECT * FROM http_audit WHERE (@before IS NULL OR id < @before) ORDER BY id DESC LIMIT @limit`,
      )
      .all({ before: beforeId ?? null, limit }) as AuditRow[];
  }
}
