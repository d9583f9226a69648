import { z } from 'zod';
import {
  autoApproveSchema,
  complianceSchema,
  diagnosisSchema,
  hours,
  limitsSchema,
  recheckSchema,
  remindersSchema,
  responseSchema,
  seconds,
  setpointSchema,
} from './rules-actions-schema.ts';

/**
 * config/rules.yaml: the thresholds engineers tune, read by src/rules and src/tickets only.
 * Every key has a default, so an empty file is valid. Each rule raises at one threshold and clears at
 * a separate one (hysteresis) and must hold for a minimum duration, so sensor noise cannot flap a
 * ticket; a condition that still flips too often is shown as flapping instead of being re-raised.
 * This file holds the detection thresholds; what is done about a finding (sizing, limits, approval,
 * re-check, setpoints, reminders, compliance bands) is in rules-actions-schema.ts.
 */

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
    /**
     * Each building learns its own normal gap from its hourly gaps while healthy; the network value
     * counts as this many hours of the building's own in the blend.
     */
    buildingPriorWeightH: z.number().min(0).max(10_000).default(24),
    /** A building's own mean follows at most this many hours of its gaps (it moves with the season). */
    buildingMemoryH: z.number().int().min(1).max(10_000).default(240),
    /** A building's normal gap stays within this of the network value, °C (no imbalance is learnt away). */
    buildingMaxDeviationC: z.number().min(0).max(10).default(1),
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

const substationMeterSchema = z
  .object({
    /** Judge each substation's measured supply against its curve with the setpoint in force. */
    enabled: z.boolean().default(true),
    /** Minutes a supply step takes to show (63 %) before one is measured; learnt per substation. */
    priorSupplyLagMin: z.number().min(1).max(600).default(30),
    /** Supply is judged only this many lags after the setpoint in force last changed. */
    settleLags: z.number().min(1).max(20).default(3),
    /** Raised when measured supply is this far from what the curve and setpoint ask, °C. */
    raiseDeviationC: z.number().min(0.5).max(30).default(3),
    /** Cleared when it is closer than this, °C. */
    clearDeviationC: z.number().min(0).max(30).default(1.5),
    /** Off at least this long, seconds. */
    minDurationS: seconds.default(3600),
    /** A setpoint step at least this large (°C of supply) teaches the substation's lag. */
    learnMinStepC: z.number().min(0.1).max(30).default(1),
    /** A meter reading older than this is not judged, seconds. */
    maxReadingAgeS: seconds.default(1800),
    /** Hourly samples before a substation's normal flow and ΔT are known. */
    minNormalSamples: z.number().int().min(1).max(10_000).default(24),
    /** A cold estate whose flow is this share above its normal (median of its hourly samples)... */
    highFlowShare: z.number().min(0).max(10).default(0.25),
    /** ...and ΔT this share below its normal is a hydraulic fault for people on site, not more supply. */
    lowDeltaTShare: z.number().min(0).max(1).default(0.3),
  })
  .strict();

const flappingSchema = z
  .object({
    /** A condition raised this many times within the window is flapping: shown, not re-raised. */
    maxRaises: z.number().int().min(2).max(100).default(3),
    windowH: hours(24 * 14).default(24),
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
    substationMeter: substationMeterSchema.prefault({}),
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
      c.substationMeter.clearDeviationC,
      c.substationMeter.raiseDeviationC,
      ['substationMeter', 'clearDeviationC'],
      'must be below raiseDeviationC',
    );
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
