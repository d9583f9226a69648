import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { catalogMigrations, listRuns, openCatalog } from '../../src/ops/catalog.ts';
import { migrate, openDb } from '../../src/storage/sqlite.ts';

let dir: string;
beforeEach(() => {
  dir = mkdtempSync(join(tmpdir(), 'hw-migrate-'));
});
afterEach(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe('schema upgrades through the version table', () => {
  it('brings a catalog written by the previous release (ops-001 only) forward with its rows intact', () => {
    // The previous release: only ops-001 existed, and it wrote two runs.
    const v1 = openDb(join(dir, 'catalog.db'), {
      synchronous: 'FULL',
      migrations: catalogMigrations.slice(0, 1),
    });
    const ins = v1.prepare('INSERT INTO backup_runs (created_ms, set_dir, ok, reason) VALUES (?, ?, ?, ?)');
    ins.run(1_000, '/b/2026-01-01', 1, null);
    ins.run(2_000, '/b/2026-01-02', 0, 'disk full');
    expect(v1.prepare('SELECT id FROM schema_migrations').pluck().all()).toEqual(['ops-001']);
    v1.close();

    // This release opens it: ops-002 runs once, the old rows keep their values, sizes are unknown.
    const v2 = openCatalog(dir);
    expect(v2.prepare('SELECT id FROM schema_migrations ORDER BY rowid').pluck().all()).toEqual([
      'ops-001',
      'ops-002',
    ]);
    const runs = listRuns(v2, 10);
    expect(runs).toEqual([
      {
        id: 2,
        createdMs: 2_000,
        setDir: '/b/2026-01-02',
        ok: false,
        reason: 'disk full',
        files: null,
        bytes: null,
      },
      { id: 1, createdMs: 1_000, setDir: '/b/2026-01-01', ok: true, reason: null, files: null, bytes: null },
    ]);
    const indexes = v2
      .prepare("SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = 'backup_runs'")
      .pluck()
      .all();
    expect(indexes).toContain('backup_runs_ok_created');
    v2.close();
    // Opening again applies nothing.
    const again = openDb(join(dir, 'catalog.db'), { synchronous: 'FULL', migrations: catalogMigrations });
    expect(migrate(again, catalogMigrations)).toEqual([]);
    again.close();
  });

  it('leaves the database at the old version when an upgrade step fails', () => {
    const db = openDb(join(dir, 'catalog.db'), {
      synchronous: 'FULL',
      migrations: catalogMigrations.slice(0, 1),
    });
    db.prepare("INSERT INTO backup_runs (created_ms, set_dir, ok) VALUES (1, '/b', 1)").run();
    const broken = [
      ...catalogMigrations,
      {
        id: 'ops-999',
        sql: 'ALTER TABLE backup_runs ADD COLUMN x INTEGER; ALTER TABLE no_such_table ADD COLUMN y',
      },
    ];
    expect(() => migrate(db, broken)).toThrow(/no_such_table/);
    // ops-002 committed on its own; the failed step left neither its column nor its version row.
    expect(db.prepare('SELECT id FROM schema_migrations ORDER BY rowid').pluck().all()).toEqual([
      'ops-001',
      'ops-002',
    ]);
    const cols = (db.prepare('PRAGMA table_info(backup_runs)').all() as Array<{ name: string }>).map(
      (c) => c.name,
    );
    expect(cols).not.toContain('x');
    expect(db.prepare('SELECT count(*) FROM backup_runs').pluck().get()).toBe(1);
    db.close();
  });
});
