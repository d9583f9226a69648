import { type ChildProcess, spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { FencedError, fencedDb, fenceFor, leaseMigrations, leases } from '../../src/ops/lease.ts';
import type { LeaseTimings } from '../../src/ops/lease-keeper.ts';
import { openPostgres, type SqlDb } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { ticketSqlMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { type PgSchema, pgAvailable, pgSchema } from '../support/postgres.ts';
import { substationProposal } from '../tickets/proposals.ts';

const hasPg = await pgAvailable();
const T0 = Date.UTC(2026, 0, 15, 6);
const N = 6;
const SUBS = Array.from({ length: N }, (_, i) => `ss${i}`);
/** Short, so the test takes seconds; the same code runs with the defaults in production. */
const TIMINGS: LeaseTimings = { renewMs: 400, durationMs: 3000, takeoverMs: 300 };
const RULES = { autoApprove: { enabled: false }, recheck: { pollS: 1, claimS: 2 } };
/** The holder judges slowly, so it is killed with re-checks done, one in hand and others due. */
const HOLDER_JUDGE_MS = 800;

/** One rules instance as a child process; its stdout lines, and a wait on them. */
function instance(url: string, id: string, judgeMs: number) {
  const child: ChildProcess = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      'test/faults/failover-child.ts',
      url,
      id,
      String(T0 + 7 * 24 * 3_600_000),
      String(judgeMs),
      JSON.stringify(TIMINGS),
      JSON.stringify(RULES),
      SUBS.join(','),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'] },
  );
  const lines: string[] = [];
  const waiters: Array<() => void> = [];
  let err = '';
  let buf = '';
  child.stdout!.on('data', (d: Buffer) => {
    buf += d.toString();
    const parts = buf.split('\n');
    buf = parts.pop()!;
    lines.push(...parts.filter(Boolean));
    for (const w of waiters.splice(0)) w();
  });
  child.stderr!.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const exited = new Promise<NodeJS.Signals | number | null>((r) => child.on('exit', (c, s) => r(s ?? c)));
  /** Resolves with the first line matching, once it is there (event-driven; the test's timeout bounds it). */
  const until = async (pred: (ls: string[]) => boolean): Promise<void> => {
    while (!pred(lines)) {
      if (child.exitCode !== null) throw new Error(`${id} exited: ${err}`);
      await new Promise<void>((r) => waiters.push(r));
    }
  };
  return { child, lines, until, exited, stderr: () => err };
}

const recorded = (ls: string[]) => ls.filter((l) => l.startsWith('recorded ')).map((l) => l.slice(9));

describe.skipIf(!hasPg)('partition failover with real processes on PostgreSQL', () => {
  let schema: PgSchema;
  let db: SqlDb;
  const ticketIds: string[] = [];

  beforeAll(async () => {
    schema = await pgSchema();
    db = await openPostgres(schema.url, {
      poolSize: 4,
      connectTimeoutMs: 5000,
      statementTimeoutMs: 30_000,
      idleTimeoutMs: 10_000,
    });
    await migrateSql(db, [...ticketSqlMigrations, ...leaseMigrations]);
    // Applied adjustments whose re-checks are all due when the instances start.
    const seed = new TicketService(
      db,
      new ManualClock(T0),
      new EventBus<HeatEvents>(),
      { publish: async () => {} },
      () => rulesSchema.parse(RULES),
      silentLogger(),
      { instance: 'seed' },
    );
    for (const sub of SUBS) {
      const { ticket } = await seed.propose(substationProposal(sub, 1, T0));
      await seed.approve(ticket.id, 'ops');
      await seed.apply(ticket.id, 'ops');
      ticketIds.push(ticket.id);
    }
    await seed.outbox.drainOnce();
    seed.outbox.stop();
  });
  afterAll(async () => {
    await db?.close();
    await schema?.drop();
  });

  it('SIGKILLed in a re-check window, the holder is replaced within the lease time; every re-check runs once; its token writes nothing', async () => {
    const a = instance(schema.url, 'rules-a', HOLDER_JUDGE_MS);
    await a.until((ls) => ls.some((l) => l.startsWith('acquired p1 1 ')));
    const b = instance(schema.url, 'rules-b', 50);
    try {
      // b starts as a standby: a holds the lease.
      await b.until((ls) => ls.includes('started standby'));
      await a.until(
        (ls) => recorded(ls).length >= 2 && ls.filter((l) => l.startsWith('judging ')).length >= 3,
      );
      expect(b.lines.filter((l) => l.startsWith('acquired'))).toEqual([]);
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await a.exited).toBe('SIGKILL');
      const byA = recorded(a.lines);
      const inHand = a.lines
        .filter((l) => l.startsWith('judging '))
        .map((l) => l.slice(8))
        .at(-1)!;
      expect(byA).not.toContain(inHand);

      await b.until((ls) => ls.some((l) => l.startsWith('acquired p1 2 ')));
      const takenAt = Number(b.lines.find((l) => l.startsWith('acquired p1 2 '))!.split(' ')[3]);
      const takeoverMs = takenAt - killedAt;
      process.stdout.write(
        `failover: taken over ${takeoverMs} ms after the SIGKILL (lease ${TIMINGS.durationMs} ms, takeover period ${TIMINGS.takeoverMs} ms)\n`,
      );
      // The lease had at most durationMs left at the kill; the standby looks every takeoverMs.
      // One more takeover period of slack for timers late on a busy machine.
      expect(takeoverMs).toBeLessThanOrEqual(TIMINGS.durationMs + 2 * TIMINGS.takeoverMs);

      await b.until((ls) => recorded(ls).length + byA.length >= N);
      const byB = recorded(b.lines);
      // Every due re-check ran once, across both lives: the one in the dead holder's hand by b.
      expect([...byA, ...byB].sort()).toEqual([...ticketIds].sort());
      expect(byB).toContain(inHand);

      const rows = await db.all<{ id: string; status: string; resolved: number }>(
        `SELECT t.id, t.status, (SELECT COUNT(*) FROM ticket_events e WHERE e.ticket_id = t.id AND e.to_status = 'resolved') AS resolved
           FROM tickets t ORDER BY t.id`,
      );
      expect(rows.map((r) => r.id)).toEqual([...ticketIds].sort());
      for (const r of rows) expect(r, r.id).toMatchObject({ status: 'resolved', resolved: 1 });
      const open = await db.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM ticket_rechecks WHERE done_ts IS NULL`,
      );
      expect(open?.n).toBe(0);
      expect((await leases(db)).map((l) => [l.partition, l.holder, l.token])).toEqual([['p1', 'rules-b', 2]]);

      // A write carrying the dead instance's token (a paused twin of it, say) is refused.
      const ghost = new TicketService(
        fencedDb(db, fenceFor('p1', 1)),
        new ManualClock(T0),
        new EventBus<HeatEvents>(),
        { publish: async () => {} },
        () => rulesSchema.parse(RULES),
        silentLogger(),
        { instance: 'rules-a' },
      );
      await expect(ghost.propose(substationProposal(SUBS[0]!, 1, T0))).rejects.toBeInstanceOf(FencedError);
      ghost.outbox.stop();
      const count = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tickets');
      expect(count?.n).toBe(N);
    } catch (err) {
      process.stdout.write(
        `a: ${a.lines.join(' | ')}\n${a.stderr()}\nb: ${b.lines.join(' | ')}\n${b.stderr()}\n`,
      );
      throw err;
    } finally {
      a.child.kill('SIGKILL');
      b.child.kill('SIGTERM');
      await b.exited;
    }
  }, 120_000);
});
