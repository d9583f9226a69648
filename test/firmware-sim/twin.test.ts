import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { drawEstate } from '../../firmware-sim/twin/estate.ts';
import { TwinPlant } from '../../firmware-sim/twin/plant.ts';
import { runTwin, type TwinResult } from '../../firmware-sim/twin/run.ts';
import {
  loadScenario,
  parseScenario,
  ScenarioError,
  type TwinScenario,
} from '../../firmware-sim/twin/scenario.ts';
import type { StrategyName } from '../../firmware-sim/twin/strategies.ts';
import { TwinWeather } from '../../firmware-sim/twin/weather.ts';
import { samplingCoverage } from '../../src/core/registry.ts';

const DIR = 'firmware-sim/scenarios';
const scenario = (name: string) => loadScenario(join(DIR, `${name}.yaml`));
const run = (sc: TwinScenario, strategy: StrategyName, days: number, seed = 1) =>
  runTwin(sc, { scenarioName: 'test', seed, days, strategy });
/** A result without its wall-clock figures, for comparing runs. */
const figures = ({ runtimeMs: _r, cpuMs: _c, ...rest }: TwinResult) => rest;

describe('twin scenarios', () => {
  it('ships at least four valid scenarios of 30 days or more with several cold and warm spells', () => {
    const files = readdirSync(DIR).filter((f) => f.endsWith('.yaml'));
    expect(files.length).toBeGreaterThanOrEqual(4);
    for (const f of files) {
      const sc = loadScenario(join(DIR, f));
      expect(sc.days, f).toBeGreaterThanOrEqual(30);
      expect(sc.weather.spells.filter((s) => s.deltaC < 0).length, f).toBeGreaterThanOrEqual(2);
      expect(sc.weather.spells.filter((s) => s.deltaC > 0).length, f).toBeGreaterThanOrEqual(1);
      expect(sc.forecast.biasC, f).not.toBe(0);
      // Every key is commented: each `key:` line has a comment line somewhere above it in its block.
      const lines = readFileSync(join(DIR, f), 'utf8').split('\n');
      lines.forEach((line, i) => {
        if (!/^\s*[A-Za-z]+:/.test(line)) return;
        const prev = lines[i - 1]?.trim() ?? '';
        const keyAbove = /^[A-Za-z]+:/.test(prev) && lines.slice(0, i).some((l) => l.trim().startsWith('#'));
        expect(prev.startsWith('#') || keyAbove || /^[a-z]+:$/.test(line.trim()), `${f}:${i + 1}`).toBe(true);
      });
    }
  });

  it('refuses a bad file with file: path: message, every problem at once', () => {
    const text = readFileSync(join(DIR, 'mixed-city.yaml'), 'utf8')
      .replace(/^days: .*$/m, 'days: 0')
      .replace(/timeConstantH: \[.*\]/, 'timeConstantH: [60, 20]');
    const file = join(mkdtempSync(join(tmpdir(), 'twin-')), 'bad.yaml');
    writeFileSync(file, text);
    let err: unknown;
    try {
      loadScenario(file);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(ScenarioError);
    const msg = (err as ScenarioError).message;
    expect(msg).toContain(`${file}: days: `);
    expect(msg).toContain(`${file}: buildings.timeConstantH: a range is [low, high]`);
    expect(() => parseScenario('x.yaml', 'days: [')).toThrow(/x\.yaml: line 1 column \d+: YAML syntax/);
  });

  it('draws the same estate for a seed and another for another seed, sampled by the 40 % rule', () => {
    const sc = scenario('mixed-city');
    const a = drawEstate(sc, 5);
    expect(drawEstate(sc, 5)).toEqual(a);
    expect(drawEstate(sc, 6).buildings).not.toEqual(a.buildings);
    const taus = a.buildings.map((b) => b.timeConstantH);
    expect(Math.min(...taus)).toBeGreaterThanOrEqual(20);
    expect(Math.max(...taus)).toBeLessThanOrEqual(60);
    expect(new Set(taus).size).toBe(taus.length);
    for (const infos of a.registry.sensorsByBuilding.values()) {
      const cov = samplingCoverage(infos);
      expect(cov.exposedShare).toBeGreaterThanOrEqual(0.4);
      expect(cov.missingClasses).toEqual([]);
    }
  });

  it('building inertia matters: a slow building loses less in the first hours after a supply cut', () => {
    const cooling = (tauH: number): number => {
      const base = scenario('mild-oversupplied');
      const sc: TwinScenario = {
        ...base,
        buildings: { ...base.buildings, timeConstantH: [tauH, tauH] },
        weather: { ...base.weather, noiseC: 0, spells: [] },
      };
      const start = Date.parse(`${sc.startDate}T00:00:00Z`);
      const estate = drawEstate(sc, 1);
      const plant = new TwinPlant(sc, estate, new TwinWeather(sc, 1, start), 1, start);
      plant.warmUp(sc.warmupDays);
      const mean = () => plant.unitTemps.reduce((a, t) => a + t, 0) / plant.unitTemps.length;
      const before = mean();
      for (const s of estate.substations) plant.applySetpoint(s.id, { supplyOffset: -15 });
      for (let i = 0; i < (12 * 60) / sc.stepMin; i++) plant.step();
      return before - mean();
    };
    const fast = cooling(20);
    const slow = cooling(60);
    expect(fast).toBeGreaterThan(0.5);
    expect(slow).toBeLessThan(fast * 0.6);
  });

  it('is deterministic per seed, for the hand strategies and for heatwatch acting', async () => {
    const sc = scenario('autumn-fast');
    expect(figures(await run(sc, 'coldest-flat', 2, 3))).toEqual(
      figures(await run(sc, 'coldest-flat', 2, 3)),
    );
    expect(figures(await run(sc, 'acting', 2, 3))).toEqual(figures(await run(sc, 'acting', 2, 3)));
    expect((await run(sc, 'watching', 2, 4)).heatMWh).not.toBe((await run(sc, 'watching', 2, 3)).heatMWh);
  }, 120_000);
});

describe('twin strategies do what their names say', () => {
  it('watching sends nothing; raise-all only raises, a step at a time; coldest-flat also lowers', async () => {
    const sc = scenario('mixed-city');
    const watching = await run(sc, 'watching', 4);
    expect(watching.setpoints).toEqual([]);
    expect(Object.keys(watching.byProblem).length).toBeGreaterThan(0);

    const raise = await run(sc, 'raise-all', 4);
    expect(raise.setpoints.length).toBeGreaterThan(0);
    const last = new Map<string, number>();
    for (const s of raise.setpoints) {
      const before = last.get(s.substationId) ?? 0;
      expect(s.setpoint.supplyOffset! - before).toBeCloseTo(sc.baselines.raiseStepC, 5);
      last.set(s.substationId, s.setpoint.supplyOffset!);
    }
    expect(raise.heatMWh).toBeGreaterThan(watching.heatMWh);
    expect(raise.shareAtOrAbove18).toBeGreaterThan(watching.shareAtOrAbove18);

    const mild = scenario('mild-oversupplied');
    const coldest = await run(mild, 'coldest-flat', 4);
    expect(coldest.setpoints.some((s) => s.setpoint.supplyOffset! < 0)).toBe(true);
    for (const s of coldest.setpoints) expect(s.setpoint.buildingValves).toBeUndefined();
    expect(coldest.heatMWh).toBeLessThan((await run(mild, 'watching', 4)).heatMWh);
  }, 120_000);

  it('acting acts only through tickets: each setpoint follows an applied ticket', async () => {
    const sc = scenario('cold-undersupplied');
    const acting = await run(sc, 'acting', 4);
    expect(acting.setpoints.length).toBeGreaterThan(0);
    const applied = Object.values(acting.byProblem).reduce(
      (a, st) => a + (st.applied ?? 0) + (st.rechecking ?? 0) + (st.resolved ?? 0) + (st.escalated ?? 0),
      0,
    );
    // Re-checks may re-publish (a pre-heat ending); never more setpoints than tickets + their re-checks.
    expect(acting.setpoints.length).toBeLessThanOrEqual(2 * applied);
    expect(acting.operatorActions).toBeGreaterThan(0);
  }, 120_000);
});

describe('lowering supply in the twin', () => {
  it('the watch catches a lowering that takes warm monitored flats below 18 °C (coldest-flat)', async () => {
    for (const name of ['mild-oversupplied', 'autumn-fast']) {
      const r = await run(scenario(name), 'coldest-flat', 6);
      expect(r.lowering.steps, name).toBeGreaterThan(0);
      expect(r.lowering.flatsTakenBelow18, name).toBeGreaterThan(0);
    }
  }, 180_000);

  // Issue #11: lowering must never take a monitored flat below 18 °C. The engine undoes its own
  // lowering as soon as a monitored flat has used up half the margin the step was sized to keep.
  it('heatwatch lowering never takes a monitored flat below 18 °C', async () => {
    for (const name of ['mild-oversupplied', 'autumn-fast']) {
      const acting = await run(scenario(name), 'acting', 6);
      expect(acting.lowering.steps, name).toBeGreaterThan(0);
      expect(acting.lowering.flatsTakenBelow18, name).toBe(0);
    }
  }, 180_000);
});

/**
 * Issue #11's bar on two short scenarios: acting warmer than watching, and no more heat than
 * raise-all at equal comfort.
 */
describe('acting against the others on two short scenarios', () => {
  // Both tests judge the same runs; each scenario runs once.
  const runs = new Map<string, Promise<Record<'acting' | 'watching' | 'raise', TwinResult>>>();
  const pair = (name: string) => {
    const sc = scenario(name);
    if (!runs.has(name))
      runs.set(
        name,
        (async () => ({
          acting: await run(sc, 'acting', 5),
          watching: await run(sc, 'watching', 5),
          raise: await run(sc, 'raise-all', 5),
        }))(),
      );
    return runs.get(name)!;
  };

  it('acting keeps more unit-hours at or above 18 °C than watching', async () => {
    for (const name of ['cold-undersupplied', 'mixed-city']) {
      const r = await pair(name);
      expect(r.acting.shareAtOrAbove18, name).toBeGreaterThan(r.watching.shareAtOrAbove18);
      expect(r.acting.degreeHoursBelow18, name).toBeLessThan(r.watching.degreeHoursBelow18);
    }
  }, 180_000);

  it('acting uses less heat than raise-all at equal or better comfort', async () => {
    for (const name of ['cold-undersupplied', 'mixed-city']) {
      const r = await pair(name);
      expect(r.acting.shareAtOrAbove18, name).toBeGreaterThanOrEqual(r.raise.shareAtOrAbove18 - 0.001);
      expect(r.acting.heatMWh, name).toBeLessThan(r.raise.heatMWh);
    }
  }, 180_000);
});

describe('pre-heating in the twin', () => {
  // Sizing and timing from the learnt response are pure logic (test/rules/preheat.test.ts); here the
  // whole loop: a forecast cold spell is pre-heated, re-checked, and stepped back down after it.
  it('a pre-heat is applied before the spell and stepped back down when it ends', async () => {
    const r = await run(scenario('cold-undersupplied'), 'acting', 7);
    expect(r.byProblem.cold_spell?.resolved ?? 0).toBeGreaterThan(0);
    const reverts = r.setpoints.filter((s) => s.setpoint.setpointId?.endsWith('-revert'));
    expect(reverts.length).toBeGreaterThan(0);
    for (const rev of reverts) {
      const before = r.setpoints.filter((s) => s.substationId === rev.substationId && s.ts < rev.ts).pop();
      // The offset in force comes down by the pre-heat when its spell is over.
      expect(rev.setpoint.supplyOffset!, rev.setpoint.setpointId).toBeLessThan(
        before!.setpoint.supplyOffset!,
      );
    }
  }, 120_000);
});
