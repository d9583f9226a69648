import cron from 'node-cron';
import { z } from 'zod';

/**
 * config/rules.yaml: the thresholds engineers tune, read by src/rules and src/tickets only.
 * Every key has a default, so an empty file is valid. Each rule raises at one threshold and clears at
 * a separate one (hysteresis) and must hold for a minimum duration, so sensor noise cannot flap a
 * ticket; a condition that still flips too often is shown as flapping instead of being re-raised.
 */

const hours = (max: number) => z.number().min(0).max(max);
const seconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400);

/** "MM-DD" of a season boundary. */
const monthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected MM-DD, e.g. 11-15');

const unitColdSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Clears when the unit is this far above the raise line (requiredTempC − toleranceC). */
    clearMarginC: z.number().min(0).max(5).default(0.5),
    /** The unit must stay below the line this long before it counts (a door left open is not a fault). */
    minDurationS: seconds.default(3600),
  })
  .strict();

const unitHotSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A unit above this wastes heat (over-temperature). */
    raiseAboveC: z.number().min(18).max(35).default(24),
    /** It clears below this (must be lower than raiseAboveC). */
    clearBelowC: z.number().min(18).max(35).default(23.5),
    minDurationS: seconds.default(7200),
  })
  .strict();

const classWeightsSchema = z
  .object({
    top: z.number().min(0).max(10).default(1),
    ground: z.number().min(0).max(10).default(1),
    gable: z.number().min(0).max(10).default(1),
    middle: z.number().min(0).max(10).default(1),
  })
  .strict();

const buildingColdSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * Weight of each position class's mean in the building temperature. Equal weights make a sample
     * heavy in middle units count its few corner units as much as its many middle ones.
     */
    classWeights: classWeightsSchema.prefault({}),
    /** Raises when the weighted mean is below requiredTempC − toleranceC + this. */
    raiseOffsetC: z.number().min(-5).max(5).default(0),
    /** Clears when the weighted mean is at or above requiredTempC − toleranceC + this. */
    clearOffsetC: z.number().min(-5).max(5).default(0.6),
    /** Fewer fresh sensors than this: the building is not judged (coverage rule speaks instead). */
    minFreshSensors: z.number().int().min(1).max(1000).default(3),
    minDurationS: seconds.default(3600),
  })
  .strict();

const hotSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A building whose weighted mean is above this is over-heated (heat wasted). */
    raiseAboveC: z.number().min(18).max(35).default(23),
    clearBelowC: z.number().min(18).max(35).default(22.3),
    minDurationS: seconds.default(7200),
  })
  .strict();

const estateWarmSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * An estate runs warm when its coldest monitored flat is at least this far above
     * requiredTempC + diagnosis.lowerFloorMarginC, °C: its supply can come down.
     */
    raiseAboveFloorC: z.number().min(0).max(10).default(1),
    /** It stops being warm below this, °C above the same floor. */
    clearAboveFloorC: z.number().min(0).max(10).default(0.3),
    /** Warm at least this long (a sunny afternoon is not an over-supplied estate), seconds. */
    minDurationS: seconds.default(6 * 3600),
  })
  .strict();

const imbalanceInsideSchema = z
  .object({
    enabled: z.boolean().default(true),
    /**
     * The normal gap middle − exposed (°C) assumed before the engine has measured it (docs/domain.md:
     * top, ground and gable units lose more heat). The engine measures it across healthy buildings.
     */
    priorGapC: z.number().min(0).max(10).default(1.5),
    /** How many healthy buildings' worth of evidence the prior counts as in the blend. */
    priorWeightBuildings: z.number().min(0).max(1000).default(4),
    /** Raises when the gap exceeds the normal gap by more than this. */
    raiseExcessC: z.number().min(0).max(10).default(1.5),
    /** Clears when the excess is below this. */
    clearExcessC: z.number().min(0).max(10).default(0.8),
    /** Both exposed and middle units need at least this many fresh sensors. */
    minSensorsPerSide: z.number().int().min(1).max(100).default(2),
    minDurationS: seconds.default(7200),
  })
  .strict();

const imbalanceBetweenSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Raises when a building's weighted mean is this far below the mean of its substation's others. */
    raiseBelowC: z.number().min(0).max(10).default(1.5),
    clearBelowC: z.number().min(0).max(10).default(0.8),
    /** A substation needs this many judged buildings to compare them. */
    minBuildings: z.number().int().min(2).max(1000).default(3),
    minDurationS: seconds.default(7200),
  })
  .strict();

const coverageSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** docs/domain.md sampling rule: top, ground and gable units together at least 40 % of the sample. */
    minExposedShare: z.number().min(0).max(1).default(0.4),
    /** Raises when fewer than this share of a building's sensors are online and fresh. */
    minFreshShare: z.number().min(0).max(1).default(0.7),
    /** Clears when the fresh share is back at or above this. */
    clearFreshShare: z.number().min(0).max(1).default(0.8),
    minDurationS: seconds.default(1800),
  })
  .strict();

const sensorHealthSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** A value unchanged this long is a stuck sensor (real rooms move by at least the resolution). */
    stuckAfterH: hours(240).default(12),
    /** A fall of at least this between two readings looks like an open window, not a heating fault. */
    dropC: z.number().min(0.5).max(20).default(2.5),
    /** ...when the two readings are at most this far apart. */
    dropWindowS: seconds.default(1800),
    /** How long a unit with such a drop is excluded from the cold-unit rules. */
    openWindowHoldS: seconds.default(5400),
    minDurationS: seconds.default(0),
  })
  .strict();

const forecastBiasSchema = z
  .object({
    /** Learn each forecast source's bias against the observations and take it off its forecasts. */
    enabled: z.boolean().default(true),
    /** Weight of one matched point (forecast vs observation) in the running bias. */
    learnRate: z.number().min(0).max(1).default(0.05),
    /** Matched points a lead band needs before its bias is used. */
    minMatches: z.number().int().min(1).max(10_000).default(24),
    /** Largest correction applied, °C (a broken feed is not "corrected" into a cold spell). */
    maxCorrectionC: z.number().min(0).max(20).default(5),
  })
  .strict();

const coldSpellSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** Hours of forecast looked at. */
    horizonH: hours(240).default(72),
    /** Raises when the coldest 24 h of the forecast is this much colder than the next 24 h. */
    raiseDropC: z.number().min(0.5).max(40).default(5),
    clearDropC: z.number().min(0).max(40).default(3),
    /** Share of the heating curve's extra supply for the forecast applied in advance (0..1.5). */
    preheatShare: z.number().min(0).max(1.5).default(0.6),
    /** Lead time when no lag has been estimated yet, hours (building inertia: hours to a day). */
    defaultLeadH: hours(72).default(12),
    minDurationS: seconds.default(0),
    /**
     * Consecutive forecast issues that must show the spell before it is raised: one noisy forecast
     * starts no pre-heat (issue #20 item 5). A pre-heat not yet applied is cancelled after as many
     * issues without it.
     */
    confirmForecasts: z.number().int().min(1).max(20).default(2),
    /** A pre-heat's end follows a new forecast when it moves by at least this, hours. */
    followMinShiftH: hours(48).default(1),
    forecastBias: forecastBiasSchema.prefault({}),
  })
  .strict();

const flappingSchema = z
  .object({
    /** A condition raised this many times within the window is flapping: shown, not re-raised. */
    maxRaises: z.number().int().min(2).max(100).default(3),
    windowH: hours(24 * 14).default(24),
  })
  .strict();

const diagnosisSchema = z
  .object({
    /**
     * A substation is cold as a whole when at least this share of its judged buildings are cold;
     * below it, the cold buildings get flow-share actions (their neighbours are fine).
     */
    wholeSubstationShare: z.number().min(0).max(1).default(0.6),
    /**
     * "Cold only on cold days": the room mean falls by at least this many °C per °C of outdoor drop
     * (fitted over the samples the engine keeps), so the curve's slope is too flat, not its level.
     */
    slopeSensitivity: z.number().min(0).max(2).default(0.15),
    /** Hourly samples needed before the slope fit is trusted. */
    minSamplesForSlope: z.number().int().min(6).max(10_000).default(48),
    /** Outdoor range the samples must span for the fit, °C. */
    minOutdoorSpanC: z.number().min(0).max(40).default(4),
    /**
     * Neighbours count as over-heated, and may be throttled to give a cold building flow, only when
     * their class-weighted mean is at least this, °C. Throttling is never auto-approved.
     */
    throttleNeighboursAboveC: z.number().min(18).max(30).default(21.5),
    /** Hours of stored history read at start to seed the fit and the lag estimates. */
    historySeedH: hours(24 * 14).default(72),
    /**
     * A lowering of supply never takes the coldest monitored flat of the estate (predicted with the
     * learnt gain) below requiredTempC + this, °C.
     */
    lowerFloorMarginC: z.number().min(0).max(5).default(1),
  })
  .strict();

const limitsSchema = z
  .object({
    /** Largest change of the supply offset in one ticket, °C. */
    maxOffsetStepC: z.number().min(0).max(20).default(4),
    /** Supply offset range the engine may set, °C. */
    minOffsetC: z.number().min(-30).max(0).default(-8),
    maxOffsetC: z.number().min(0).max(30).default(12),
    /** Largest change of the curve slope in one ticket, and the range of the slope change in force. */
    maxSlopeStep: z.number().min(0).max(2).default(0.15),
    maxSlopeDelta: z.number().min(0).max(3).default(0.5),
    /** No proposal may steer the supply above this, °C (pipes, radiators, safety). */
    maxSupplyTempC: z.number().min(30).max(130).default(75),
    /** Building-entry valve: largest step and the range, %. */
    maxValveStepPct: z.number().min(0).max(100).default(30),
    minValvePct: z.number().min(0).max(100).default(30),
    maxValvePct: z.number().min(0).max(100).default(100),
    /** Entry-valve opening assumed when heatwatch has not set one, % (commissioning value). */
    nominalValvePct: z.number().min(0).max(100).default(70),
  })
  .strict();

const responseSchema = z
  .object({
    /** Prior room response to supply, °C room per °C supply (updated after every re-check). */
    priorGainCPerC: z.number().min(0.01).max(5).default(0.35),
    /** Prior room response to the entry valve, °C room per % opening. */
    priorValveGainCPerPct: z.number().min(0.001).max(1).default(0.06),
    /** Prior room response to outdoor temperature with the curve in force, °C room per °C outdoor. */
    priorOutdoorGainCPerC: z.number().min(0).max(1).default(0.1),
    /** Prior response lag (time to 63 % of the effect), hours. */
    priorLagH: hours(240).default(12),
    /** Weight of a new observation when updating an estimate (exponential smoothing). */
    learnRate: z.number().min(0).max(1).default(0.5),
    /** Estimates are kept within these bounds, whatever a noisy re-check says. */
    minGainCPerC: z.number().min(0.01).max(5).default(0.1),
    maxGainCPerC: z.number().min(0.01).max(5).default(1.5),
    /** Room target a proposal aims at: requiredTempC + this. */
    targetMarginC: z.number().min(0).max(5).default(1),
  })
  .strict();

const autoApproveSchema = z
  .object({
    /** Small, safe actions apply themselves; everything else waits for an operator. */
    enabled: z.boolean().default(true),
    maxOffsetStepC: z.number().min(0).max(20).default(3),
    maxValveStepPct: z.number().min(0).max(100).default(30),
    maxSlopeStep: z.number().min(0).max(2).default(0.1),
    /** Pre-heating before a forecast cold spell cannot wait for office hours. */
    preheat: z.boolean().default(true),
  })
  .strict();

const recheckSchema = z
  .object({
    /** Resolved when the target's weighted mean is at or above requiredTempC − toleranceC + this. */
    bandOffsetC: z.number().min(-5).max(5).default(0),
    /** Upper end of the band for over-temperature tickets, °C. */
    hotBandC: z.number().min(18).max(35).default(23),
    /** How often the scheduler looks for due re-checks, seconds of heating time. */
    pollS: z.number().int().min(1).max(86_400).default(300),
    /**
     * A waiting ticket's evidence and proposal are refreshed from a repeated condition at most this
     * often, seconds (every tick would rewrite every open ticket every few minutes).
     */
    refreshS: z.number().int().min(0).max(86_400).default(900),
    /**
     * A re-check judges the mean of the target over this window before it is due (hourly samples of
     * the class-weighted means), not one instant, hours.
     */
    windowH: hours(72).default(6),
    /** Hourly samples the window needs; fewer: the re-check is deferred, never escalated for lack of data. */
    minWindowSamples: z.number().int().min(1).max(72).default(3),
    /** A deferred re-check runs again this much later, hours. */
    deferRetryH: hours(72).default(6),
    /** How many escalations a problem may go through before it needs a person. */
    maxEscalations: z.number().int().min(0).max(20).default(3),
  })
  .strict();

const setpointSchema = z
  .object({
    /**
     * A command the broker did not acknowledge is tried again after this, ms of wall-clock time (a
     * broker outage is real time, whatever the heating clock's speed); doubled per failed attempt.
     */
    retryBaseMs: z.number().int().min(10).max(600_000).default(1000),
    /** The longest wait between two attempts, ms of wall-clock time. */
    retryMaxMs: z.number().int().min(10).max(3_600_000).default(60_000),
    /**
     * A published command the substation's controller does not report as in force within this many
     * minutes (heating time) is `not confirmed`: an alert and a ticket event. Controllers report every
     * minute or so and apply at once; a few report cycles plus broker delays fit well inside.
     */
    confirmAfterMin: z
      .number()
      .min(1)
      .max(24 * 60)
      .default(15),
    /** The reported offset counts as the command's when within this, °C (controllers round). */
    confirmToleranceC: z.number().min(0).max(2).default(0.05),
    /** How often the controllers' reports are compared with the commands, seconds of heating time. */
    confirmPollS: z.number().int().min(1).max(3600).default(60),
  })
  .strict()
  .refine((c) => c.retryBaseMs <= c.retryMaxMs, 'retryBaseMs must not exceed retryMaxMs');

const remindersSchema = z
  .object({
    enabled: z.boolean().default(true),
    /** node-cron expression: every two hours (docs/domain.md "Reminders"). */
    cron: z
      .string()
      .default('0 */2 * * *')
      .refine((s) => cron.validate(s), 'not a valid cron expression'),
    /** Heating season, inclusive, as MM-DD; a season may wrap the new year. */
    seasonStart: monthDay.default('11-15'),
    seasonEnd: monthDay.default('03-15'),
    /** POST the digest as JSON here; empty: log only. */
    webhookUrl: z.url().optional(),
    webhookTimeoutMs: z.number().int().min(100).max(60_000).default(5000),
    /** Most cold units listed per substation in one digest. */
    maxColdUnits: z.number().int().min(1).max(1000).default(20),
  })
  .strict();

const complianceSchema = z
  .object({
    /** Refund bands (docs/domain.md): time spent at 14–16 °C and below 14 °C. */
    lowBandC: z.number().min(0).max(25).default(16),
    veryLowBandC: z.number().min(0).max(25).default(14),
    /** A gap between samples longer than this is not counted (sensor silent). */
    maxGapS: seconds.default(3600),
  })
  .strict();

export const rulesSchema = z
  .object({
    /** Required room temperature (GB/T 33833 / northern-China practice: 18 °C). */
    requiredTempC: z.number().min(10).max(25).default(18),
    /** Measurement tolerance below the line before a unit counts as cold. */
    toleranceC: z.number().min(0).max(3).default(0.5),
    tick: z
      .object({
        intervalS: z.number().int().min(10).max(3600).default(300),
        /** How often the engine's state (condition timers, samples) is checkpointed, seconds. */
        checkpointS: z.number().int().min(10).max(86_400).default(600),
      })
      .strict()
      .prefault({}),
    /** Re-check this long after an adjustment is applied (docs/domain.md: 48 h). */
    recheckAfterH: hours(24 * 14).default(48),
    unitCold: unitColdSchema.prefault({}),
    unitHot: unitHotSchema.prefault({}),
    buildingCold: buildingColdSchema.prefault({}),
    buildingHot: hotSchema.prefault({}),
    estateWarm: estateWarmSchema.prefault({}),
    imbalanceInside: imbalanceInsideSchema.prefault({}),
    imbalanceBetween: imbalanceBetweenSchema.prefault({}),
    coverage: coverageSchema.prefault({}),
    sensorHealth: sensorHealthSchema.prefault({}),
    coldSpell: coldSpellSchema.prefault({}),
    flapping: flappingSchema.prefault({}),
    diagnosis: diagnosisSchema.prefault({}),
    limits: limitsSchema.prefault({}),
    response: responseSchema.prefault({}),
    autoApprove: autoApproveSchema.prefault({}),
    recheck: recheckSchema.prefault({}),
    setpoint: setpointSchema.prefault({}),
    reminders: remindersSchema.prefault({}),
    compliance: complianceSchema.prefault({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    const order = (a: number, b: number, path: string[], msg: string) => {
      if (!(a < b)) ctx.addIssue({ code: 'custom', path, message: msg });
    };
    order(
      c.unitHot.clearBelowC,
      c.unitHot.raiseAboveC,
      ['unitHot', 'clearBelowC'],
      'must be below raiseAboveC',
    );
    order(
      c.buildingHot.clearBelowC,
      c.buildingHot.raiseAboveC,
      ['buildingHot', 'clearBelowC'],
      'must be below raiseAboveC',
    );
    order(
      c.buildingCold.raiseOffsetC,
      c.buildingCold.clearOffsetC,
      ['buildingCold', 'clearOffsetC'],
      'must be above raiseOffsetC',
    );
    order(
      c.estateWarm.clearAboveFloorC,
      c.estateWarm.raiseAboveFloorC,
      ['estateWarm', 'clearAboveFloorC'],
      'must be below raiseAboveFloorC',
    );
    order(
      c.imbalanceInside.clearExcessC,
      c.imbalanceInside.raiseExcessC,
      ['imbalanceInside', 'clearExcessC'],
      'must be below raiseExcessC',
    );
    order(
      c.imbalanceBetween.clearBelowC,
      c.imbalanceBetween.raiseBelowC,
      ['imbalanceBetween', 'clearBelowC'],
      'must be below raiseBelowC',
    );
    order(
      c.coldSpell.clearDropC,
      c.coldSpell.raiseDropC,
      ['coldSpell', 'clearDropC'],
      'must be below raiseDropC',
    );
    order(
      c.coverage.minFreshShare,
      c.coverage.clearFreshShare + 1e-9,
      ['coverage', 'clearFreshShare'],
      'must be at least minFreshShare',
    );
    order(c.limits.minValvePct, c.limits.maxValvePct, ['limits', 'maxValvePct'], 'must be above minValvePct');
    order(
      c.compliance.veryLowBandC,
      c.compliance.lowBandC,
      ['compliance', 'lowBandC'],
      'must be above veryLowBandC',
    );
  });

export type RulesConfig = z.infer<typeof rulesSchema>;
