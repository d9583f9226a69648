import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import {
  databaseNowMs,
  FencedError,
  fence,
  fencedDb,
  fenceFor,
  leaseMigrations,
  leases,
  release,
  renew,
  tryAcquire,
} from '../../src/ops/lease.ts';
import { LeaseKeeper, type LeaseTimings } from '../../src/ops/lease-keeper.ts';
import { openPostgres, type SqlDb, type SqlExecutor, sqliteSql } from '../../src/storage/sql.ts';
import { migrateSql } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { type PgSchema, pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';

const T0 = Date.UTC(2026, 10, 29, 20);
const DURATION = 10_000;
const hasPg = await pgAvailable();

const writesTable = {
  id: 'lease-test-writes',
  sqlite:
    'CREATE TABLE fenced_writes (id INTEGER PRIMARY KEY, partition TEXT NOT NULL, token INTEGER NOT NULL)',
  postgres:
    'CREATE TABLE fenced_writes (id SERIAL PRIMARY KEY, partition TEXT NOT NULL, token BIGINT NOT NULL)',
};

/** A write for `partition` as every partition writer makes it: the fence, then the row, in one transaction. */
const fencedWrite = (db: SqlDb, partition: string, token: number) =>
  db.tx(async (q) => {
    await fence(q, partition, token);
    await q.run('INSERT INTO fenced_writes (partition, token) VALUES (?, ?)', [partition, token]);
  });

/** Waits for a condition the database reports (bounded, so a broken lock shows as a failure). */
async function until(cond: () => Promise<boolean>, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('condition not reached');
    await new Promise((r) => setTimeout(r, 20));
  }
}

const count = async (q: SqlExecutor, token: number) =>
  (await q.get<{ n: number }>('SELECT COUNT(*) AS n FROM fenced_writes WHERE token = ?', [token]))!.n;

interface Backend {
  open(): Promise<SqlDb>;
  close(): Promise<void>;
}

const sqliteBackend = (): Backend => {
  const raw = openDb(':memory:', { synchronous: 'NORMAL', migrations: [] });
  return {
    open: async () => sqliteSql(raw),
    close: async () => {
      raw.close();
    },
  };
};

function pgBackend(): Backend {
  let schema: PgSchema | undefined;
  const opened: SqlDb[] = [];
  return {
    open: async () => {
      schema ??= await pgSchema();
      const db = await openPostgres(schema.url, pgOptions(8));
      opened.push(db);
      return db;
    },
    close: async () => {
      for (const db of opened) await db.close();
      await schema?.drop();
    },
  };
}

describe.each([
  ['SQLite', sqliteBackend],
  ['PostgreSQL', pgBackend],
] as const)('partition leases on %s', (name, make) => {
  const skip = name === 'PostgreSQL' && !hasPg;
  let backend: Backend;
  let db: SqlDb;

  beforeAll(async () => {
    if (skip) return;
    backend = make();
    db = await backend.open();
    await migrateSql(db, [...leaseMigrations, writesTable]);
  });
  afterAll(async () => {
    if (!skip) await backend.close();
  });

  it.skipIf(skip)(
    'gives a free partition token 1 and refuses a second holder while the lease runs',
    async () => {
      expect(await tryAcquire(db, 'north', 'a', T0, DURATION)).toBe(1);
      expect(await tryAcquire(db, 'north', 'b', T0 + DURATION - 1, DURATION)).toBeUndefined();
      // The holder itself restarting under its name waits for expiry as well.
      expect(await tryAcquire(db, 'north', 'a', T0 + 1, DURATION)).toBeUndefined();
      expect(await renew(db, 'north', 1, T0 + 5000, DURATION)).toBe(true);
      // Renewed: still running at what would have been the first expiry.
      expect(await tryAcquire(db, 'north', 'b', T0 + DURATION + 1, DURATION)).toBeUndefined();
      const [row] = await leases(db);
      expect(row).toMatchObject({
        partition: 'north',
        holder: 'a',
        token: 1,
        expiresMs: T0 + 5000 + DURATION,
      });
    },
  );

  it.skipIf(skip)(
    'lets a standby take an expired lease with the next token, and fences the old holder off',
    async () => {
      await fencedWrite(db, 'north', 1);
      const expiry = T0 + 5000 + DURATION;
      expect(await tryAcquire(db, 'north', 'b', expiry, DURATION)).toBe(2);
      // The old holder learns at its next renewal, and its writes are refused in the meantime.
      expect(await renew(db, 'north', 1, expiry + 1, DURATION)).toBe(false);
      const refused = await fencedWrite(db, 'north', 1).catch((e: unknown) => e);
      expect(refused).toBeInstanceOf(FencedError);
      expect((refused as FencedError).code).toBe('HW_ERR_FENCED');
      expect((refused as FencedError).current).toBe(2);
      await fencedWrite(db, 'north', 2);
      expect(await count(db, 1)).toBe(1);
      expect(await count(db, 2)).toBe(1);
      // A partition nobody ever held has no current token: every write is refused.
      await expect(fencedWrite(db, 'south', 1)).rejects.toBeInstanceOf(FencedError);
    },
  );

  it.skipIf(skip)(
    'released at a clean stop, the lease is free at once and the token still grows',
    async () => {
      expect(await release(db, 'north', 1)).toBe(false);
      expect(await release(db, 'north', 2)).toBe(true);
      expect(await tryAcquire(db, 'north', 'a', T0 + 6000 + DURATION, DURATION)).toBe(3);
      await expect(fencedWrite(db, 'north', 2)).rejects.toBeInstanceOf(FencedError);
    },
  );

  it.skipIf(skip)(
    'fences every write of a partition module built on fencedDb, and none of its reads',
    async () => {
      // north is held with token 3 now (previous test).
      const current = fencedDb(db, fenceFor('north', 3));
      const stale = fencedDb(db, fenceFor('north', 2));
      await current.run('INSERT INTO fenced_writes (partition, token) VALUES (?, ?)', ['north', 3]);
      await current.tx((q) =>
        q.run('INSERT INTO fenced_writes (partition, token) VALUES (?, ?)', ['north', 3]),
      );
      expect(await count(db, 3)).toBe(2);
      const attempts = [
        () => stale.run('INSERT INTO fenced_writes (partition, token) VALUES (?, ?)', ['north', 2]),
        () =>
          stale.get('INSERT INTO fenced_writes (partition, token) VALUES (?, ?) RETURNING id', ['north', 2]),
        () => stale.all('UPDATE fenced_writes SET token = 2 WHERE token = 3 RETURNING id'),
        () => stale.tx((q) => q.run('DELETE FROM fenced_writes')),
      ];
      for (const a of attempts) await expect(a()).rejects.toBeInstanceOf(FencedError);
      expect(await count(db, 3)).toBe(2);
      expect(await count(db, 2)).toBe(1);
      // Reads still work for a holder that lost the lease (it is stopping its work).
      expect((await stale.get<{ n: number }>('SELECT COUNT(*) AS n FROM fenced_writes'))?.n).toBe(4);
    },
  );

  it.skipIf(skip)('reads the lease clock from the database server', async () => {
    const now = await databaseNowMs(db);
    expect(Math.abs(now - Date.now())).toBeLessThan(60_000);
  });
});

describe.skipIf(!hasPg)('partition leases under concurrency on PostgreSQL', () => {
  const backend = pgBackend();
  let a: SqlDb;
  let b: SqlDb;

  beforeAll(async () => {
    a = await backend.open();
    b = await backend.open();
    await migrateSql(a, [...leaseMigrations, writesTable]);
  });
  afterAll(() => backend.close());

  it('lets exactly one of many standbys take an expired lease', async () => {
    expect(await tryAcquire(a, 'p1', 'first', T0, DURATION)).toBe(1);
    const later = T0 + DURATION + 1;
    const tokens = await Promise.all(
      Array.from({ length: 12 }, (_, i) => tryAcquire(i % 2 ? a : b, 'p1', `standby-${i}`, later, DURATION)),
    );
    expect(tokens.filter((t) => t !== undefined)).toEqual([2]);
  });

  it('holds a takeover until a fenced write in flight has committed, then refuses the old token', async () => {
    expect(await tryAcquire(a, 'p2', 'old', T0, DURATION)).toBe(1);
    let release1!: () => void;
    const gate = new Promise<void>((r) => {
      release1 = r;
    });
    let fenced!: () => void;
    const fencePassed = new Promise<void>((r) => {
      fenced = r;
    });
    // The old holder passed its fence and is still writing when its lease expires.
    const inFlight = a.tx(async (q) => {
      await fence(q, 'p2', 1);
      fenced();
      await gate;
      await q.run('INSERT INTO fenced_writes (partition, token) VALUES (?, ?)', ['p2', 1]);
    });
    await fencePassed;
    let takenAt: number | undefined;
    const takeover = tryAcquire(b, 'p2', 'new', T0 + DURATION, DURATION).then((t) => {
      takenAt = Date.now();
      return t;
    });
    // The takeover waits on the row lock the fence holds until the writer commits.
    await until(async () => {
      const r = await a.get<{ n: number }>(
        `SELECT COUNT(*) AS n FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE 'UPDATE partition_leases%'`,
      );
      return r!.n > 0;
    });
    expect(takenAt).toBeUndefined();
    const committedAt = Date.now();
    release1();
    await inFlight;
    expect(await takeover).toBe(2);
    expect(takenAt!).toBeGreaterThanOrEqual(committedAt);
    // Written under the old token before the takeover, and nothing after it.
    expect(await count(a, 1)).toBe(1);
    await expect(fencedWrite(a, 'p2', 1)).rejects.toBeInstanceOf(FencedError);
    expect(await count(a, 1)).toBe(1);
  });
});

describe('the lease keeper', () => {
  const timings: LeaseTimings = { renewMs: 2000, durationMs: 10_000, takeoverMs: 1000 };
  let raw: ReturnType<typeof openDb>;
  let db: SqlDb;

  beforeAll(async () => {
    raw = openDb(':memory:', { synchronous: 'NORMAL', migrations: [] });
    db = sqliteSql(raw);
    await migrateSql(db, [...leaseMigrations]);
  });
  afterAll(() => raw.close());

  /** Each keeper runs its timers on its own clock; the lease clock is the database's, shared. */
  function keeper(holder: string, timers: ManualClock, dbClock: ManualClock, target: SqlDb = db) {
    const events: string[] = [];
    const k = new LeaseKeeper({
      db: target,
      partitions: ['north', 'south'],
      holder,
      timings: () => timings,
      wallClock: timers,
      nowMs: async () => dbClock.now(),
      onAcquired: async (p, token) => {
        events.push(`+${p}:${token}`);
      },
      onLost: async (p, token, why) => {
        events.push(`-${p}:${token}:${why}`);
      },
      log: silentLogger(),
    });
    return { k, events };
  }

  /** Moves the database clock and the timers of the instances still alive, in steps. */
  async function pass(ms: number, dbClock: ManualClock, alive: ManualClock[]): Promise<void> {
    for (let t = 0; t < ms; t += 500) {
      dbClock.advance(500);
      for (const c of alive) await c.advanceAsync(500);
      await new Promise((r) => setImmediate(r));
    }
  }

  it('takes every free partition, keeps them while it renews, and a standby takes them only after expiry', async () => {
    const dbClock = new ManualClock(T0);
    const [ca, cb] = [new ManualClock(T0), new ManualClock(T0)];
    const a = keeper('a', ca, dbClock);
    const b = keeper('b', cb, dbClock);
    await a.k.start();
    await b.k.start();
    expect(a.events).toEqual(['+north:1', '+south:1']);
    expect(b.events).toEqual([]);
    // Time passes with both alive: a's timers renew its leases and b finds nothing to take.
    await pass(20_000, dbClock, [ca, cb]);
    expect(b.events).toEqual([]);
    expect(a.k.holding()).toEqual(
      new Map([
        ['north', 1],
        ['south', 1],
      ]),
    );

    // a freezes (no release, no more renewals: its timers no longer run); b takes over.
    const diedAt = dbClock.now();
    while (b.events.length < 2) await pass(500, dbClock, [cb]);
    const takenAfter = dbClock.now() - diedAt;
    expect(b.events).toEqual(['+north:2', '+south:2']);
    expect(takenAfter).toBeGreaterThan(timings.durationMs - timings.renewMs);
    expect(takenAfter).toBeLessThanOrEqual(timings.durationMs + timings.takeoverMs);

    // a wakes up: its next renewal fails and it stops the partitions' work.
    await a.k.renewNow();
    expect(a.events.slice(2)).toEqual([
      '-north:1:taken by another instance',
      '-south:1:taken by another instance',
    ]);
    expect(a.k.holding().size).toBe(0);

    // A clean stop gives the leases back: the other instance takes them at its next look.
    await b.k.stop();
    expect(b.events.slice(2)).toEqual(['-north:2:stopping', '-south:2:stopping']);
    await a.k.takeoverNow();
    expect(a.events.slice(4)).toEqual(['+north:3', '+south:3']);
    await a.k.stop();
  });

  it('stops a partition by itself when the database stays unreachable until the lease may have expired', async () => {
    const dbClock = new ManualClock(T0 + 10_000_000);
    const ca = new ManualClock(T0 + 10_000_000);
    let down = false;
    const refuse = () => Promise.reject(new Error('connect ECONNREFUSED'));
    const flaky: SqlDb = {
      dialect: db.dialect,
      tx: (fn) => (down ? refuse() : db.tx(fn)),
      run: (sql, p) => (down ? refuse() : db.run(sql, p)),
      get: (sql, p) => (down ? refuse() : db.get(sql, p)),
      all: (sql, p) => (down ? refuse() : db.all(sql, p)),
      exec: (sql) => db.exec(sql),
      close: () => db.close(),
    };
    const a = keeper('a', ca, dbClock, flaky);
    await a.k.start();
    expect(a.events).toEqual(['+north:4', '+south:4']);
    down = true;
    const cutAt = dbClock.now();
    while (a.events.length < 4) await pass(500, dbClock, [ca]);
    // Stopped before the lease can have run out (last renewal + duration), never after.
    expect(dbClock.now() - cutAt).toBeLessThanOrEqual(timings.durationMs - timings.renewMs);
    expect(a.events.slice(2)).toEqual(['-north:4:not renewed in time', '-south:4:not renewed in time']);
    // Back: the expired leases are taken again, with new tokens.
    down = false;
    await pass(timings.durationMs, dbClock, [ca]);
    expect(a.events.slice(4)).toEqual(['+north:5', '+south:5']);
    await a.k.stop();
  });
});
