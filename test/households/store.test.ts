import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { householdsMigrations } from '../../src/households/module.ts';
import { SqlHouseholdsStore } from '../../src/households/sql-store.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { openPostgres, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql, sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { householdsStoreSuite } from './store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-hh-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

householdsStoreSuite('sqlite (temp file)', async () => {
  // Opened as main opens it: the ops database with every ingest table and the households steps.
  const raw = openOpsDb(join(dir, `ops-${n++}.db`), sqliteMigrations(householdsMigrations));
  const sql = sqliteSql(raw);
  return { sql, peer: async () => sql, close: async () => void raw.close() };
});

const PG_OPTS = pgOptions(4);

if (await pgAvailable())
  householdsStoreSuite('postgres (machine server, random schema)', async () => {
    const s = await pgSchema();
    const sql = await openPostgres(s.url, PG_OPTS);
    await migrateSql(sql, householdsMigrations);
    const peers = [sql];
    return {
      sql,
      peer: async () => {
        const p = await openPostgres(s.url, PG_OPTS);
        // A second instance starting runs the migrations too: nothing is applied twice.
        expect(await migrateSql(p, householdsMigrations)).toEqual([]);
        peers.push(p);
        return p;
      },
      close: async () => {
        for (const p of peers) await p.close();
        await s.drop();
      },
    };
  });

describe('households store: an ops.db of the previous release', () => {
  it('opens with every row kept and goes on from there', async () => {
    const file = join(dir, 'previous-release.db');
    const old = new Database(file);
    old.exec(readFileSync('test/fixtures/ops-db-households-v1.sql', 'utf8'));
    old.close();
    const raw = openOpsDb(file, sqliteMigrations(householdsMigrations));
    try {
      const sql = sqliteSql(raw);
      expect(await migrateSql(sql, householdsMigrations)).toEqual([]);
      const store = new SqlHouseholdsStore(sql);
      const [k] = await store.listCases({});
      expect(k).toMatchObject({ id: 'case-7520c8ddfb', unitKey: 'n01/1-2', complaints: 1 });
      expect(await store.caseEvents(k!.id)).toHaveLength(8);
      expect(await store.complaints({})).toHaveLength(2);
      expect(await store.tasks({})).toHaveLength(1);
      expect(await store.measurements({ unitKey: 'n01/1-2' })).toHaveLength(1);
      expect(await store.workOrders({})).toHaveLength(2);
      expect(await store.reports('bulletin', 10)).toHaveLength(1);
      const pending = await store.outboxItems({ state: 'pending', limit: 100 });
      expect(pending).toHaveLength(6);
      // Its undelivered messages are claimed and delivered like new ones.
      const now = Date.UTC(2026, 0, 16);
      expect(await store.outboxClaim(now, 100, now + 60_000)).toHaveLength(6);
      // New decisions append after the old rows (event ids go on from the old sequence).
      await store.commit(
        {
          cases: [],
          events: [{ caseId: k!.id, ts: now, actor: 'otto', kind: 'note', note: 'after the upgrade' }],
          complaints: [],
          tasks: [],
          measurements: [],
          workOrders: [],
          outbox: [],
          alerts: [],
        },
        now,
      );
      expect((await store.caseEvents(k!.id)).at(-1)).toMatchObject({ note: 'after the upgrade' });
    } finally {
      raw.close();
    }
  });
});
