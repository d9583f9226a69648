import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { UnitHoursCompliance } from '../../src/http/compliance.ts';
import { complianceFromHistory, StoredUnitHours } from '../../src/rules/compliance.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-store.ts';
import { HOUR, MIN, rules, smallRegistry } from './fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-compliance-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

async function storeWith(readings: RoomReading[]) {
  const store = new SqliteReadingStore(
    {
      file: join(dir, `readings-${Math.random().toString(36).slice(2)}.db`),
      retentionDays: 400,
      pruneIntervalMs: HOUR,
      pruneChunkRows: 1000,
      synchronous: 'NORMAL',
      busyTimeoutMs: 1000,
    },
    new ManualClock(0),
    silentLogger(),
  );
  await store.start();
  await store.writeRoom(readings);
  return store;
}

describe('compliance figures', () => {
  const index = smallRegistry(1);
  const cfg = rules();
  const info = index.sensors.get('b1-1-1')!;
  /** Readings of b1-1-1 every 10 min for each hour at the given temperature. */
  const hours = (temps: Array<number | undefined>): RoomReading[] =>
    temps.flatMap((tempC, h) =>
      tempC === undefined
        ? []
        : Array.from({ length: 6 }, (_, i) => ({
            sensorId: 'b1-1-1',
            ts: h * HOUR + i * 10 * MIN,
            tempC,
            buildingId: 'b1',
            substationId: info.substation.id,
            floor: info.sensor.floor,
            column: info.sensor.column,
            classes: info.classes,
            source: 'sensor' as const,
          })),
    );

  it('judges each stored hour by its mean: band, degree-hours below 18 °C, refund bands, over-heated', async () => {
    // 19, 15, 13 °C; an hour without readings (not counted); 25 °C (above unitHot.raiseAboveC 24).
    const store = await storeWith(hours([19, 15, 13, undefined, 25]));
    const source = new StoredUnitHours(
      store,
      () => index,
      () => cfg,
    );
    const f = (await source.unitHours(0, 6 * HOUR)).get('b1-1-1');
    expect(f).toEqual({
      hours: 4,
      inBandHours: 2,
      aboveBandHours: 1,
      atOrAboveRequiredHours: 2,
      degreeHoursBelow: 3 + 5,
      lowBandHours: 1,
      veryLowBandHours: 1,
      tempHours: 19 + 15 + 13 + 25,
    });
    // Another sensor of the building had no readings: it has no figures at all.
    expect((await source.unitHours(0, 6 * HOUR)).size).toBe(1);
    await store.stop();
  });

  it('the compliance page reads the same unit-hours: shares per building add up to one', async () => {
    const store = await storeWith(hours([19, 15, 13, undefined, 25]));
    const report = await new UnitHoursCompliance(
      new StoredUnitHours(
        store,
        () => index,
        () => cfg,
      ),
      () => index,
    ).report(0, 6 * HOUR);
    expect(report).toMatchObject({ bandLowC: 17.5, bandHighC: 24 });
    const b1 = report.buildings.find((b) => b.buildingId === 'b1')!;
    expect(b1).toMatchObject({
      unitHours: 4,
      inBandShare: 0.25,
      belowShare: 0.5,
      aboveShare: 0.25,
      meanC: 18,
    });
    expect(report.coldestUnits).toEqual([
      expect.objectContaining({ sensorId: 'b1-1-1', meanC: 18, belowShare: 0.5 }),
    ]);
    await store.stop();
  });

  it('computes the figures of history buckets, each counted for its length', () => {
    const f = complianceFromHistory(
      [
        { ts: 0, meanC: 19, minC: 19, maxC: 19, count: 12 },
        { ts: HOUR, meanC: 15, minC: 15, maxC: 15, count: 12 },
      ],
      HOUR,
      rules(),
    );
    expect(f).toMatchObject({ hours: 2, inBandHours: 1, degreeHoursBelow: 3, lowBandHours: 1 });
  });
});
