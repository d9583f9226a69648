import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dryRun } from '../../src/cli/dry-run.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { SqliteReadingStore } from '../../src/storage/sqlite-store.ts';
import { HOUR, MIN, rules, smallRegistry } from './fixture.ts';

const index = smallRegistry(4);
const from = Date.UTC(2026, 0, 10);
const dir = mkdtempSync(join(tmpdir(), 'hw-dry-'));
const store = new SqliteReadingStore(
  {
    file: join(dir, 'readings.db'),
    retentionDays: 400,
    pruneIntervalMs: HOUR,
    pruneChunkRows: 1000,
    synchronous: 'NORMAL',
    busyTimeoutMs: 1000,
  },
  new ManualClock(from),
  silentLogger(),
);

beforeAll(async () => {
  await store.start();
  const rows: RoomReading[] = [];
  for (let t = from; t < from + 4 * HOUR; t += 5 * MIN)
    for (const i of index.sensors.values()) {
      const exposed = !i.classes.includes('middle');
      const base = i.building.id === 'b2' ? 16.8 : exposed ? 19.5 : 21;
      rows.push({
        sensorId: i.sensor.id,
        ts: t + 7_000,
        tempC: base + ((t / (5 * MIN)) % 2) * 0.1,
        buildingId: i.building.id,
        substationId: 'ss',
        floor: i.sensor.floor,
        column: i.sensor.column,
        classes: i.classes,
        source: 'sensor',
      });
    }
  await store.writeRoom(rows);
});
afterAll(async () => {
  await store.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('response estimates from stored history', () => {
  it('seeds the hourly samples from the store, so the slope fit survives a restart', async () => {
    const { harness } = await import('./fixture.ts');
    const h = harness({ clock: new ManualClock(from + 4 * HOUR) });
    const n = await h.engine.seedFromHistory(store, 6);
    expect(n).toBe(16); // 4 buildings × 4 stored hours
  });
});

describe('dry-run replay', () => {
  it('lists the tickets the stored period would have raised with the given thresholds', async () => {
    const r = await dryRun({ store, registry: index, rules: rules(), fromMs: from, toMs: from + 4 * HOUR });
    expect(r.ticks).toBe(48);
    expect(r.tickets.map((t) => [t.problem, t.targetId, t.status])).toEqual([
      ['building_cold', 'b2', 'proposed'],
    ]);
  });

  it('looser thresholds raise nothing; nothing is ever applied', async () => {
    const r = await dryRun({
      store,
      registry: index,
      rules: rules({ requiredTempC: 16, imbalanceBetween: { enabled: false } }),
      fromMs: from,
      toMs: from + 4 * HOUR,
    });
    expect(r.tickets).toEqual([]);
  });
});
