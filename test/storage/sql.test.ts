import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { numberPlaceholders, OpsDbUnreachableError, openPostgres, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { type PgSchema, pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { freePort } from '../support/servers.ts';
import { sqlDbSuite } from './sql.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-sql-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const PG_OPTS = pgOptions(4);

sqlDbSuite('sqlite (temp file)', async () => {
  const raw = openDb(join(dir, `ops-${n++}.db`), { synchronous: 'FULL', migrations: [] });
  const db = sqliteSql(raw);
  return {
    db,
    close: async () => {
      await db.close();
      raw.close();
    },
  };
});

const hasPg = await pgAvailable();
let schema: PgSchema | undefined;
if (hasPg) {
  beforeAll(async () => {
    schema = await pgSchema();
  });
  afterAll(() => schema?.drop());
  // Each test gets an empty sub-schema of its own, so the contract starts from nothing every time.
  sqlDbSuite('postgres (machine server, random schema)', async () => {
    const s = await pgSchema();
    const db = await openPostgres(s.url, PG_OPTS);
    return {
      db,
      close: async () => {
        await db.close();
        await s.drop();
      },
    };
  });
}

describe('sqliteSql', () => {
  it('gives every caller on one connection the same queue, so no one writes into another’s transaction', async () => {
    const raw = openDb(join(dir, `ops-${n++}.db`), { synchronous: 'FULL', migrations: [] });
    try {
      const [a, b] = [sqliteSql(raw), sqliteSql(raw)];
      expect(b).toBe(a);
      await a.exec('CREATE TABLE t (id TEXT PRIMARY KEY)');
      let release = () => {};
      const held = new Promise<void>((r) => {
        release = r;
      });
      const tx = a.tx(async (q) => {
        await q.run('INSERT INTO t (id) VALUES (?)', ['inside']);
        await held;
        throw new Error('roll back');
      });
      const other = b.run('INSERT INTO t (id) VALUES (?)', ['other']);
      release();
      await expect(tx).rejects.toThrow('roll back');
      await other;
      expect(await b.all('SELECT id FROM t')).toEqual([{ id: 'other' }]);
    } finally {
      raw.close();
    }
  });
});

describe('numberPlaceholders', () => {
  it('numbers ? in order and skips literals, quoted names and comments', () => {
    expect(numberPlaceholders('SELECT a FROM t WHERE b = ? AND c IN (?, ?)')).toBe(
      'SELECT a FROM t WHERE b = $1 AND c IN ($2, $3)',
    );
    expect(
      numberPlaceholders(`SELECT '?', 'it''s ?', "odd?col" FROM t -- why?\nWHERE x = ? /* ? */ AND y = ?`),
    ).toBe(`SELECT '?', 'it''s ?', "odd?col" FROM t -- why?\nWHERE x = $1 /* ? */ AND y = $2`);
  });
});

describe.runIf(hasPg)('openPostgres', () => {
  it('stops the start with one clear error when nothing answers, and never shows the password', async () => {
    const port = await freePort();
    const url = `postgres://heatwatch:s3cret@127.0.0.1:${port}/ops`;
    const err = await openPostgres(url, { ...PG_OPTS, connectTimeoutMs: 2000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpsDbUnreachableError);
    expect((err as OpsDbUnreachableError).code).toBe('HW_ERR_OPS_DB_UNREACHABLE');
    expect((err as Error).message).toContain(`127.0.0.1:${port}`);
    expect((err as Error).message).not.toContain('s3cret');
  });

  it('cancels a statement past statementTimeoutMs and keeps serving', async () => {
    const s = schema as PgSchema;
    const db = await openPostgres(s.url, { ...PG_OPTS, statementTimeoutMs: 200 });
    try {
      await expect(db.get('SELECT pg_sleep(30)')).rejects.toThrow(/statement timeout/);
      expect(await db.get('SELECT 1 AS one')).toEqual({ one: 1 });
    } finally {
      await db.close();
    }
  });

  it('works in the schema it is given and refuses a schema name that is not an identifier', async () => {
    const s = schema as PgSchema;
    const { PG_URL } = await import('../support/postgres.ts');
    const db = await openPostgres(PG_URL, { ...PG_OPTS, schema: s.name });
    try {
      expect(await db.get('SELECT current_schema() AS s')).toEqual({ s: s.name });
    } finally {
      await db.close();
    }
    await expect(openPostgres(PG_URL, { ...PG_OPTS, schema: 'x; DROP' })).rejects.toThrow(/schema/);
  });

  it('applies a migration once when two instances start against one database together', async () => {
    const s = await pgSchema();
    const a = await openPostgres(s.url, PG_OPTS);
    const b = await openPostgres(s.url, PG_OPTS);
    try {
      const steps = [
        { id: 'race-001', sqlite: '', postgres: 'CREATE TABLE raced (x INTEGER)' },
        { id: 'race-002', sqlite: '', postgres: 'CREATE INDEX raced_x ON raced (x)' },
      ];
      const [ra, rb] = await Promise.all([migrateSql(a, steps), migrateSql(b, steps)]);
      expect([...ra, ...rb].sort()).toEqual(['race-001', 'race-002']);
      expect(await a.get('SELECT COUNT(*) AS c FROM schema_migrations')).toEqual({ c: 2 });
    } finally {
      await a.close();
      await b.close();
      await s.drop();
    }
  });
});
