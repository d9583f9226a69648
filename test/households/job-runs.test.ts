import { afterAll, describe, expect, it } from 'vitest';
import { householdsSchema } from '../../src/config/households-schema.ts';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { householdsMigrations } from '../../src/households/module.ts';
import { siteCron } from '../../src/households/reporter.ts';
import { openPostgres, type SqlDb, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql, sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { householdsOn, manualCron } from './support.ts';

const index = loadConfig('config', {}).registry;
const DAY = 86_400_000;
const MINUTE = 60_000;
const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers.splice(0).reverse()) await c();
});

/** The hour of `ts` on a wall clock in `timeZone` (the process's own zone when undefined). */
const hourIn = (ts: number, timeZone?: string) =>
  Number(new Intl.DateTimeFormat('en-GB', { hour: '2-digit', hourCycle: 'h23', timeZone }).format(ts));

describe('scheduled runs on the real node-cron', () => {
  it('fire in the site time zone, and pass the minute they were scheduled for, the same on two schedulers', async () => {
    const now = Date.now();
    const soon = [now, now + 2 * MINUTE];
    // A site zone whose hours now are at least two away from this process's: an expression of
    // those hours fires only if node-cron reads it in the site's zone.
    const zone = ['Asia/Shanghai', 'Pacific/Kiritimati'].find((z) =>
      soon.every((t) => {
        const d = Math.abs(hourIn(t, z) - hourIn(t));
        return Math.min(d, 24 - d) >= 2;
      }),
    )!;
    const hours = [...new Set(soon.map((t) => hourIn(t, zone)))].join(',');
    // Every second of those hours: the run's time must still be a minute.
    const expr = `* * ${hours} * * *`;
    const seen: number[][] = [[], []];
    let wake = () => {};
    const enough = () => seen.every((s) => s.length >= 3);
    const tasks = seen.map((s) =>
      siteCron(zone)(expr, async (at) => {
        s.push(at.getTime());
        if (enough()) wake();
      }),
    );
    try {
      await new Promise<void>((resolve) => {
        wake = resolve;
      });
    } finally {
      for (const t of tasks) t.stop();
    }
    const end = Date.now();
    for (const t of seen.flat()) {
      expect(t % MINUTE).toBe(0);
      expect(t).toBeGreaterThan(now - MINUTE);
      expect(t).toBeLessThanOrEqual(end);
    }
    // Both fired in the same seconds: the runs they passed for them are one key.
    expect(seen[0]!.filter((t) => seen[1]!.includes(t))).not.toHaveLength(0);
  }, 60_000);

  it('a digest or bulletin cron has five fields: its run is keyed by the minute', () => {
    const r = householdsSchema.safeParse({ digest: { cron: '*/30 * * * * *' } });
    expect(r.success).toBe(false);
    expect(r.error?.issues[0]).toMatchObject({
      path: ['digest', 'cron'],
      message: expect.stringMatching(/five fields/),
    });
    expect(householdsSchema.safeParse({ bulletin: { cron: '30 7 * * 1-5' } }).success).toBe(true);
  });
});

interface Db {
  name: string;
  open(): Promise<SqlDb>;
}

const dbs: Db[] = [
  {
    name: 'sqlite',
    open: async () => {
      const raw = openDb(':memory:', {
        synchronous: 'FULL',
        migrations: sqliteMigrations(householdsMigrations),
      });
      closers.push(async () => void raw.close());
      return sqliteSql(raw);
    },
  },
];
if (await pgAvailable())
  dbs.push({
    name: 'postgres (machine server, random schema)',
    open: async () => {
      const s = await pgSchema();
      const sql = await openPostgres(s.url, pgOptions(2));
      closers.push(async () => {
        await sql.close();
        await s.drop();
      });
      await migrateSql(sql, householdsMigrations);
      return sql;
    },
  });

describe.each(dbs)('records of scheduled runs: $name', (db) => {
  it('are deleted past bulletin.runRetentionDays when a run is recorded', async () => {
    const sql = await db.open();
    const clock = new ManualClock(Date.UTC(2026, 0, 1, 8));
    const cron = manualCron();
    const h = householdsOn(sql, {
      clock,
      bus: new EventBus<HeatEvents>(),
      index,
      cfg: { digest: { enabled: true }, bulletin: { enabled: true, runRetentionDays: 3 } },
      schedule: cron.schedule,
    });
    await h.mod.start();
    closers.push(() => h.mod.stop());
    const runs = async () =>
      (
        await sql.all<{ job: string; slot_ts: number }>(
          'SELECT job, slot_ts FROM hh_job_runs ORDER BY job, slot_ts',
        )
      ).map((r) => [r.job, (Number(r.slot_ts) - clock.now()) / DAY]);
    const first = clock.now();
    for (let day = 0; day < 6; day++) {
      clock.set(first + day * DAY);
      expect(await cron.fire('0 8 * * *', clock.now())).toBe(1);
    }
    await cron.fire('0 */2 * * *', clock.now());
    // The bulletin of day 5 kept days 2 to 5 (three days back); the digest's one run prunes no bulletin.
    expect(await runs()).toEqual([
      ['bulletin', -3],
      ['bulletin', -2],
      ['bulletin', -1],
      ['bulletin', 0],
      ['digest', 0],
    ]);
    // A run that another instance made already prunes nothing and stores nothing.
    await cron.fire('0 8 * * *', clock.now());
    expect(await runs()).toHaveLength(5);
    expect(await h.store.reports('bulletin', 100)).toHaveLength(6);
  });
});
