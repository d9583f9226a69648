/**
 * One strategy on one drawn estate, direct-coupled: each step the twin moves on, every sensor's true
 * temperature plus its calibration error and noise goes into LiveState with the meters and the
 * weather (forecasts as issued), the strategy acts, and once an hour every unit's true temperature
 * is counted for the comfort figures.
 */
import { readFileSync } from 'node:fs';
import type { ConfigIssue } from '../../src/config/loader.ts';
import { ConfigError, formatPath, parseYaml } from '../../src/config/loader.ts';
import { type RulesConfig, rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { type RoomReading, roomReadingOf } from '../../src/core/readings.ts';
import { LiveState } from '../../src/state/live-state.ts';
import type { SimSetpoint } from '../physics.ts';
import { hashGauss, Rng } from '../random.ts';
import { EngineStrategy } from './engine.ts';
import { drawEstate } from './estate.ts';
import { type LoweringFigures, LoweringWatch } from './lowering.ts';
import { TwinPlant } from './plant.ts';
import { type PositionTruth, PositionTruthWatch } from './position-truth.ts';
import type { TwinScenario } from './scenario.ts';
import {
  ColdestFlat,
  RaiseAll,
  type Strategy,
  type StrategyName,
  type StrategyView,
  type TicketFigures,
} from './strategies.ts';
import { TwinWeather } from './weather.ts';

const HOUR_MS = 3_600_000;
const STATION = 'city';
/** Readings are smoothed over about this long for the hand strategies, minutes. */
const SMOOTHING_MIN = 60;

export interface TwinResult extends TicketFigures {
  scenario: string;
  seed: number;
  days: number;
  strategy: StrategyName;
  shareAtOrAbove18: number;
  degreeHoursBelow18: number;
  shareAbove22: number;
  shareAbove24: number;
  heatMWh: number;
  units: number;
  sensors: number;
  runtimeMs: number;
  /** CPU time of the run (user + system), ms: the figure for "under a minute on one core". */
  cpuMs: number;
  /** Every setpoint the strategy sent, in order (for tests; not in the JSON). */
  setpoints: Array<{ ts: number; substationId: string; setpoint: SimSetpoint }>;
  lowering: LoweringFigures;
  /** Each building's true position effect (the twin's truth, for tests; not in the JSON). */
  positionTruth: PositionTruth[];
}

export interface TwinOptions {
  scenarioName: string;
  seed: number;
  days?: number;
  strategy: StrategyName;
  /** The rules in force (default: config/rules.yaml as shipped). */
  rules?: RulesConfig;
}

export function loadRules(file = 'config/rules.yaml'): RulesConfig {
  const issues: ConfigIssue[] = [];
  const raw = parseYaml(file, readFileSync(file, 'utf8'), issues);
  if (raw === undefined) throw new ConfigError(issues);
  const r = rulesSchema.safeParse(raw);
  if (!r.success)
    throw new ConfigError(
      r.error.issues.map((i) => ({ file, path: formatPath(i.path), message: i.message })),
    );
  return r.data;
}

export async function runTwin(sc: TwinScenario, opts: TwinOptions): Promise<TwinResult> {
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  const days = opts.days ?? sc.days;
  const startMs = Date.parse(`${sc.startDate}T00:00:00Z`);
  const estate = drawEstate(sc, opts.seed);
  const weather = new TwinWeather(sc, opts.seed, startMs);
  const plant = new TwinPlant(sc, estate, weather, opts.seed, startMs);
  plant.warmUp(sc.warmupDays);
  const clock = new ManualClock(startMs);
  const live = new LiveState(estate.registry);
  const strategy = makeStrategy(opts, sc, clock, live);

  const sensors = [...estate.registry.sensors.values()];
  const biasC = sensors.map((s) => sc.sensors.biasC * hashGauss(opts.seed, 'twin-bias', s.sensor.id));
  const smoothed = new Map<string, number>();
  const setpoints: TwinResult['setpoints'] = [];
  const lowering = new LoweringWatch(estate.registry, plant);
  const positionTruth = new PositionTruthWatch(estate.registry, plant, estate.buildings);
  const alpha = Math.min(1, sc.stepMin / SMOOTHING_MIN);
  // The same noise stream for every strategy: the same seed sees the same sensor errors.
  const rng = new Rng(opts.seed ^ 0x5eed);
  const view: StrategyView = {
    now: startMs,
    registry: estate.registry,
    smoothedC: (id) => smoothed.get(id),
    send: async (id, sp) => {
      setpoints.push({ ts: plant.nowMs, substationId: id, setpoint: sp });
      lowering.onSetpoint(id, sp);
      plant.applySetpoint(id, sp);
    },
  };
  const truth = { unitHours: 0, ok: 0, degreeHours: 0, above22: 0, above24: 0 };
  const end = startMs + days * 24 * HOUR_MS;
  let nextForecast = startMs;
  while (plant.nowMs < end) {
    plant.step();
    const ts = plant.nowMs;
    const readings: RoomReading[] = sensors.map((info, k) => {
      const tempC =
        Math.round(
          (plant.unitTempC(info.building.id, info.sensor.floor, info.sensor.column) +
            biasC[k]! +
            sc.sensors.noiseC * rng.gauss()) *
            10,
        ) / 10;
      const prev = smoothed.get(info.sensor.id);
      smoothed.set(info.sensor.id, prev === undefined ? tempC : prev + alpha * (tempC - prev));
      return roomReadingOf(info, ts, tempC, 'sensor');
    });
    live.applyRoom(readings);
    const outdoor = plant.outdoorC();
    live.applyObservation({ stationId: STATION, ts, outdoorTempC: Math.round(outdoor * 10) / 10 });
    live.applySubstation(
      [...estate.registry.substations.keys()].map((id) => ({
        substationId: id,
        ts,
        outdoorTempC: outdoor,
        valvePct: 100,
        ...plant.meter(id),
      })),
    );
    if (ts >= nextForecast) {
      live.applyForecast({ stationId: STATION, issued: ts, points: weather.forecast(ts) });
      nextForecast = ts + sc.forecast.intervalH * HOUR_MS;
    }
    if ((ts - startMs) % HOUR_MS === 0) {
      countTruth(plant.unitTemps, truth);
      lowering.sample();
      positionTruth.sample();
    }
    view.now = ts;
    await strategy.afterStep(view);
  }
  const figures = await strategy.finish();
  return {
    scenario: opts.scenarioName,
    seed: opts.seed,
    days,
    strategy: opts.strategy,
    shareAtOrAbove18: truth.ok / truth.unitHours,
    degreeHoursBelow18: truth.degreeHours,
    shareAbove22: truth.above22 / truth.unitHours,
    shareAbove24: truth.above24 / truth.unitHours,
    heatMWh: plant.heatDeliveredKWh() / 1000,
    units: plant.unitTemps.length,
    sensors: sensors.length,
    runtimeMs: Math.round(performance.now() - t0),
    cpuMs: Math.round(cpuMsSince(cpu0)),
    setpoints,
    lowering: lowering.figures(),
    positionTruth: positionTruth.figures(),
    ...figures,
  };
}

function countTruth(
  temps: Float64Array,
  acc: { unitHours: number; ok: number; degreeHours: number; above22: number; above24: number },
): void {
  for (const t of temps) {
    acc.unitHours++;
    if (t >= 18) acc.ok++;
    else acc.degreeHours += 18 - t;
    if (t > 22) acc.above22++;
    if (t > 24) acc.above24++;
  }
}

function makeStrategy(opts: TwinOptions, sc: TwinScenario, clock: ManualClock, live: LiveState): Strategy {
  switch (opts.strategy) {
    case 'acting':
    case 'watching':
      return new EngineStrategy(
        opts.strategy,
        clock,
        live,
        opts.rules ?? loadRules(),
        sc.operator.approveDelayH,
        sc.stepMin,
      );
    case 'raise-all':
      return new RaiseAll(sc);
    case 'coldest-flat':
      return new ColdestFlat(sc);
  }
}

function cpuMsSince(start: NodeJS.CpuUsage): number {
  const d = process.cpuUsage(start);
  return (d.user + d.system) / 1000;
}
