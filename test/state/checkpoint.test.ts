import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { StateCheckpoint } from '../../src/state/checkpoint.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';

const registry = loadConfig('config', {}).registry;

function reading(sensorId: string, ts: number, tempC: number): RoomReading {
  const info = registry.sensors.get(sensorId);
  if (!info) throw new Error(sensorId);
  return {
    sensorId,
    ts,
    tempC,
    buildingId: info.building.id,
    substationId: info.substation.id,
    floor: info.sensor.floor,
    column: info.sensor.column,
    classes: info.classes,
    source: 'sensor',
  };
}

describe('live-state checkpoints', () => {
  it('saves every checkpointIntervalMs and on stop; a new process restores the picture at once', () => {
    const clock = new ManualClock();
    const db = openOpsDb(':memory:');
    const live = new LiveState(registry, 3);
    const cp = new StateCheckpoint(db, live, { intervalMs: 60_000 }, clock, silentLogger());
    cp.start();
    live.applyRoom([reading('n01-6-1', clock.now(), 17.2)]);
    expect(cp.savedMs).toBeUndefined();
    clock.advance(60_000);
    expect(cp.savedMs).toBe(clock.now());
    live.applyRoom([reading('n01-6-1', clock.now(), 17.6)]);
    live.applySubstation([{ substationId: 'ss-north', ts: clock.now(), supplyTempC: 55, returnTempC: 40 }]);
    cp.stop();
    expect(clock.pendingTimers()).toBe(0);

    const restarted = new LiveState(registry, 3);
    const cp2 = new StateCheckpoint(db, restarted, { intervalMs: 60_000 }, clock, silentLogger());
    cp2.start();
    expect(restarted.sensor('n01-6-1')?.tempC).toBe(17.6);
    expect(restarted.substation('ss-north')?.latest?.supplyTempC).toBe(55);
    expect(restarted.buildingStats('n01', clock.now())?.classes.top?.meanC).toBe(17.6);
    cp2.stop();
    db.close();
  });

  it('marks a sensor offline after offlineAfterIntervals report intervals of silence', () => {
    const clock = new ManualClock();
    const live = new LiveState(registry, 3);
    const intervalMs = (registry.sensors.get('n01-6-1')?.sensor.intervalS ?? 0) * 1000;
    live.applyRoom([reading('n01-6-1', clock.now(), 20)]);
    const s = live.sensor('n01-6-1');
    if (!s) throw new Error('sensor');
    clock.advance(3 * intervalMs);
    expect(live.isOnline(s, clock.now())).toBe(true);
    clock.advance(1);
    expect(live.isOnline(s, clock.now())).toBe(false);
  });

  it('starts empty, not failing, when the checkpoint row is unreadable', () => {
    const clock = new ManualClock();
    const db = openOpsDb(':memory:');
    db.prepare('INSERT INTO live_state_checkpoint (id, saved_ms, body) VALUES (1, 0, ?)').run('{not json');
    const live = new LiveState(registry, 3);
    const cp = new StateCheckpoint(db, live, { intervalMs: 60_000 }, clock, silentLogger());
    expect(cp.restore()).toBe(false);
    db.close();
  });
});
