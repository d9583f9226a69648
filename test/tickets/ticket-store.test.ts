import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { rulesMigrations, rulesSqlMigrations } from '../../src/rules/module.ts';
import { SqlResponseStore } from '../../src/rules/response-store.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { openPostgres, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { ticketMigrations, ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { proposal, ticketStoreSuite } from './ticket-store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-ticket-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

ticketStoreSuite('sqlite (temp file)', async () => {
  // Opened as main opens it: the ops database with every ingest table, the ticket and rules steps.
  const raw = openOpsDb(join(dir, `ops-${n++}.db`), [...ticketMigrations, ...rulesMigrations]);
  const sql = sqliteSql(raw);
  return { sql, peer: async () => sql, shared: false, close: async () => void raw.close() };
});

const PG_OPTS = pgOptions(8);
const MIGRATIONS = [...ticketSqlMigrations, ...rulesSqlMigrations];

if (await pgAvailable())
  ticketStoreSuite('postgres (machine server, random schema)', async () => {
    const s = await pgSchema();
    const sql = await openPostgres(s.url, PG_OPTS);
    await migrateSql(sql, MIGRATIONS);
    const peers = [sql];
    return {
      sql,
      shared: true,
      peer: async () => {
        const p = await openPostgres(s.url, PG_OPTS);
        // A second instance starting runs the migrations too: nothing is applied twice.
        expect(await migrateSql(p, MIGRATIONS)).toEqual([]);
        peers.push(p);
        return p;
      },
      close: async () => {
        for (const p of peers) await p.close();
        await s.drop();
      },
    };
  });

describe('ticket store: an ops.db of the previous release', () => {
  it('opens with its tickets, re-checks, outbox, checkpoint and learnt responses kept, and goes on', async () => {
    const file = join(dir, 'previous-release.db');
    const old = new Database(file);
    old.exec(readFileSync('test/fixtures/ops-db-tickets-v1.sql', 'utf8'));
    old.close();
    const raw = openOpsDb(file, [...ticketMigrations, ...rulesMigrations]);
    try {
      const sql = sqliteSql(raw);
      expect(await migrateSql(sql, MIGRATIONS)).toEqual([]);
      const clock = new ManualClock(Date.UTC(2026, 0, 18));
      const rules = rulesSchema.parse({ autoApprove: { enabled: false } });
      const published: string[] = [];
      const publish = async (_s: string, p: { setpointId: string }) => void published.push(p.setpointId);
      const t = new TicketService(
        sql,
        clock,
        new EventBus<HeatEvents>(),
        { publish },
        () => rules,
        silentLogger(),
      );
      expect((await t.list()).map((x) => `${x.id} ${x.status} ${x.targetId}`)).toEqual([
        'T-00001 applied b1',
        'T-00002 resolved ss1',
        'T-00003 proposed b2',
        'T-00004 rejected b3',
      ]);
      expect((await t.get('T-00001'))!.events.map((e) => e.kind)).toEqual([
        'created',
        'approved',
        'applied',
        'setpoint-published',
      ]);
      expect((await t.setpointOf('ss1')).supplyOffsetC).toBe(2);
      expect(await t.outbox.pending()).toEqual([]);
      // The pending re-check is due and runs once; the resolved one's row stays done.
      expect(await t.dueRechecks(clock.now())).toEqual([
        { ticketId: 'T-00001', dueTs: Date.UTC(2026, 0, 17, 6, 10) },
      ]);
      expect(await t.claimRecheck('T-00001')).toBe(true);
      expect(
        await t.recordRecheck('T-00001', {
          ts: clock.now(),
          resolved: true,
          measuredC: 19,
          baselineC: 17.2,
          correctedDeltaC: 1.8,
          predictedDeltaC: 1,
          text: 'back in band',
        }),
      ).toBe(true);
      // New tickets number on from the old ones; the one-open rule holds on the old rows.
      expect((await t.propose(proposal('b2'))).outcome).toBe('updated');
      expect((await t.propose(proposal('b9'))).ticket.id).toBe('T-00005');
      // The single checkpoint row and the learnt responses carried over.
      expect(await sql.get<{ partition: string }>('SELECT partition FROM rules_checkpoints')).toEqual({
        partition: 'all',
      });
      const responses = new SqlResponseStore(sql, () => clock.now());
      await responses.load();
      expect(responses.get('ss1')).toMatchObject({ gainCPerC: 0.8, lagH: 6, samples: 4 });
    } finally {
      raw.close();
    }
  });
});
