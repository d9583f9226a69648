import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import Database from 'better-sqlite3';

export type Db = Database.Database;

/** A schema step. Ids are applied once, in the order given, and recorded in `schema_migrations`. */
export interface Migration {
  id: string;
  sql: string;
}

export interface OpenOptions {
  /**
   * `FULL` where a lost transaction would lose a ticket or an acknowledged reading: the WAL is
   * fsynced at every commit, so a power cut loses nothing committed. `NORMAL` (fsync at checkpoint)
   * survives a killed process but may lose the last commits to a power cut; used for caches only.
   */
  synchronous: 'FULL' | 'NORMAL';
  migrations: readonly Migration[];
  busyTimeoutMs?: number;
}

/** Opens a SQLite file in WAL mode and brings its schema up to date. */
export function openDb(file: string, opts: OpenOptions): Db {
  if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma(`synchronous = ${opts.synchronous}`);
  db.pragma(`busy_timeout = ${opts.busyTimeoutMs ?? 5000}`);
  db.pragma('foreign_keys = ON');
  migrate(db, opts.migrations);
  return db;
}

export function migrate(db: Db, migrations: readonly Migration[]): string[] {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    id TEXT PRIMARY KEY,
    applied_at INTEGER NOT NULL
  )`);
  const done = new Set(
    (db.prepare('SELECT id FROM schema_migrations').all() as Array<{ id: string }>).map((r) => r.id),
  );
  const applied: string[] = [];
  const record = db.prepare('INSERT INTO schema_migrations (id, applied_at) VALUES (?, ?)');
  for (const m of migrations) {
    if (done.has(m.id)) continue;
    db.transaction(() => {
      db.exec(m.sql);
      record.run(m.id, Date.now());
    })();
    applied.push(m.id);
  }
  return applied;
}

/**
 * A prepared-statement cache over one database: modules that ask the same questions every tick
 * prepare each SQL text once. Returns the lookup function.
 */
export function statementCache(db: Db): (sql: string) => Database.Statement<unknown[]> {
  const statements = new Map<string, Database.Statement<unknown[]>>();
  return (sql) => {
    let st = statements.get(sql);
    if (!st) {
      st = db.prepare(sql);
      statements.set(sql, st);
    }
    return st;
  };
}
