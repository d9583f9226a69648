/**
 * A twin scenario (firmware-sim/scenarios/*.yaml): a generated network and a heating period, every
 * physical quantity drawn per seed from a range, so no engine prior can be "the" value of the twin.
 * A bad file is refused with `file: path: message`, as config/ files are (src/config/loader.ts).
 */
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { type ConfigIssue, formatIssue, formatPath, parseYaml } from '../../src/config/loader.ts';

/** `[low, high]`: each building, substation or unit draws its own value uniformly in between. */
const range = (lo: number, hi: number) =>
  z
    .tuple([z.number().min(lo).max(hi), z.number().min(lo).max(hi)])
    .refine(([a, b]) => a <= b, { message: 'a range is [low, high] with low <= high' });

const networkSchema = z
  .object({
    /** Substations (heat exchange stations) of the estate. */
    substations: z.number().int().min(1).max(40),
    /** Buildings per substation. */
    buildingsPerSubstation: range(1, 40),
    /** Storeys and units per storey of each building. */
    floors: range(1, 30),
    unitsPerFloor: range(1, 12),
    /** Room sensors per building (placed by DOMAIN's sampling rule: exposed units at least 40 %). */
    sensorsPerBuilding: range(3, 40),
    /** Heating curve in the registry (what heatwatch knows): supply at 5 °C outdoor, and slope. */
    curveRefSupplyC: range(25, 90),
    curveSlope: range(0.2, 3),
    /** Curve clamp of every substation, °C. */
    minSupplyC: z.number().min(15).max(60),
    maxSupplyC: z.number().min(40).max(120),
    /**
     * Curves set too high / too low: share of substations whose buildings' radiators need this many
     * °C less / more supply than the curve gives at the design point (the rest are within ±1 °C).
     */
    tooHighShare: z.number().min(0).max(1),
    tooHighC: range(0, 20),
    tooLowShare: z.number().min(0).max(1),
    tooLowC: range(0, 20),
    /** Hours a supply change takes to travel from the substation to the buildings (dead time). */
    transportDelayH: range(0, 12),
    /** Time constant with which the substation's supply follows a new target, minutes. */
    supplyLagMin: range(0, 240),
    /** Supply temperature lost in the pipes before the buildings, °C. */
    pipeDropC: range(0, 10),
    /** Heat source capacity as a share of the network's heat at the design point (1: just enough). */
    sourceCapacityShare: z.number().min(0.2).max(5),
  })
  .strict();

const buildingsSchema = z
  .object({
    /** Design point radiators are sized for: outdoor temperature, and the room a middle unit holds, °C. */
    designOutdoorC: z.number().min(-40).max(10),
    designIndoorC: z.number().min(14).max(26),
    /** Supply-to-return drop at design flow, K (sizes each building's design flow). */
    designDeltaTK: z.number().min(3).max(40),
    /** Radiator exponent n of Q ∝ ΔT^n (EN 442 panel radiators: about 1.3). */
    radiatorExponent: z.number().min(1).max(2),
    /** Radiator output versus flow share φ: (1 − e^(−kφ)) / (1 − e^(−k)). */
    flowShapeK: z.number().min(0.5).max(10),
    /** Envelope time constant C/UA of a middle unit, hours (building inertia). */
    timeConstantH: range(1, 300),
    /** Heat-loss coefficient of a middle unit, W/K. */
    uaMiddleWPerK: range(10, 1000),
    /** Extra heat loss of top, ground and gable units as a share of a middle unit's (they add up). */
    topExtra: range(0, 3),
    groundExtra: range(0, 3),
    gableExtra: range(0, 3),
    /** Radiator size relative to what the design point needs: below 1 undersized, above oversized. */
    radiatorSizing: range(0.3, 3),
    /** Exposed units' radiators scale with (loss factor)^this: below 1 they are undersized. */
    exposedSizingExponent: range(0, 1.5),
    /** Internal gains per unit (people, appliances, sun on average), W. */
    internalGainsW: range(0, 2000),
    /** Random spread of each unit's loss and radiator around its building's, percent. */
    unitVariationPct: z.number().min(0).max(40),
    /** Residents open a window above this room temperature (per building; per unit ±0.5 °C), °C. */
    windowOpenAboveC: range(18, 35),
    /** Heat loss of a unit with a window open, times its closed loss. */
    windowLossFactor: range(1, 10),
    /** The building-entry valve opening that gives its design flow, percent (commissioning). */
    entryValveDesignPct: range(5, 100),
    /** Share of buildings whose entry valve is mis-set too far closed, and their flow factor. */
    misSetValveShare: z.number().min(0).max(1),
    misSetFlowFactor: range(0.05, 1),
    /** Share of buildings with long risers (exposed units get too little flow), and their factor. */
    unbalancedShare: z.number().min(0).max(1),
    unbalancedFlowFactor: range(0.05, 1),
  })
  .strict();

const spellSchema = z
  .object({
    /** Day of the period the change starts (0 = the first day). */
    startDay: z.number().min(-10).max(400),
    /** Change from the seasonal mean at full depth, °C: negative is a cold spell, positive a warm one. */
    deltaC: z.number().min(-40).max(40),
    /** Hours the full change holds. */
    durationH: z
      .number()
      .min(0)
      .max(24 * 60),
    /** Hours to reach it, and again to recover. */
    rampH: z
      .number()
      .min(0)
      .max(24 * 7),
  })
  .strict();

const weatherSchema = z
  .object({
    /** Seasonal mean outdoor temperature at the start and at the end of the period, °C. */
    meanStartC: z.number().min(-40).max(25),
    meanEndC: z.number().min(-40).max(25),
    /** Half the day's swing, °C, and the hour (UTC) of the afternoon maximum. */
    dailyAmplitudeC: z.number().min(0).max(15),
    warmestHour: z.number().min(0).max(24),
    /** Slow random weather variation: standard deviation, °C, and correlation time, hours. */
    noiseC: z.number().min(0).max(10),
    noiseHours: z.number().min(1).max(96),
    /** Cold and warm spells (the forecaster sees them coming, with the errors below). */
    spells: z.array(spellSchema).max(50),
  })
  .strict();

const forecastSchema = z
  .object({
    /** A forecast is issued this often, hours, with hourly points this far ahead. */
    intervalH: z.number().min(1).max(24),
    horizonH: z.number().int().min(6).max(240),
    /** Random error (standard deviation) and bias at 72 h ahead, °C; both grow with the horizon. */
    errorC: z.number().min(0).max(10),
    /** Positive: the forecast runs warm (cold spells look milder than they are). */
    biasC: z.number().min(-10).max(10),
  })
  .strict();

const sensorsSchema = z
  .object({
    /** Measurement noise per reading and fixed calibration error per sensor (standard deviations), °C. */
    noiseC: z.number().min(0).max(5),
    biasC: z.number().min(0).max(5),
  })
  .strict();

const operatorSchema = z
  .object({
    /** Hours an operator takes to approve a proposal heatwatch did not apply on its own. */
    approveDelayH: z
      .number()
      .min(0)
      .max(24 * 14),
  })
  .strict();

const baselinesSchema = z
  .object({
    /** How often the hand strategies (raise-all, coldest-flat) look at their substations, hours. */
    intervalH: z.number().min(0.5).max(72),
    /** raise-all: offset step per look, °C. */
    raiseStepC: z.number().min(0.1).max(10),
    /** coldest-flat: aim for the coldest monitored flat at 18 °C + this, and at most this step, °C. */
    marginC: z.number().min(0).max(5),
    maxStepC: z.number().min(0.1).max(10),
    /** coldest-flat: supply °C moved per °C the coldest flat is off its aim. */
    supplyPerRoomC: z.number().min(0.1).max(10),
  })
  .strict();

export const twinScenarioSchema = z
  .object({
    /** One line on what kind of estate and period this is. */
    description: z.string().min(1).max(300),
    /** Curves mostly too high: the heat goal asks heatwatch for clearly less heat than watching. */
    overSupplied: z.boolean(),
    /** First day of the period (UTC) and its length in days. */
    startDate: z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'a date YYYY-MM-DD'),
    days: z.number().int().min(1).max(365),
    /** Step of the direct-coupled loop (readings, rules tick, physics), minutes. */
    stepMin: z.number().int().min(1).max(60),
    /** Days the buildings run before the period, so it starts from their settled state. */
    warmupDays: z.number().min(0).max(60),
    network: networkSchema,
    buildings: buildingsSchema,
    weather: weatherSchema,
    forecast: forecastSchema,
    sensors: sensorsSchema,
    operator: operatorSchema,
    baselines: baselinesSchema,
  })
  .strict()
  .superRefine((s, ctx) => {
    if (s.network.minSupplyC > s.network.maxSupplyC)
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'minSupplyC'],
        message: 'must not exceed maxSupplyC',
      });
    if (s.network.tooHighShare + s.network.tooLowShare > 1)
      ctx.addIssue({
        code: 'custom',
        path: ['network', 'tooLowShare'],
        message: 'tooHighShare + tooLowShare must not exceed 1',
      });
  });

export type TwinScenario = z.infer<typeof twinScenarioSchema>;
export type Spell = z.infer<typeof spellSchema>;

export class ScenarioError extends Error {
  constructor(readonly issues: ConfigIssue[]) {
    super(`scenario refused:\n  ${issues.map(formatIssue).join('\n  ')}`);
    this.name = 'ScenarioError';
  }
}

/** Reads and validates a scenario file; every problem is reported as `file: path: message`. */
export function loadScenario(file: string): TwinScenario {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ScenarioError([{ file, path: '', message: `cannot be read: ${(err as Error).message}` }]);
  }
  return parseScenario(file, text);
}

export function parseScenario(file: string, text: string): TwinScenario {
  const issues: ConfigIssue[] = [];
  const raw = parseYaml(file, text, issues);
  if (raw === undefined) throw new ScenarioError(issues);
  const r = twinScenarioSchema.safeParse(raw);
  if (!r.success)
    throw new ScenarioError(
      r.error.issues.map((i) => ({ file, path: formatPath(i.path), message: i.message })),
    );
  return r.data;
}
