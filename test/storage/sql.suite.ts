import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SqlDb } from '../../src/storage/sql.ts';
import { migrateSql, type SqlMigration } from '../../src/storage/sql-migrate.ts';

export interface SqlHarness {
  db: SqlDb;
  close(): Promise<void>;
}

const TABLES: SqlMigration[] = [
  {
    id: 'sqltest-001',
    sqlite: `CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, ts BIGINT NOT NULL, note TEXT);
             CREATE TABLE counter (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`,
    postgres: `CREATE TABLE t (id TEXT PRIMARY KEY, n INTEGER NOT NULL, ts BIGINT NOT NULL, note TEXT);
               CREATE TABLE counter (k TEXT PRIMARY KEY, n INTEGER NOT NULL)`,
  },
];

/** A promise the test resolves when it chooses: holds a transaction open while others try to write. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open = () => {};
  const wait = new Promise<void>((r) => {
    open = r;
  });
  return { wait, open };
}

/**
 * The query layer's contract: one suite, every backend passes it (CONTRIBUTING.md convention 5).
 * `make` opens a fresh, empty database each time.
 */
export function sqlDbSuite(name: string, make: () => Promise<SqlHarness>): void {
  describe(`SqlDb contract: ${name}`, () => {
    let h: SqlHarness;
    let db: SqlDb;
    beforeEach(async () => {
      h = await make();
      db = h.db;
      await migrateSql(db, TABLES);
    });
    afterEach(() => h.close());

    it('takes ? placeholders, leaves a ? in a literal alone, and counts changed rows', async () => {
      await db.run('INSERT INTO t (id, n, ts, note) VALUES (?, ?, ?, ?)', ['a', 1, 10, 'why?']);
      await db.run("INSERT INTO t (id, n, ts, note) VALUES (?, ?, ?, 'it''s ?')", ['b', 2, 20]);
      expect(
        await db.all("SELECT id, note FROM t WHERE note LIKE '%?%' AND n >= ? ORDER BY id", [1]),
      ).toEqual([
        { id: 'a', note: 'why?' },
        { id: 'b', note: "it's ?" },
      ]);
      expect(await db.run('UPDATE t SET n = n + ? WHERE n < ?', [10, 100])).toEqual({ changes: 2 });
      expect(await db.run('DELETE FROM t WHERE id = ?', ['none'])).toEqual({ changes: 0 });
      expect(await db.get('SELECT id FROM t WHERE id = ?', ['none'])).toBeUndefined();
    });

    it('returns big integers and counts as JS numbers', async () => {
      const ts = 1_796_000_000_123; // epoch ms: past 32 bits, an int8 in PostgreSQL
      await db.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['a', 7, ts]);
      await db.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['b', 8, ts + 1]);
      expect(await db.get('SELECT ts, n FROM t WHERE id = ?', ['a'])).toEqual({ ts, n: 7 });
      expect(await db.get('SELECT COUNT(*) AS c, SUM(ts) AS s, MAX(ts) AS m FROM t')).toEqual({
        c: 2,
        s: 2 * ts + 1,
        m: ts + 1,
      });
    });

    it('commits a transaction that resolves, and rolls back every write of one that throws', async () => {
      await db.tx(async (q) => {
        await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['kept', 1, 1]);
      });
      const boom = new Error('decided against it');
      await expect(
        db.tx(async (q) => {
          await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['gone', 1, 1]);
          await q.run('UPDATE t SET n = 99 WHERE id = ?', ['kept']);
          throw boom;
        }),
      ).rejects.toBe(boom);
      expect(await db.all('SELECT id, n FROM t ORDER BY id')).toEqual([{ id: 'kept', n: 1 }]);
      // A failing statement rolls back too, and the database stays usable.
      await expect(
        db.tx(async (q) => {
          await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['x', 1, 1]);
          await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['kept', 1, 1]);
        }),
      ).rejects.toThrow();
      expect(await db.all('SELECT id FROM t ORDER BY id')).toEqual([{ id: 'kept' }]);
    });

    it('keeps another caller’s write out of a transaction that is still open', async () => {
      const g = gate();
      const started = gate();
      const txDone = db.tx(async (q) => {
        await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['inside', 1, 1]);
        started.open();
        await g.wait;
        throw new Error('roll back');
      });
      await started.wait;
      const outside = db.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', ['outside', 2, 2]);
      g.open();
      await expect(txDone).rejects.toThrow('roll back');
      await outside;
      expect(await db.all('SELECT id FROM t')).toEqual([{ id: 'outside' }]);
    });

    it('loses no increment when many transactions run at once', async () => {
      await db.run('INSERT INTO counter (k, n) VALUES (?, 0)', ['c']);
      const N = 40;
      await Promise.all(
        Array.from({ length: N }, (_, i) =>
          db.tx(async (q) => {
            await q.run('UPDATE counter SET n = n + 1 WHERE k = ?', ['c']);
            await q.run('INSERT INTO t (id, n, ts) VALUES (?, ?, ?)', [`r${i}`, i, i]);
          }),
        ),
      );
      expect(await db.get('SELECT n FROM counter')).toEqual({ n: N });
      expect(await db.get('SELECT COUNT(*) AS c FROM t')).toEqual({ c: N });
    });

    it('applies each migration once, records it, and applies nothing of a list with a failing step', async () => {
      const more: SqlMigration[] = [
        ...TABLES,
        {
          id: 'sqltest-002',
          sqlite: 'ALTER TABLE t ADD COLUMN extra TEXT',
          postgres: 'ALTER TABLE t ADD COLUMN extra TEXT',
        },
      ];
      expect(await migrateSql(db, more, () => 5)).toEqual(['sqltest-002']);
      expect(await migrateSql(db, more)).toEqual([]);
      expect(await db.all('SELECT id, applied_at FROM schema_migrations ORDER BY id')).toEqual([
        { id: 'sqltest-001', applied_at: expect.any(Number) },
        { id: 'sqltest-002', applied_at: 5 },
      ]);
      const broken: SqlMigration[] = [
        ...more,
        { id: 'sqltest-003', sqlite: 'CREATE TABLE u (x INTEGER)', postgres: 'CREATE TABLE u (x INTEGER)' },
        { id: 'sqltest-004', sqlite: 'CREATE TABLE nonsense (', postgres: 'CREATE TABLE nonsense (' },
      ];
      await expect(migrateSql(db, broken)).rejects.toThrow(/migration sqltest-004 failed/);
      expect(await db.all("SELECT id FROM schema_migrations WHERE id >= 'sqltest-003'")).toEqual([]);
      // The table of the step before the failing one was rolled back with it.
      await expect(db.all('SELECT x FROM u')).rejects.toThrow();
      await expect(migrateSql(db, [...TABLES, ...TABLES])).rejects.toThrow(/listed twice/);
    });

    it('refuses, when asked, a database a newer release migrated, and changes nothing in it', async () => {
      const step = (id: string, sql: string): SqlMigration => ({ id, sqlite: sql, postgres: sql });
      await migrateSql(db, [...TABLES, step('sqltest-009', 'CREATE TABLE v (x INTEGER)')]);
      // Unasked (one module's own steps on a shared table), the other steps are no concern.
      expect(await migrateSql(db, TABLES)).toEqual([]);
      const older = [...TABLES, step('sqltest-002', 'CREATE TABLE u (x INTEGER)')];
      await expect(migrateSql(db, older, Date.now, { refuseNewer: true })).rejects.toThrow(
        /does not know \(sqltest-009\): a newer release upgraded it/,
      );
      expect(await db.all('SELECT id FROM schema_migrations ORDER BY id')).toEqual([
        { id: 'sqltest-001' },
        { id: 'sqltest-009' },
      ]);
      await expect(db.all('SELECT x FROM u')).rejects.toThrow();
    });
  });
}
