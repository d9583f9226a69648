import { type RulesConfig, rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents, TicketChange } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { type Registry, RegistryIndex } from '../../src/core/registry.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import { rulesMigrations } from '../../src/rules/module.ts';
import { type BuildingPicture, pictureOf } from '../../src/rules/view.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { type Db, openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { RecheckScheduler } from '../../src/tickets/recheck-scheduler.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { SetpointPayload } from '../../src/tickets/types.ts';

export const MIN = 60_000;
export const HOUR = 3_600_000;

/**
 * One substation `ss` with buildings b1..bN of 3 floors × 3 columns and a sensor in every unit, so
 * floor 2 column 2 is the one middle unit... plus a 4th column makes two middle units per building.
 */
export function smallRegistry(buildings = 4): RegistryIndex {
  const reg: Registry = {
    substations: [
      {
        id: 'ss',
        name: 'Test estate',
        curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
      },
    ],
    buildings: [],
    sensors: [],
  };
  for (let i = 1; i <= buildings; i++) {
    const id = `b${i}`;
    reg.buildings.push({ id, name: id, substationId: 'ss', floors: 3, unitsPerFloor: 4 });
    for (let f = 1; f <= 3; f++)
      for (let c = 1; c <= 4; c++)
        reg.sensors.push({ id: `${id}-${f}-${c}`, buildingId: id, floor: f, column: c, intervalS: 300 });
  }
  return new RegistryIndex(reg);
}

/** Building `b` of `index` on substation `ss` with every flat at `tempC` (a rule's picture of it). */
export const uniformPicture = (index: RegistryIndex, b: string, tempC: number): BuildingPicture =>
  pictureOf(
    b,
    'ss',
    12,
    (index.sensorsByBuilding.get(b) ?? []).map((s) => ({
      sensorId: s.sensor.id,
      floor: s.sensor.floor,
      column: s.sensor.column,
      classes: s.classes,
      tempC,
    })),
    { top: 1, ground: 1, gable: 1, middle: 1 },
  );

export function rules(over: Record<string, unknown> = {}): RulesConfig {
  return rulesSchema.parse(over);
}

/** A rules engine over a live state the test writes directly, with a recording publisher. */
export function harness(
  opts: { rules?: Record<string, unknown>; buildings?: number; db?: Db; clock?: ManualClock } = {},
) {
  const clock = opts.clock ?? new ManualClock(Date.UTC(2026, 0, 15));
  const index = smallRegistry(opts.buildings ?? 4);
  const live = new LiveState(index);
  const bus = new EventBus<HeatEvents>();
  const changes: TicketChange[] = [];
  bus.on('ticketChanged', 'test', (c) => changes.push(c));
  const db =
    opts.db ??
    openDb(':memory:', { synchronous: 'FULL', migrations: [...ticketMigrations, ...rulesMigrations] });
  const published: Array<{ substationId: string; payload: SetpointPayload }> = [];
  let failPublish = false;
  const publisher = {
    async publish(substationId: string, payload: SetpointPayload) {
      if (failPublish) throw new Error('broker down');
      published.push({ substationId, payload });
    },
  };
  const cfg = rules(opts.rules);
  const log = silentLogger();
  let engine: RulesEngine | undefined;
  const tickets = new TicketService(sqliteSql(db), clock, bus, publisher, () => engine?.rules ?? cfg, log);
  engine = new RulesEngine(clock, live, tickets, cfg, log, bus);
  const scheduler = new RecheckScheduler(clock, tickets, engine, () => engine!.rules, log);
  /** Sets every unit of a building: `fn(floor, column)` gives its temperature. */
  const setBuilding = (b: string, fn: (floor: number, column: number) => number) => {
    const readings: RoomReading[] = [];
    for (const s of index.sensorsByBuilding.get(b) ?? [])
      readings.push({
        sensorId: s.sensor.id,
        ts: clock.now(),
        tempC: fn(s.sensor.floor, s.sensor.column),
        buildingId: b,
        substationId: 'ss',
        floor: s.sensor.floor,
        column: s.sensor.column,
        classes: s.classes,
        source: 'sensor',
      });
    live.applyRoom(readings);
  };
  /** Healthy picture: middle units 21 °C, exposed units 19.5 °C (a normal position effect). */
  const healthy = (f: number, c: number) => (f === 3 || f === 1 || c === 1 || c === 4 ? 19.5 : 21);
  const setAll = (fn: (b: string, floor: number, column: number) => number) => {
    for (const b of index.buildings.keys()) setBuilding(b, (f, c) => fn(b, f, c));
  };
  /** Advances time in tick steps, re-sending the temperatures (±0.1 °C wobble) each step, ticking the engine. */
  let k = 0;
  const run = async (
    ms: number,
    temps: (b: string, floor: number, column: number) => number,
    opts: { wobble?: boolean } = {},
  ) => {
    const step = engine!.rules.tick.intervalS * 1000;
    for (let t = 0; t < ms; t += step) {
      clock.advance(step);
      // Real rooms move by the sensor resolution; a value that never moves is a stuck sensor.
      const w = opts.wobble === false ? 0 : (k++ % 2) * 0.1;
      setAll((b, f, c) => temps(b, f, c) + w);
      await engine!.tick();
    }
  };
  return {
    clock,
    index,
    live,
    bus,
    changes,
    db,
    published,
    tickets,
    engine: engine!,
    scheduler,
    setBuilding,
    setAll,
    healthy,
    run,
    setFailPublish: (v: boolean) => {
      failPublish = v;
    },
  };
}
