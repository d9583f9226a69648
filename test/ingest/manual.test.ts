import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { RoomReading } from '../../src/core/readings.ts';
import type { Heatwatch } from '../../src/main.ts';
import { startIngest, storedRows, tempDir } from '../main/support.ts';

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

describe('manual in-home measurements', () => {
  it('are durable like sensor readings, stored as source manual, and refused with a reason when wrong', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    hw = await startIngest(t.dir);
    const now = hw.clock.now();
    const manual: RoomReading = {
      sensorId: 'n01-6-1',
      ts: now - 60_000,
      tempC: 16.4,
      buildingId: 'n01',
      substationId: 'ss-north',
      floor: 6,
      column: 1,
      classes: ['top', 'gable'],
      source: 'manual',
    };
    const seen: RoomReading[][] = [];
    hw.bus.on('roomReadings', 'test', (r) => seen.push(r));
    expect(await hw.ingestor.submit(manual)).toEqual({ ok: true });
    expect(seen).toEqual([[manual]]);
    expect(hw.live.sensor('n01-6-1')?.source).toBe('manual');
    expect(hw.ingestor.ingestManual({ ...manual, tempC: 75 })).toEqual({
      ok: false,
      reason: 'temp_out_of_range',
    });
    expect(hw.ingestor.ingestManual({ ...manual, ts: now + 3_600_000 })).toEqual({
      ok: false,
      reason: 'ts_in_future',
    });
    expect(hw.ingestor.ingestManual({ ...manual, buildingId: 'nowhere' })).toEqual({
      ok: false,
      reason: 'unknown_building',
    });
    expect(hw.ingestor.ingestManual({ ...manual, source: 'sensor' })).toEqual({
      ok: false,
      reason: 'bad_shape',
    });
    await hw.ingestor.flush();
    await hw.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    expect(rows.map((r) => [r.sensor_id, r.source, r.ts])).toEqual([['n01-6-1', 'manual', now - 60_000]]);
  });
});
