/**
 * One rules tick over a synthetic live state of N buildings × 60 units (10 floors × 6 units) with a
 * sensor in every `60 / SENSORS_PER_BUILDING`-th unit (default 12 sensors: a 20 % sample, 5 of them
 * exposed, so docs/domain.md's 40 % sampling rule holds), every sensor fresh with a healthy position picture
 * (middle 21 °C, exposed 19.5 °C). Before each tick 1 / EVERY of the sensors report (EVERY 1: all of
 * them, the worst case; EVERY 3: sensors reporting every 15 min under 5-min ticks), each sensor's
 * report interval EVERY × 5 min; SPREAD `sensors` (default) staggers the sensors of a building, so
 * nearly every building hears from one before each tick, `buildings` has a building's sensors report
 * together (one gateway per building). MODE `incremental` (the engine's default) or `full`. Warms up,
 * then times `ticks` ticks and prints the median.
 *
 *   node --import tsx bench/procs/rules-tick.ts BUILDINGS [TICKS] [SENSORS_PER_BUILDING] [EVERY] [MODE] [SPREAD]
 */
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { RoomReading } from '../../src/core/readings.ts';
import { type Registry, RegistryIndex } from '../../src/core/registry.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { sayResult } from '../lib.ts';

const buildings = Number(process.argv[2] ?? 1000);
const ticks = Number(process.argv[3] ?? 5);
const perBuilding = Number(process.argv[4] ?? 12);
const every = Math.max(1, Number(process.argv[5] ?? 1));
const mode = process.argv[6] === 'full' ? 'full' : 'incremental';
const spread = process.argv[7] === 'buildings' ? 'buildings' : 'sensors';
const FLOORS = 10;
const UNITS = 6;
const stride = Math.max(1, Math.floor((FLOORS * UNITS) / perBuilding));
const PER_SUBSTATION = 20;
const reg: Registry = { substations: [], buildings: [], sensors: [] };
for (let b = 0; b < buildings; b++) {
  if (b % PER_SUBSTATION === 0)
    reg.substations.push({
      id: `ss${b / PER_SUBSTATION}`,
      name: `Estate ${b / PER_SUBSTATION}`,
      curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
    });
  const substationId = `ss${Math.floor(b / PER_SUBSTATION)}`;
  const id = `${substationId}-b${b}`;
  reg.buildings.push({ id, name: id, substationId, floors: FLOORS, unitsPerFloor: UNITS });
  for (let f = 1; f <= FLOORS; f++)
    for (let c = 1; c <= UNITS; c++)
      if (((f - 1) * UNITS + c - 1) % stride === 0)
        reg.sensors.push({
          id: `${id}-${f}-${c}`,
          buildingId: id,
          floor: f,
          column: c,
          intervalS: 300 * every,
        });
}
const index = new RegistryIndex(reg);
const buildingNo = new Map(reg.buildings.map((b, i) => [b.id, i]));
const clock = new ManualClock(Date.UTC(2026, 0, 15, 6));
const live = new LiveState(index);
const rules = rulesSchema.parse({});
const tickMs = rules.tick.intervalS * 1000;
let k = 0;
const feed = (all: boolean) => {
  // Readings move by the sensor resolution each round, as real rooms do (a frozen value is a fault).
  const round = k++;
  const w = (Math.floor(round / every) % 2) * 0.1;
  let batch: RoomReading[] = [];
  let n = 0;
  for (const info of index.sensors.values()) {
    const slot = spread === 'buildings' ? (buildingNo.get(info.sensor.buildingId) ?? 0) : n;
    n++;
    if (!all && (slot + round) % every !== 0) continue;
    // In ingestion-sized batches, so the feed's garbage does not weigh on the ticks being timed.
    if (batch.length === 10_000) {
      live.applyRoom(batch);
      batch = [];
    }
    const { sensor } = info;
    const exposed = !info.classes.includes('middle');
    batch.push({
      sensorId: sensor.id,
      buildingId: sensor.buildingId,
      substationId: info.substation.id,
      floor: sensor.floor,
      column: sensor.column,
      classes: info.classes,
      source: 'sensor',
      ts: clock.now(),
      tempC: (exposed ? 19.5 : 21) + w,
    });
  }
  live.applyRoom(batch);
};
const db = openDb(':memory:', { synchronous: 'FULL', migrations: ticketMigrations });
const log = silentLogger();
const tickets = new TicketService(
  sqliteSql(db),
  clock,
  new EventBus<HeatEvents>(),
  { publish: async () => {} },
  () => rules,
  log,
);
const engine = new RulesEngine(clock, live, tickets, rules, log, undefined, { evaluation: mode });
const times: number[] = [];
const cpuTimes: number[] = [];
const WARMUP = 1;
for (let i = 0; i < WARMUP + ticks; i++) {
  clock.advance(tickMs);
  // The warm-up tick sees every sensor once, as a restart would.
  feed(i === 0);
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  const report = await engine.tick();
  const ms = performance.now() - t0;
  const cpu = process.cpuUsage(c0);
  if (i >= WARMUP) {
    times.push(ms);
    // CPU time of the process over the tick: what the tick costs, whatever else the machine runs.
    cpuTimes.push((cpu.user + cpu.system) / 1000);
  }
  if (i === WARMUP + ticks - 1) {
    times.sort((a, b) => a - b);
    cpuTimes.sort((a, b) => a - b);
    const median = times[Math.floor(times.length / 2)] ?? 0;
    const cpuMedian = cpuTimes[Math.floor(cpuTimes.length / 2)] ?? 0;
    sayResult({
      buildings,
      sensors: index.sensors.size,
      unitsPerBuilding: FLOORS * UNITS,
      reportEvery: every,
      spread,
      mode,
      tickMs: Math.round(median * 10) / 10,
      tickCpuMs: Math.round(cpuMedian * 10) / 10,
      perBuildingUs: Math.round(((median * 1000) / buildings) * 100) / 100,
      findings: report.findings.length,
    });
  }
}
db.close();
