import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freeClaimsOnTakeover } from '../../src/app/rules.ts';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import {
  FencedError,
  fencedDb,
  fenceFor,
  leaseMigrations,
  leases,
  renew,
  tryAcquire,
} from '../../src/ops/lease.ts';
import { PartitionRunner } from '../../src/ops/partition-runner.ts';
import { openPostgres, type SqlDb, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import type { TicketService } from '../../src/tickets/ticket-service.ts';
import type { RecheckOutcome } from '../../src/tickets/types.ts';
import { type PgSchema, pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { substationProposal, ticketsAt } from '../tickets/proposals.ts';

const hasPg = await pgAvailable();
/** Heating time of the re-checks (their claims run on it) and the lease clock (the database's). */
const NOW = Date.UTC(2026, 10, 29, 22);
const LEASE_T0 = Date.UTC(2026, 10, 29, 21);
const DURATION = 10_000;
const HOUR_MS = 3_600_000;
const PARTITIONS = { north: ['ss-n1', 'ss-n2'], south: ['ss-s1'] } as const;
const rules = rulesSchema.parse({});

const ticketsOn = (db: SqlDb, now: number, instance: string) => ticketsAt(db, now, rules, instance);

const outcome = (ts: number): RecheckOutcome => ({
  ts,
  resolved: true,
  measuredC: 20.1,
  baselineC: 17.2,
  correctedDeltaC: 2.9,
  predictedDeltaC: 0.7,
  text: 'back in band: test',
});

interface Backend {
  db: SqlDb;
  close(): Promise<void>;
}

async function sqliteBackend(): Promise<Backend> {
  const raw = openDb(':memory:', { synchronous: 'NORMAL', migrations: [] });
  return { db: sqliteSql(raw), close: async () => void raw.close() };
}

async function pgBackend(): Promise<Backend> {
  const schema: PgSchema = await pgSchema();
  const db = await openPostgres(schema.url, pgOptions(6));
  return {
    db,
    close: async () => {
      await db.close();
      await schema.drop();
    },
  };
}

describe.each([
  ['SQLite', sqliteBackend],
  ['PostgreSQL', pgBackend],
] as const)('a partition takeover on %s', (name, make) => {
  const skip = name === 'PostgreSQL' && !hasPg;
  let backend: Backend;
  let db: SqlDb;

  beforeAll(async () => {
    if (skip) return;
    backend = await make();
    db = backend.db;
    await migrateSql(db, [...ticketSqlMigrations, ...leaseMigrations]);
  });
  afterAll(async () => {
    if (!skip) await backend.close();
  });

  it.skipIf(skip)(
    "frees the old holder's re-check claims on that partition only, at once, and refuses its outcome",
    async () => {
      // One applied adjustment per substation, its re-check due now.
      const seed = ticketsOn(db, NOW - rules.recheckAfterH * HOUR_MS - 60_000, 'seed');
      const ids: Record<string, string> = {};
      for (const sid of [...PARTITIONS.north, ...PARTITIONS.south]) {
        const { ticket } = await seed.propose(substationProposal(sid, 1, NOW));
        await seed.approve(ticket.id, 'ops');
        await seed.apply(ticket.id, 'ops');
        ids[sid] = ticket.id;
      }
      const [n1, n2, s1] = [ids['ss-n1']!, ids['ss-n2']!, ids['ss-s1']!];

      // Holder a has both partitions (token 1) and claims one re-check in each.
      expect(await tryAcquire(db, 'north', 'a', LEASE_T0, DURATION)).toBe(1);
      expect(await tryAcquire(db, 'south', 'a', LEASE_T0, DURATION)).toBe(1);
      const aNorth = ticketsOn(fencedDb(db, fenceFor('north', 1)), NOW, 'a');
      const aSouth = ticketsOn(fencedDb(db, fenceFor('south', 1)), NOW, 'a');
      expect(await aNorth.claimRecheck(n1)).toBe(true);
      expect(await aSouth.claimRecheck(s1)).toBe(true);
      // a keeps renewing south but not north, whose lease runs out.
      const expiry = LEASE_T0 + DURATION;
      expect(await renew(db, 'south', 1, expiry - 1, DURATION)).toBe(true);

      // b takes what is free, as a city's rules instance does, with the takeover hook main wires.
      const started = new Map<string, TicketService>();
      const b = new PartitionRunner({
        db,
        partitions: PARTITIONS,
        holder: 'b',
        timings: () => ({ renewMs: 2000, durationMs: DURATION, takeoverMs: 1000 }),
        wallClock: new ManualClock(NOW),
        nowMs: async () => expiry,
        taking: freeClaimsOnTakeover,
        start: async (p) => {
          started.set(p.name, ticketsOn(p.db, NOW, 'b'));
          return { stop: async () => {} };
        },
        log: silentLogger(),
      });
      await b.keeper.takeoverNow();
      expect((await leases(db)).map((l) => `${l.partition}:${l.holder}:${l.token}`)).toEqual([
        'north:b:2',
        'south:a:1',
      ]);
      const claims = new Map(
        (
          await db.all<{ ticket_id: string; claimed_by: string | null }>(
            'SELECT ticket_id, claimed_by FROM ticket_rechecks WHERE done_ts IS NULL',
          )
        ).map((r) => [r.ticket_id, r.claimed_by]),
      );
      // North's claim is freed; south's, on a partition a still holds, is not.
      expect(claims).toEqual(
        new Map([
          [n1, null],
          [n2, null],
          [s1, 'a'],
        ]),
      );

      // The new holder has the freed re-check due at once, same heating time, no claim to wait out.
      const bNorth = started.get('north')!;
      expect((await bNorth.dueRechecks(NOW)).map((r) => r.ticketId)).toEqual([n1, n2].sort());
      expect(await bNorth.claimRecheck(n1)).toBe(true);

      // The old holder's judgement of it, and every other re-check write with its token, is refused.
      await expect(aNorth.recordRecheck(n1, outcome(NOW))).rejects.toBeInstanceOf(FencedError);
      await expect(aNorth.deferRecheck(n1, NOW + HOUR_MS, 'no data')).rejects.toBeInstanceOf(FencedError);
      await expect(aNorth.claimRecheck(n2)).rejects.toBeInstanceOf(FencedError);
      expect((await bNorth.get(n1))!.ticket.status).toBe('applied');

      // The new holder records it once; a's claim on south still stands for everyone else.
      expect(await bNorth.recordRecheck(n1, outcome(NOW))).toBe(true);
      const { ticket, events } = (await bNorth.get(n1))!;
      expect(ticket.status).toBe('resolved');
      expect(events.filter((e) => e.toStatus === 'resolved')).toHaveLength(1);
      expect(await ticketsOn(db, NOW, 'c').claimRecheck(s1)).toBe(false);
      expect(await aSouth.recordRecheck(s1, outcome(NOW))).toBe(true);
      await b.stop();
    },
  );
});
