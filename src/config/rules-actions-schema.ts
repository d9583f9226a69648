import cron from 'node-cron';
import { z } from 'zod';

/**
 * config/rules.yaml, second half: what is done about a finding — how a proposal is sized and bounded,
 * what approves itself, how and when an applied change is re-checked, how setpoint commands are sent
 * and confirmed, reminders, and the compliance bands. rules-schema.ts composes these sections with
 * the detection thresholds; every key has a default.
 */

/** A duration in hours, from 0 to `max`. */
export const hours = (max: number) => z.number().min(0).max(max);
/** A duration in seconds, up to a week. */
export const seconds = z
  .number()
  .int()
  .min(0)
  .max(7 * 86_400);

/** "MM-DD" of a season boundary. */
const monthDay = z.string().regex(/^(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$/, 'expected MM-DD, e.g. 11-15');
export const diagnosisSchema = z
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

export const limitsSchema = z
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

export const responseSchema = z
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

export const autoApproveSchema = z
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

export const recheckSchema = z
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
    /**
     * An instance claims a due re-check before judging it, so of several instances on one database
     * exactly one runs it; a claim whose instance died lapses after this, seconds of heating time
     * (in a city the instance that takes over the partition frees the claims there at once).
     */
    claimS: z.number().int().min(1).max(86_400).default(60),
  })
  .strict();

export const setpointSchema = z
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
    /**
     * An instance claims a pending command before publishing it, so of several instances draining
     * one database only one sends it; a claim whose instance died lapses after this, ms of wall-clock
     * time (longer than a publish takes).
     */
    claimMs: z.number().int().min(100).max(3_600_000).default(30_000),
  })
  .strict()
  .refine((c) => c.retryBaseMs <= c.retryMaxMs, 'retryBaseMs must not exceed retryMaxMs');

export const remindersSchema = z
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

export const complianceSchema = z
  .object({
    /** Refund bands (docs/domain.md): time spent at 14–16 °C and below 14 °C. */
    lowBandC: z.number().min(0).max(25).default(16),
    veryLowBandC: z.number().min(0).max(25).default(14),
  })
  .strict();
