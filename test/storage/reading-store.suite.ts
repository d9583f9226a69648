import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { Counter, Histogram } from '../../src/core/metrics.ts';
import type { RoomReading, SubstationReading } from '../../src/core/readings.ts';
import type { PositionClass } from '../../src/core/registry.ts';
import { SpoolDrain, STORE_REFUSED } from '../../src/ingest/spool-drain.ts';
import { Topics } from '../../src/mqtt/topics.ts';
import { DeadLetters } from '../../src/storage/dead-letters.ts';
import { Journal } from '../../src/storage/journal.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import type { HistoryPoint, HistoryQuery, ReadingStore } from '../../src/storage/reading-store.ts';

/** One backend under test: a fresh, started, empty store per test, and how to dispose of it. */
export interface StoreHarness {
  store: ReadingStore;
  close(): Promise<void>;
}

/** Readings start at a whole hour in the ManualClock's default January, a heating-season day. */
export const T0 = Date.UTC(2026, 0, 15, 0, 0, 0);
const MIN = 60_000;
const HOUR = 3_600_000;

interface Unit {
  sensorId: string;
  buildingId: string;
  substationId: string;
  floor: number;
  column: number;
  classes: PositionClass[];
}

/**
 * A small network: b1 (3 floors × 3 units) has one sensor per position class, including a unit that is
 * both top and gable; b2 shares substation ss1; b3 hangs off ss2.
 */
export const UNITS: readonly Unit[] = [
  {
    sensorId: 's-top-gable',
    buildingId: 'b1',
    substationId: 'ss1',
    floor: 3,
    column: 1,
    classes: ['top', 'gable'],
  },
  { sensorId: 's-top', buildingId: 'b1', substationId: 'ss1', floor: 3, column: 2, classes: ['top'] },
  { sensorId: 's-ground', buildingId: 'b1', substationId: 'ss1', floor: 1, column: 2, classes: ['ground'] },
  { sensorId: 's-middle', buildingId: 'b1', substationId: 'ss1', floor: 2, column: 2, classes: ['middle'] },
  { sensorId: 's-b2', buildingId: 'b2', substationId: 'ss1', floor: 2, column: 2, classes: ['middle'] },
  {
    sensorId: 's-b3',
    buildingId: 'b3',
    substationId: 'ss2',
    floor: 1,
    column: 1,
    classes: ['ground', 'gable'],
  },
];

export function reading(
  unit: Unit,
  ts: number,
  tempC: number,
  extra: Partial<RoomReading> = {},
): RoomReading {
  return { ...unit, classes: [...unit.classes], ts, tempC, source: 'sensor', ...extra };
}

/** Every unit every `stepMs` for `spanMs`, temperatures varying by unit and time (quarter degrees). */
export function series(startMs: number, spanMs: number, stepMs: number): RoomReading[] {
  const out: RoomReading[] = [];
  UNITS.forEach((u, i) => {
    for (let t = startMs, k = 0; t < startMs + spanMs; t += stepMs, k++) {
      out.push(
        reading(u, t, 17 + i * 0.75 + ((k * 7) % 11) * 0.25, {
          humidityPct: 35 + (k % 10),
          batteryV: 3 - k * 0.001,
          seq: k,
        }),
      );
    }
  });
  return out;
}

/** The reference answer: the contract of roomHistory computed directly from the readings written. */
export function expectedHistory(readings: readonly RoomReading[], q: HistoryQuery): HistoryPoint[] {
  const last = new Map<string, RoomReading>();
  for (const r of readings) last.set(`${r.sensorId}|${r.source}|${r.ts}`, r); // later writes overwrite
  const buckets = new Map<number, number[]>();
  for (const r of last.values()) {
    if (r.ts < q.fromMs || r.ts >= q.toMs) continue;
    if (q.sensorId !== undefined && r.sensorId !== q.sensorId) continue;
    if (q.buildingId !== undefined && r.buildingId !== q.buildingId) continue;
    if (q.substationId !== undefined && r.substationId !== q.substationId) continue;
    if (q.positionClass !== undefined && !r.classes.includes(q.positionClass)) continue;
    const b = Math.floor(r.ts / q.everyMs) * q.everyMs;
    buckets.set(b, [...(buckets.get(b) ?? []), r.tempC]);
  }
  return [...buckets.entries()]
    .sort((a, b) => a[0] - b[0])
    .map(([ts, temps]) => ({
      ts,
      meanC: temps.reduce((s, x) => s + x, 0) / temps.length,
      minC: Math.min(...temps),
      maxC: Math.max(...temps),
      count: temps.length,
    }));
}

/** Bucket starts and counts exactly; temperatures to 1e-9 (backends sum floats in different orders). */
export function expectSameHistory(actual: HistoryPoint[], expected: HistoryPoint[]): void {
  expect(actual.map((p) => [p.ts, p.count])).toEqual(expected.map((p) => [p.ts, p.count]));
  actual.forEach((p, i) => {
    const e = expected[i]!;
    expect(p.meanC).toBeCloseTo(e.meanC, 9);
    expect(p.minC).toBeCloseTo(e.minC, 9);
    expect(p.maxC).toBeCloseTo(e.maxC, 9);
  });
}

const sub = (
  substationId: string,
  ts: number,
  supplyTempC: number,
  extra: Partial<SubstationReading> = {},
) => ({
  substationId,
  ts,
  supplyTempC,
  returnTempC: supplyTempC - 20,
  ...extra,
});

/**
 * The contract every ReadingStore backend passes (aedes-persistence/abstract.js style): call it from a
 * backend's test file with a function that opens a fresh store.
 */
export function readingStoreSuite(name: string, open: () => Promise<StoreHarness>): void {
  describe(`ReadingStore contract: ${name}`, () => {
    let h: StoreHarness;
    let store: ReadingStore;
    beforeEach(async () => {
      h = await open();
      store = h.store;
    });
    afterEach(async () => {
      await h.close();
    });

    it('reads back per sensor what it wrote, one bucket per reading at a fine bucket size', async () => {
      const rs = series(T0, HOUR, 10 * MIN);
      await store.writeRoom(rs);
      const q = { sensorId: 's-top', fromMs: T0, toMs: T0 + HOUR, everyMs: MIN };
      const got = await store.roomHistory(q);
      const mine = rs.filter((r) => r.sensorId === 's-top');
      expect(got).toHaveLength(6);
      expect(got.map((p) => p.ts)).toEqual(mine.map((r) => r.ts));
      got.forEach((p, i) => {
        expect(p.count).toBe(1);
        expect(p.meanC).toBeCloseTo(mine[i]!.tempC, 9);
        expect(p.minC).toBeCloseTo(mine[i]!.tempC, 9);
        expect(p.maxC).toBeCloseTo(mine[i]!.tempC, 9);
      });
    });

    it('a re-written batch (a spool replay) is one point per series and timestamp, with the latest values', async () => {
      const rs = series(T0, HOUR, 5 * MIN);
      await store.writeRoom(rs);
      await store.writeRoom(rs);
      await store.writeRoom(rs.slice(10, 30));
      const changed = rs.filter((r) => r.sensorId === 's-ground').map((r) => ({ ...r, tempC: r.tempC + 1 }));
      await store.writeRoom(changed);
      const q = { buildingId: 'b1', fromMs: T0, toMs: T0 + HOUR, everyMs: 15 * MIN };
      const got = await store.roomHistory(q);
      expect(got.reduce((s, p) => s + p.count, 0)).toBe(4 * 12);
      expectSameHistory(got, expectedHistory([...rs, ...changed], q));
    });

    it('buckets start at multiples of every since the epoch; from is inclusive, to exclusive', async () => {
      const u = UNITS[1]!;
      await store.writeRoom([
        reading(u, T0 + 7 * MIN - 1, 19),
        reading(u, T0 + 7 * MIN, 20),
        reading(u, T0 + 13 * MIN, 21),
        reading(u, T0 + 14 * MIN, 22),
        reading(u, T0 + 30 * MIN, 23),
      ]);
      // 11-minute buckets since the epoch do not start at T0 (a whole hour); the first one starts before
      // fromMs, as InfluxQL's GROUP BY time() reports it.
      const every = 11 * MIN;
      const got = await store.roomHistory({
        sensorId: u.sensorId,
        fromMs: T0 + 7 * MIN,
        toMs: T0 + 30 * MIN,
        everyMs: every,
      });
      const starts = [T0 + 7 * MIN, T0 + 13 * MIN, T0 + 14 * MIN].map((t) => Math.floor(t / every) * every);
      expect(T0 % every).not.toBe(0);
      expect(got.map((p) => p.ts)).toEqual([...new Set(starts)]);
      expect(got.reduce((s, p) => s + p.count, 0)).toBe(3);
      expect(Math.min(...got.map((p) => p.minC))).toBe(20);
      expect(Math.max(...got.map((p) => p.maxC))).toBe(22);
    });

    it('filters by position class per building and per substation; a top-and-gable unit counts in both', async () => {
      const rs = series(T0, 2 * HOUR, 10 * MIN);
      await store.writeRoom(rs);
      const base = { fromMs: T0, toMs: T0 + 2 * HOUR, everyMs: 30 * MIN };
      for (const positionClass of ['top', 'ground', 'gable', 'middle'] as const) {
        const qb = { ...base, buildingId: 'b1', positionClass };
        expectSameHistory(await store.roomHistory(qb), expectedHistory(rs, qb));
        const qs = { ...base, substationId: 'ss1', positionClass };
        expectSameHistory(await store.roomHistory(qs), expectedHistory(rs, qs));
      }
      const top = await store.roomHistory({ ...base, buildingId: 'b1', positionClass: 'top' });
      const gable = await store.roomHistory({ ...base, buildingId: 'b1', positionClass: 'gable' });
      expect(top[0]!.count).toBe(2 * 3); // s-top-gable and s-top, 3 readings per 30 min
      expect(gable[0]!.count).toBe(3); // s-top-gable alone in b1
      const all = await store.roomHistory({ ...base, substationId: 'ss1' });
      expect(all[0]!.count).toBe(5 * 3);
    });

    it('out-of-order writes give the same history as in-order ones', async () => {
      const rs = series(T0, 2 * HOUR, 10 * MIN);
      const shuffled = [...rs].sort(
        (a, b) => ((a.ts * 7919 + a.floor) % 13) - ((b.ts * 7919 + b.floor) % 13),
      );
      await store.writeRoom(shuffled.slice(60));
      await store.writeRoom(shuffled.slice(0, 60));
      const q = { buildingId: 'b1', fromMs: T0, toMs: T0 + 2 * HOUR, everyMs: 20 * MIN };
      expectSameHistory(await store.roomHistory(q), expectedHistory(rs, q));
    });

    it('empty ranges, unknown scopes and an unused class give an empty history', async () => {
      await store.writeRoom(series(T0, HOUR, 10 * MIN));
      const base = { fromMs: T0, toMs: T0 + HOUR, everyMs: 10 * MIN };
      expect(
        await store.roomHistory({ ...base, buildingId: 'b1', fromMs: T0 + 2 * HOUR, toMs: T0 + 3 * HOUR }),
      ).toEqual([]);
      expect(await store.roomHistory({ ...base, buildingId: 'b1', toMs: T0 })).toEqual([]);
      expect(await store.roomHistory({ ...base, buildingId: 'nope' })).toEqual([]);
      expect(await store.roomHistory({ ...base, sensorId: 'nope' })).toEqual([]);
      expect(await store.roomHistory({ ...base, buildingId: 'b2', positionClass: 'top' })).toEqual([]);
      expect(await store.substationHistory({ ...base, substationId: 'ss1' })).toEqual([]);
    });

    it('substation history: means per bucket, outdoor temperature only where it was reported', async () => {
      const rs = [
        sub('ss1', T0, 70, { outdoorTempC: -5, flowM3h: 12.5, heatKw: 600, valvePct: 55, supplyOffsetC: 1 }),
        sub('ss1', T0 + 10 * MIN, 72, { outdoorTempC: -7 }),
        sub('ss1', T0 + 40 * MIN, 68),
        sub('ss2', T0, 60),
      ];
      await store.writeSubstation(rs);
      await store.writeSubstation(rs.slice(0, 2)); // a replay
      const got = await store.substationHistory({
        substationId: 'ss1',
        fromMs: T0,
        toMs: T0 + HOUR,
        everyMs: 30 * MIN,
      });
      expect(got).toHaveLength(2);
      expect(got[0]!.ts).toBe(T0);
      expect(got[0]!.count).toBe(2);
      expect(got[0]!.supplyTempC).toBeCloseTo(71, 9);
      expect(got[0]!.returnTempC).toBeCloseTo(51, 9);
      expect(got[0]!.outdoorTempC).toBeCloseTo(-6, 9);
      expect(got[1]).toEqual({ ts: T0 + 30 * MIN, supplyTempC: 68, returnTempC: 48, count: 1 });
    });

    it('keeps a manual measurement at the same instant as a sensor reading as a reading of its own', async () => {
      const u = UNITS[3]!;
      await store.writeRoom([reading(u, T0, 19), reading(u, T0, 21, { source: 'manual' })]);
      const got = await store.roomHistory({ sensorId: u.sensorId, fromMs: T0, toMs: T0 + MIN, everyMs: MIN });
      expect(got).toEqual([{ ts: T0, meanC: 20, minC: 19, maxC: 21, count: 2 }]);
    });

    it('stores a batch larger than one write request, in full', async () => {
      const rs = series(T0, 12 * HOUR, MIN); // 6 units × 720 readings
      await store.writeRoom(rs);
      const q = { substationId: 'ss1', fromMs: T0, toMs: T0 + 12 * HOUR, everyMs: HOUR };
      const got = await store.roomHistory(q);
      expect(got.reduce((s, p) => s + p.count, 0)).toBe(5 * 720);
      expectSameHistory(got, expectedHistory(rs, q));
    });

    it('round-trips ids with characters that line protocol and InfluxQL must escape', async () => {
      // The registry only allows [A-Za-z0-9_-] ids today; the store must not depend on that.
      const odd = { ...UNITS[0]!, sensorId: "s 1,a=b'c\\d", buildingId: 'b one', substationId: 'ss=1' };
      await store.writeRoom([reading(odd, T0, 20.5), reading(UNITS[0]!, T0, 30)]);
      const base = { fromMs: T0, toMs: T0 + MIN, everyMs: MIN };
      const one = [{ ts: T0, meanC: 20.5, minC: 20.5, maxC: 20.5, count: 1 }];
      expect(await store.roomHistory({ ...base, sensorId: odd.sensorId })).toEqual(one);
      expect(await store.roomHistory({ ...base, buildingId: 'b one', positionClass: 'top' })).toEqual(one);
      expect(await store.roomHistory({ ...base, substationId: 'ss=1' })).toEqual(one);
      await store.writeSubstation([sub("ss 2,x='y'", T0, 66)]);
      expect(await store.substationHistory({ ...base, substationId: "ss 2,x='y'" })).toEqual([
        { ts: T0, supplyTempC: 66, returnTempC: 46, count: 1 },
      ]);
    });

    it('refuses a query without a scope, with a bucket under 1 ms or with a non-finite range', async () => {
      const bad = { code: 'HW_ERR_BAD_REQUEST' };
      await expect(store.roomHistory({ fromMs: T0, toMs: T0 + HOUR, everyMs: MIN })).rejects.toMatchObject(
        bad,
      );
      await expect(
        store.roomHistory({ buildingId: 'b1', fromMs: T0, toMs: T0 + HOUR, everyMs: 0 }),
      ).rejects.toMatchObject(bad);
      await expect(
        store.roomHistory({ buildingId: 'b1', fromMs: Number.NaN, toMs: T0 + HOUR, everyMs: MIN }),
      ).rejects.toMatchObject(bad);
      await expect(
        store.substationHistory({
          substationId: 'ss1',
          fromMs: T0,
          toMs: Number.POSITIVE_INFINITY,
          everyMs: MIN,
        }),
      ).rejects.toMatchObject(bad);
    });

    it('refuses a reading it cannot hold as not retriable; the spool dead-letters only that reading and moves on', async () => {
      // No finite value at all: SQLite's NOT NULL columns and line protocol (a point needs a field)
      // both refuse it, and replaying it unchanged would fail forever.
      const bad = (u: Unit, ts: number): RoomReading =>
        reading(u, ts, Number.NaN, { floor: Number.NaN, column: Number.NaN });
      await expect(store.writeRoom([bad(UNITS[0]!, T0)])).rejects.toMatchObject({ retriable: false });

      const dir = mkdtempSync(join(tmpdir(), 'hw-refused-'));
      const clock = new ManualClock(T0);
      const journal = new Journal(
        { file: join(dir, 'journal.db'), synchronous: 'NORMAL', syncIntervalMs: 60_000, maxBytes: 1e9 },
        clock,
      );
      const ops = openOpsDb(join(dir, 'ops.db'));
      try {
        journal.start();
        const deadLetters = new DeadLetters(ops, { payloadBytes: 4096, retentionDays: 30 }, clock);
        // 72 good readings, one per message, and 3 refused ones among them (one a message of its own,
        // two inside a message with a good reading), then a substation message.
        const good = series(T0, 2 * HOUR, 10 * MIN);
        const badOnes = [bad(UNITS[1]!, T0 + 1), bad(UNITS[2]!, T0 + 2), bad(UNITS[3]!, T0 + 3)];
        good.forEach((r, i) => {
          if (i === 7) journal.append('room', [badOnes[0]!], T0);
          if (i === 40) journal.append('room', [badOnes[1]!, r, badOnes[2]!], T0);
          else journal.append('room', [r], T0);
        });
        journal.append('substation', [sub('ss1', T0, 70)], T0);
        const counters = {
          stored: new Counter('stored', ''),
          rejected: new Counter('rejected', ''),
          storeFailures: new Counter('failures', ''),
          writeSeconds: new Histogram('seconds', '', [1]),
        };
        const drain = new SpoolDrain({
          journal,
          store,
          deadLetters,
          topics: new Topics('heat'),
          bus: new EventBus<HeatEvents>(),
          clock,
          wallClock: clock,
          log: silentLogger(),
          counters: () => counters,
          settings: () => ({
            batchSize: 1000,
            replayBatchSize: 1000,
            replayInitialBackoffMs: 1000,
            replayMaxBackoffMs: 1000,
          }),
          afterBatch: () => {},
        });
        await drain.drain(true);

        expect(journal.pendingReadings).toBe(0);
        expect(drain.storeUp).toBe(true);
        expect(counters.storeFailures.get()).toBe(0);
        expect(counters.stored.get()).toBe(good.length + 1);
        expect(counters.rejected.get({ reason: STORE_REFUSED })).toBe(3);
        const letters = deadLetters.recent(10, STORE_REFUSED);
        expect(letters.map((l) => l.topic).sort()).toEqual(
          badOnes.map((r) => `heat/sensors/${r.sensorId}/telemetry`).sort(),
        );
        expect(letters.map((l) => JSON.parse(String(l.payload)).ts).sort()).toEqual([T0 + 1, T0 + 2, T0 + 3]);
        const q = { substationId: 'ss1', fromMs: T0, toMs: T0 + 2 * HOUR, everyMs: HOUR };
        expectSameHistory(await store.roomHistory(q), expectedHistory(good, q));
        expect(await store.substationHistory(q)).toHaveLength(1);
      } finally {
        journal.stop();
        ops.close();
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('accepts empty batches and answers ping', async () => {
      await expect(store.writeRoom([])).resolves.toBeUndefined();
      await expect(store.writeSubstation([])).resolves.toBeUndefined();
      expect(await store.ping()).toBe(true);
    });
  });
}
