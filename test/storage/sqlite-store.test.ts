import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { createReadingStore } from '../../src/storage/create-store.ts';
import { SqliteReadingStore, type SqliteStoreOptions } from '../../src/storage/sqlite-store.ts';
import { reading, readingStoreSuite, series, T0, UNITS } from './reading-store.suite.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-sqlite-store-'));
let n = 0;
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const DAY = 86_400_000;
const options = (over: Partial<SqliteStoreOptions> = {}): SqliteStoreOptions => ({
  file: join(dir, `readings-${n++}.db`),
  retentionDays: 30,
  pruneIntervalMs: 3_600_000,
  pruneChunkRows: 100,
  synchronous: 'FULL',
  busyTimeoutMs: 1000,
  ...over,
});

readingStoreSuite('sqlite (temp file)', async () => {
  const store = new SqliteReadingStore(options(), new ManualClock(T0), silentLogger());
  await store.start();
  return { store, close: () => store.stop() };
});

readingStoreSuite('sqlite (temp file, writer thread)', async () => {
  const store = new SqliteReadingStore(options({ writeInWorker: true }), new ManualClock(T0), silentLogger());
  await store.start();
  return { store, close: () => store.stop() };
});

describe('SqliteReadingStore', () => {
  const open: SqliteReadingStore[] = [];
  const make = async (over: Partial<SqliteStoreOptions> = {}, clock = new ManualClock(T0)) => {
    const s = new SqliteReadingStore(options(over), clock, silentLogger());
    await s.start();
    open.push(s);
    return s;
  };
  afterEach(async () => {
    for (const s of open.splice(0)) await s.stop();
  });

  it('has committed a batch when writeRoom returns, before its promise is awaited', async () => {
    const opts = options();
    const store = new SqliteReadingStore(opts, new ManualClock(T0), silentLogger());
    await store.start();
    open.push(store);
    const pending = store.writeRoom(series(T0, 3_600_000, 600_000));
    const other = new Database(opts.file, { readonly: true });
    const { n: rows } = other.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number };
    other.close();
    expect(rows).toBe(36);
    await pending;
  });

  it('with writeInWorker, the event loop keeps turning while a batch commits, and readers see it after', async () => {
    const store = await make({ writeInWorker: true });
    const rows = series(T0, 10 * 86_400_000, 60_000);
    let turns = 0;
    let writing = true;
    const spin = () => {
      turns++;
      if (writing) setImmediate(spin);
    };
    setImmediate(spin);
    await store.writeRoom(rows);
    writing = false;
    // Inline, the transaction would run to its end before a single turn of the loop.
    expect(turns).toBeGreaterThan(0);
    const history = await store.roomHistory({
      sensorId: rows[0]?.sensorId,
      fromMs: T0,
      toMs: T0 + 11 * 86_400_000,
      everyMs: 86_400_000,
    });
    expect(history.reduce((n, p) => n + p.count, 0)).toBe(rows.length / UNITS.length);
  });

  it('rolls a failing batch back as a whole and rejects', async () => {
    const store = await make();
    const good = reading(UNITS[0]!, T0, 20);
    const bad = { ...reading(UNITS[1]!, T0, 20), buildingId: null as unknown as string }; // NOT NULL
    // A constraint fails the same way on every replay: not retriable, so ingestion dead-letters it.
    await expect(store.writeRoom([good, bad])).rejects.toMatchObject({
      code: 'HW_ERR_STORE_REFUSED',
      retriable: false,
      message: expect.stringMatching(/NOT NULL/),
    });
    expect(
      await store.roomHistory({ sensorId: good.sensorId, fromMs: T0, toMs: T0 + 1, everyMs: 1000 }),
    ).toEqual([]);
  });

  it('rejects writes and queries before start and after stop with a coded store error', async () => {
    const store = new SqliteReadingStore(options(), new ManualClock(T0), silentLogger());
    await expect(store.writeRoom([reading(UNITS[0]!, T0, 20)])).rejects.toMatchObject({
      code: 'HW_ERR_STORE_UNAVAILABLE',
      retriable: true,
    });
    await store.start();
    await store.stop();
    await expect(store.writeSubstation([])).rejects.toMatchObject({ code: 'HW_ERR_STORE_UNAVAILABLE' });
    await expect(
      store.roomHistory({ buildingId: 'b1', fromMs: 0, toMs: 1, everyMs: 1 }),
    ).rejects.toMatchObject({
      code: 'HW_ERR_STORE_UNAVAILABLE',
    });
    expect(await store.ping()).toBe(false);
  });

  it('keeps readings across a restart', async () => {
    const opts = options();
    const first = new SqliteReadingStore(opts, new ManualClock(T0), silentLogger());
    await first.start();
    await first.writeRoom(series(T0, 3_600_000, 600_000));
    await first.stop();
    const second = await make({ file: opts.file });
    const got = await second.roomHistory({
      buildingId: 'b1',
      fromMs: T0,
      toMs: T0 + 3_600_000,
      everyMs: 3_600_000,
    });
    expect(got[0]!.count).toBe(24);
  });

  it('prunes readings past retention on the clock-driven schedule, and only those', async () => {
    const clock = new ManualClock(T0);
    const store = await make({ retentionDays: 2, pruneIntervalMs: 3_600_000, pruneChunkRows: 100 }, clock);
    // One reading per unit every 10 minutes over 4 days: 6 × 576 rows, more than one prune chunk.
    await store.writeRoom(series(T0, 4 * DAY, 600_000));
    await store.writeSubstation([
      { substationId: 'ss1', ts: T0, supplyTempC: 70, returnTempC: 50 },
      { substationId: 'ss1', ts: T0 + 3 * DAY, supplyTempC: 70, returnTempC: 50 },
    ]);
    const count = async () =>
      (
        await store.roomHistory({ substationId: 'ss1', fromMs: 0, toMs: T0 + 10 * DAY, everyMs: 100 * DAY })
      )[0]?.count ?? 0;
    expect(await count()).toBe(5 * 576);
    clock.set(T0 + 4 * DAY);
    await clock.advanceAsync(3_600_000); // one scheduled prune at T0 + 4 d + 1 h: cutoff T0 + 2 d + 1 h
    for (let i = 0; i < 100 && (await count()) !== 5 * (576 - 2 * 144 - 6); i++) {
      await new Promise((r) => setImmediate(r));
    }
    const left = await store.roomHistory({
      sensorId: 's-top',
      fromMs: 0,
      toMs: T0 + 10 * DAY,
      everyMs: 600_000,
    });
    expect(left[0]!.ts).toBe(T0 + 2 * DAY + 3_600_000);
    expect(left).toHaveLength(576 - 2 * 144 - 6);
    const subs = await store.substationHistory({
      substationId: 'ss1',
      fromMs: 0,
      toMs: T0 + 10 * DAY,
      everyMs: 1000,
    });
    expect(subs.map((p) => p.ts)).toEqual([T0 + 3 * DAY]);
    expect(await store.prune()).toBe(0);
  });

  it('answers building, class and substation queries from the covering indexes', async () => {
    const opts = options();
    const store = await make({ file: opts.file });
    await store.writeRoom(series(T0, 3_600_000, 600_000));
    const db = new Database(opts.file, { readonly: true });
    const plan = (where: string) =>
      (
        db
          .prepare(
            `EXPLAIN QUERY PLAN SELECT (ts / 60000) * 60000 AS b, AVG(temp_c), MIN(temp_c), MAX(temp_c), COUNT(*)
               FROM room_readings WHERE ${where} GROUP BY b`,
          )
          .all() as Array<{ detail: string }>
      )
        .map((r) => r.detail)
        .join('; ');
    expect(plan("building_id = 'b1' AND ts >= 0 AND ts < 1 AND (classes & 1) != 0")).toMatch(
      /COVERING INDEX room_readings_building/,
    );
    expect(plan("substation_id = 'ss1' AND ts >= 0 AND ts < 1")).toMatch(
      /COVERING INDEX room_readings_substation/,
    );
    // ts right after sensor_id in the key: a time range of one sensor is one key range, not a scan.
    expect(plan("sensor_id = 's1' AND ts >= 0 AND ts < 1")).toMatch(
      /PRIMARY KEY \(sensor_id=\? AND ts>\? AND ts<\?\)/,
    );
    db.close();
  });

  it('stores every row of consecutive 1000-row batches, each batch committed when its write returns', async () => {
    const opts = options({ synchronous: 'FULL' });
    const store = new SqliteReadingStore(opts, new ManualClock(T0), silentLogger());
    await store.start();
    open.push(store);
    const batch = series(T0, (1000 * 60_000) / 6, 60_000).slice(0, 1000);
    expect(batch).toHaveLength(1000);
    const other = new Database(opts.file, { readonly: true });
    const count = () => (other.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number }).n;
    const rounds = 10;
    for (let i = 0; i < rounds; i++) {
      await store.writeRoom(batch.map((r) => ({ ...r, ts: r.ts + i * DAY })));
      // Seen from another connection: the whole batch is there, nothing of a later one.
      expect(count()).toBe((i + 1) * 1000);
    }
    // A replayed batch overwrites its rows (same series and timestamp) instead of adding to them.
    await store.writeRoom(batch);
    expect(count()).toBe(rounds * 1000);
    other.close();
    // The write rate is a figure of bench/reading-store.ts (`node --import tsx bench/reading-store.ts`).
  });

  it('is built by the factory from the service config, in dataDir', async () => {
    const config = serviceSchema.parse({ dataDir: dir, store: { sqlite: { file: 'factory.db' } } });
    const store = createReadingStore(config, {}, new ManualClock(T0), silentLogger());
    expect(store.kind).toBe('sqlite');
    await store.start();
    await store.writeRoom([reading(UNITS[0]!, T0, 20)]);
    expect(await store.ping()).toBe(true);
    await store.stop();
    const db = new Database(join(dir, 'factory.db'), { readonly: true });
    expect((db.prepare('SELECT COUNT(*) AS n FROM room_readings').get() as { n: number }).n).toBe(1);
    db.close();
  });
});
