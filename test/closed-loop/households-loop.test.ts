import { describe, expect, it } from 'vitest';
import { SimNetwork } from '../../firmware-sim/physics.ts';
import { Rng } from '../../firmware-sim/random.ts';
import { loadConfig } from '../../src/config/loader.ts';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { simSchema } from '../../src/config/sim-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import { households, sensorReading } from '../households/support.ts';

const HOUR_MS = 3_600_000;
const STEP_MS = 300_000;

/**
 * Households in the closed loop: the simulated network's true room temperatures drive both the
 * sensors (with noise) and the residents — a configurable share of cold households call each day —
 * and the daily bulletin of the second day is held to the simulator's truth.
 */
async function runDay(o: { seed: number; callShare: number }) {
  const config = loadConfig('config', {});
  const index = config.registry;
  const startTs = Date.UTC(2026, 0, 12, 0, 0, 0);
  const sim = new SimNetwork(index.registry, simSchema.parse({ seed: o.seed }), startTs);
  const clock = new ManualClock(startTs);
  const live = new LiveState(index);
  const bus = new EventBus<HeatEvents>();
  const rules = rulesSchema.parse({ autoApprove: { enabled: false } });
  const log = silentLogger();
  const db = openDb(':memory:', { synchronous: 'FULL', migrations: ticketMigrations });
  const tickets = new TicketService(sqliteSql(db), clock, bus, { publish: async () => {} }, () => rules, log);
  const engine = new RulesEngine(clock, live, tickets, rules, log, bus);
  engine.start();
  const hh = households({ clock, bus, index, cfg: { complaints: { hotspotMinComplaints: 3 } } });
  await hh.mod.start();

  const rng = new Rng(o.seed + 1);
  const sensors = [...index.sensors.values()];
  const calls: Array<{ unit: string; buildingId: string; ts: number }> = [];
  const lastCall = new Map<string, number>();
  // Truth per sensored unit: hours sampled, hours in band, hours in the refund bands.
  const truth = new Map<string, { hours: number; inBand: number; low: number; veryLow: number }>();
  const end = startTs + 48 * HOUR_MS;
  const dayTwo = end - 24 * HOUR_MS;
  while (clock.now() < end) {
    sim.step(STEP_MS);
    const ts = sim.nowMs;
    const readings = sensors.map((i) =>
      sensorReading(i, Math.round((sim.sensorTempC(i.sensor.id) + (rng.next() - 0.5) * 0.4) * 10) / 10, ts),
    );
    live.applyRoom(readings);
    live.applyObservation({ stationId: 'city', ts, outdoorTempC: sim.outdoorTempC() });
    bus.emit('roomReadings', readings);
    if ((ts - startTs) % HOUR_MS === 0) {
      for (const b of index.buildings.values())
        for (let f = 1; f <= b.floors; f++)
          for (let c = 1; c <= b.unitsPerFloor; c++) {
            const unit = `${b.id}/${f}-${c}`;
            const t = sim.unitTempC(b.id, f, c);
            // A cold household calls with the configured share per day, at most once a day.
            if (
              t < 18 &&
              ts - (lastCall.get(unit) ?? -Infinity) >= 24 * HOUR_MS &&
              rng.next() < o.callShare / 24
            ) {
              lastCall.set(unit, ts);
              calls.push({ unit, buildingId: b.id, ts });
              await hh.svc.fileComplaint(
                { unit, channel: 'hotline', cls: 'temperature', caller: 'resident', text: 'cold' },
                'operator',
              );
            }
          }
      if (ts > dayTwo)
        for (const s of sensors) {
          const t = sim.sensorTempC(s.sensor.id);
          const x = truth.get(s.sensor.id) ?? { hours: 0, inBand: 0, low: 0, veryLow: 0 };
          x.hours++;
          if (t >= rules.requiredTempC - rules.toleranceC) x.inBand++;
          if (t < rules.compliance.veryLowBandC) x.veryLow++;
          else if (t < rules.compliance.lowBandC) x.low++;
          truth.set(s.sensor.id, x);
        }
    }
    await clock.advanceAsync(STEP_MS);
    await hh.svc.idle();
  }
  engine.stop();
  const bulletin = await hh.mod.reporter.runBulletin();
  const cases = await hh.store.listCases({});
  await hh.mod.stop();
  db.close();
  return { bulletin, calls, truth, cases, dayTwo, end };
}

describe('households in the closed loop', () => {
  it('cold households call; the bulletin of a simulated day matches the simulator’s truth', async () => {
    const r = await runDay({ seed: 42, callShare: 0.5 });
    const c = r.bulletin.company;
    const callsDayTwo = r.calls.filter((x) => x.ts > r.dayTwo && x.ts <= r.end);
    expect(r.calls.length).toBeGreaterThan(0);
    expect(c.complaints.received).toBe(callsDayTwo.length);
    expect(c.complaints.byClass.temperature).toBe(callsDayTwo.length);
    // Every household that called has its case (one per unit, never a twin).
    const caseUnits = new Set(r.cases.map((k) => k.unitKey));
    for (const x of r.calls) expect(caseUnits.has(x.unit), x.unit).toBe(true);
    expect(caseUnits.size).toBe(r.cases.length);
    // Compliance of day two against the true room temperatures of the sensored flats.
    const t = [...r.truth.values()];
    const sum = (f: (x: (typeof t)[number]) => number) => t.reduce((a, x) => a + f(x), 0);
    const trueInBand = sum((x) => x.inBand) / sum((x) => x.hours);
    expect(Math.abs((c.compliance.inBandShare ?? 0) - trueInBand)).toBeLessThan(0.03);
    const trueVeryLow = t.filter((x) => x.veryLow > x.hours / 2).length;
    const trueLow = t.filter((x) => x.veryLow <= x.hours / 2 && x.low + x.veryLow > x.hours / 2).length;
    expect(Math.abs(c.compliance.flatsVeryLowBand - trueVeryLow)).toBeLessThanOrEqual(1);
    expect(Math.abs(c.compliance.flatsLowBand - trueLow)).toBeLessThanOrEqual(1);
    // Repeat hotspots are the buildings whose households called at least three times.
    const perBuilding = new Map<string, number>();
    for (const x of r.calls) perBuilding.set(x.buildingId, (perBuilding.get(x.buildingId) ?? 0) + 1);
    const hot = [...perBuilding]
      .filter(([, n]) => n >= 3)
      .map(([b]) => b)
      .sort();
    expect(r.bulletin.hotspots.buildings.map((b) => b.buildingId).sort()).toEqual(hot);
    console.log(
      `households loop, seed 42, share 0.5: ${r.calls.length} calls (${callsDayTwo.length} on day two), ${r.cases.length} cases; ` +
        `in band ${(100 * (c.compliance.inBandShare ?? 0)).toFixed(1)} % vs truth ${(100 * trueInBand).toFixed(1)} %; ` +
        `flats 14–16 °C ${c.compliance.flatsLowBand} (truth ${trueLow}), < 14 °C ${c.compliance.flatsVeryLowBand} (truth ${trueVeryLow}); hotspots ${hot.join(',') || 'none'}`,
    );
  }, 180_000);
});
