import { SimNetwork } from '../../firmware-sim/physics.ts';
import { Rng } from '../../firmware-sim/random.ts';
import { loadConfig } from '../../src/config/loader.ts';
import { type RulesConfig, rulesSchema } from '../../src/config/rules-schema.ts';
import { type SimConfig, simSchema } from '../../src/config/sim-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ConfirmationWatcher } from '../../src/tickets/confirmation.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { RecheckScheduler } from '../../src/tickets/recheck-scheduler.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { SetpointPayload, Ticket } from '../../src/tickets/types.ts';

const HOUR_MS = 3_600_000;

export interface LoopResult {
  mode: 'acting' | 'watching';
  faults: { underSupplied: string[]; unbalanced: string[] };
  tickets: Ticket[];
  published: Array<{ substationId: string; payload: SetpointPayload; ts: number }>;
  /** Share of unit-hours at or above 18 °C over every unit of every building (simulator truth). */
  shareAtOrAbove18: number;
  degreeHoursBelow18: number;
  heatKWh: number;
  spellStartTs: number;
  startTs: number;
  normalGapC: number;
}

/**
 * A simulated week, direct-coupled: every report interval each sensor's true temperature plus noise
 * goes into LiveState; weather and substation meters likewise; setpoints go to sim.applySetpoint.
 * `watching`: the same engine proposes but nothing is approved or applied.
 */
export async function runLoop(
  mode: 'acting' | 'watching',
  opts: { days?: number; seed?: number; rules?: Partial<RulesConfig> } = {},
): Promise<LoopResult> {
  const config = loadConfig('config', {});
  const startTs = Date.UTC(2026, 0, 12, 0, 0, 0);
  const scenario: SimConfig = simSchema.parse({ seed: opts.seed ?? 42 });
  const sim = new SimNetwork(config.registry.registry, scenario, startTs);
  const clock = new ManualClock(startTs);
  const live = new LiveState(config.registry);
  const bus = new EventBus<HeatEvents>();
  const rules = rulesSchema.parse({
    ...opts.rules,
    autoApprove: { enabled: mode === 'acting' },
  });
  const db = openDb(':memory:', { synchronous: 'FULL', migrations: ticketMigrations });
  const published: LoopResult['published'] = [];
  const publisher = {
    async publish(substationId: string, payload: SetpointPayload) {
      published.push({ substationId, payload, ts: clock.now() });
      // The controller as the simulator models it (config `controller`: it may ignore or delay it).
      sim.receiveSetpoint(substationId, payload);
    },
  };
  const log = silentLogger();
  let current: RulesConfig = rules;
  const tickets: TicketService = new TicketService(sqliteSql(db), clock, bus, publisher, () => current, log);
  const engine: RulesEngine = new RulesEngine(clock, live, tickets, rules, log);
  current = engine.rules;
  const scheduler = new RecheckScheduler(clock, tickets, engine, () => engine.rules, log);
  const confirmations = new ConfirmationWatcher(
    clock,
    tickets.outbox,
    (sid) => live.substation(sid)?.latest,
    () => engine.rules,
    bus,
    (id, kind, actor, reason) => tickets.note(id, kind, actor, reason),
    log,
  );
  engine.start();
  await scheduler.start();
  confirmations.start();

  // The simulator's own seeded generator, so both runs see the same sensor noise.
  const rng = new Rng(opts.seed ?? 42);
  const noise = () => rng.next();
  const sensors = [...config.registry.sensors.values()];
  const reportMs = 300_000;
  const end = startTs + (opts.days ?? 7) * 24 * HOUR_MS;
  let unitHours = 0;
  let okHours = 0;
  let degreeHours = 0;
  let lastForecast = -Infinity;
  while (clock.now() < end) {
    sim.step(reportMs);
    const ts = sim.nowMs;
    const readings: RoomReading[] = sensors.map((i) => ({
      sensorId: i.sensor.id,
      ts,
      tempC: Math.round((sim.sensorTempC(i.sensor.id) + (noise() - 0.5) * 0.4) * 10) / 10,
      buildingId: i.building.id,
      substationId: i.substation.id,
      floor: i.sensor.floor,
      column: i.sensor.column,
      classes: i.classes,
      source: 'sensor',
    }));
    live.applyRoom(readings);
    live.applyObservation({ stationId: 'city', ts, outdoorTempC: sim.outdoorTempC() });
    for (const sid of config.registry.substations.keys()) {
      const t = sim.substationTelemetry(sid);
      live.applySubstation([{ substationId: sid, ...t }]);
    }
    if (ts - lastForecast >= 3 * HOUR_MS) {
      const f = sim.forecast();
      live.applyForecast({ stationId: 'city', issued: f.issued, points: f.points });
      lastForecast = ts;
    }
    // Truth for compliance: every unit of every building, each step weighted by its length.
    if ((ts - startTs) % HOUR_MS === 0) {
      for (const b of config.registry.buildings.values())
        for (let f = 1; f <= b.floors; f++)
          for (let c = 1; c <= b.unitsPerFloor; c++) {
            const t = sim.unitTempC(b.id, f, c);
            unitHours++;
            if (t >= 18) okHours++;
            else degreeHours += 18 - t;
          }
    }
    await clock.advanceAsync(reportMs);
    // No broker here: every command the step committed is delivered before the next step.
    await tickets.outbox.drainOnce();
  }
  engine.stop();
  scheduler.stop();
  confirmations.stop();
  const spell = scenario.weather.coldSpells[0]!;
  const result: LoopResult = {
    mode,
    faults: sim.faults(),
    tickets: await tickets.list(),
    published,
    shareAtOrAbove18: okHours / unitHours,
    degreeHoursBelow18: degreeHours,
    heatKWh: sim.heatDeliveredKWh(),
    spellStartTs: startTs + spell.startH * HOUR_MS,
    startTs,
    normalGapC: engine.status().normalGapC,
  };
  db.close();
  return result;
}
