import { join } from 'node:path';
import { type Db, type Migration, openDb } from '../storage/sqlite.ts';
import type { BackupSetResult } from './backup.ts';

/**
 * The backup catalog: one row per backup run, failed ones included, in `<backup.dir>/catalog.db`, so
 * an operator sees when the last good backup was taken even after sets have been pruned. It lives
 * beside the sets, not in the data directory, so restoring a set never rewinds the catalog.
 *
 * Schema history (src/storage/sqlite.ts records applied ids in schema_migrations):
 *   ops-001  the first release: when, where, ok, reason.
 *   ops-002  adds the size of each set (files, bytes) and an index for "latest good backup";
 *            rows written by ops-001 keep their values and get NULL sizes (unknown, not zero).
 */
export const catalogMigrations: readonly Migration[] = [
  {
    id: 'ops-001',
    sql: `
      CREATE TABLE backup_runs (
        id         INTEGER PRIMARY KEY AUTOINCREMENT,
        created_ms INTEGER NOT NULL,
        set_dir    TEXT    NOT NULL,
        ok         INTEGER NOT NULL CHECK (ok IN (0, 1)),
        reason     TEXT
      );
    `,
  },
  {
    id: 'ops-002',
    sql: `
      ALTER TABLE backup_runs ADD COLUMN files INTEGER;
      ALTER TABLE backup_runs ADD COLUMN bytes INTEGER;
      CREATE INDEX backup_runs_ok_created ON backup_runs (ok, created_ms);
    `,
  },
];

export interface BackupRun {
  id: number;
  createdMs: number;
  setDir: string;
  ok: boolean;
  reason: string | null;
  files: number | null;
  bytes: number | null;
}

export const CATALOG_FILE = 'catalog.db';

export function openCatalog(backupDir: string): Db {
  return openDb(join(backupDir, CATALOG_FILE), { synchronous: 'FULL', migrations: catalogMigrations });
}

export function recordRun(db: Db, createdMs: number, r: BackupSetResult): void {
  db.prepare(
    'INSERT INTO backup_runs (created_ms, set_dir, ok, reason, files, bytes) VALUES (?, ?, ?, ?, ?, ?)',
  ).run(
    createdMs,
    r.dir,
    r.ok ? 1 : 0,
    r.ok ? null : r.reason,
    r.ok ? r.manifest.files.length : null,
    r.ok ? r.manifest.files.reduce((n, f) => n + f.bytes, 0) : null,
  );
}

export function listRuns(db: Db, limit: number): BackupRun[] {
  const rows = db
    .prepare(
      `SELECT id, created_ms AS createdMs, set_dir AS setDir, ok, reason, files, bytes
       FROM backup_runs ORDER BY created_ms DESC, id DESC LIMIT ?`,
    )
    .all(limit) as Array<Omit<BackupRun, 'ok'> & { ok: number }>;
  return rows.map((r) => ({ ...r, ok: r.ok === 1 }));
}
