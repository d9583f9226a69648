import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { BuildingStates } from '../../src/http/building-state.ts';
import { LiveState } from '../../src/state/live-state.ts';

function setup() {
  const cfg = loadConfig('config', {});
  const clock = new ManualClock();
  const bus = new EventBus<HeatEvents>();
  const live = new LiveState(cfg.registry);
  const events: HeatEvents['buildingStatus'][] = [];
  bus.on('buildingStatus', 'test', (e) => events.push(e));
  const states = new BuildingStates(
    live,
    { requiredTempC: 18, toleranceC: 0.5, overheatedAboveC: 24, imbalanceGapC: 2, minFreshShare: 0.5 },
    bus,
    clock,
    clock,
    { judgeIntervalMs: 1000, fullJudgeIntervalMs: 30_000 },
  );
  // Readings for every unit of n01 at `temp(classes)`, as ingestion would deliver them.
  const feed = (temp: (exposed: boolean) => number) => {
    const rs: RoomReading[] = (live.index.sensorsByBuilding.get('n01') ?? []).map((i) => ({
      sensorId: i.sensor.id,
      ts: clock.now(),
      tempC: temp(!i.classes.includes('middle')),
      buildingId: 'n01',
      substationId: i.substation.id,
      floor: i.sensor.floor,
      column: i.sensor.column,
      classes: i.classes,
      source: 'sensor',
    }));
    live.applyRoom(rs);
    bus.emit('roomReadings', rs);
  };
  return { clock, bus, live, states, events, feed };
}

describe('building states on the live stream', () => {
  it('announces ok → unbalanced → cold as readings arrive, and stale once they stop', () => {
    const { clock, states, events, feed } = setup();
    states.start();
    feed(() => 20.5);
    clock.advance(1000);
    expect(events.map((e) => [e.buildingId, e.previous, e.state])).toEqual([['n01', 'stale', 'ok']]);
    feed((exposed) => (exposed ? 17.2 : 20.5));
    clock.advance(1000);
    expect(events.at(-1)).toMatchObject({ state: 'unbalanced', previous: 'ok' });
    feed(() => 16.1);
    clock.advance(1000);
    expect(events.at(-1)).toMatchObject({ state: 'cold', previous: 'unbalanced' });
    const before = events.length;
    clock.advance(5000); // no readings, nothing judged differently: no events
    expect(events).toHaveLength(before);
    // Past 3 report intervals of 300 s without readings: stale, found by the next full pass.
    clock.advance(16 * 60_000);
    expect(events.at(-1)).toMatchObject({ buildingId: 'n01', state: 'stale', previous: 'cold' });
    states.stop();
  });

  it('a state announced by another module wins and is not overwritten by the judgement', () => {
    const { clock, bus, states, events, feed } = setup();
    states.start();
    bus.emit('buildingStatus', { buildingId: 'n01', state: 'overheated', ts: clock.now() });
    feed(() => 16);
    clock.advance(1000);
    expect(events).toHaveLength(1);
    expect(states.stateOf('n01', clock.now())).toBe('overheated');
    states.stop();
  });
});
