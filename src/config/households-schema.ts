import cron from 'node-cron';
import { z } from 'zod';

/**
 * A scheduled run is keyed by its minute (docs/households.md "Several instances"), so a digest or
 * bulletin cron has the five fields minute to weekday, no seconds field.
 */
const cronExpr = z
  .string()
  .refine((v) => cron.validate(v), 'not a valid node-cron expression')
  .refine((v) => v.trim().split(/\s+/).length === 5, 'expected five fields (minute hour day month weekday)');
const hours = (max: number) => z.number().positive().max(max);

/**
 * heatwatch.yaml `households:` — the dispatcher's day (docs/households.md): cases, complaints,
 * measurement tasks, work orders, digests and the daily bulletin. Every limit is named here.
 */
export const householdsSchema = z
  .object({
    enabled: z.boolean().default(true),
    cases: z
      .object({
        /** A case must be solved (watching or closed) within this many hours of opening. */
        dueH: hours(24 * 60).default(72),
        /** After the fix, the unit must hold the required temperature this long before the case closes. */
        watchH: hours(24 * 30).default(24),
        /** How often overdue cases and tasks are looked for, in heating-time ms. */
        checkIntervalMs: z.number().int().min(1000).max(3_600_000).default(60_000),
        /**
         * How many times one decision is made before it gives up (409) when other instances on the
         * same database keep changing its case first: each new try reads what they wrote.
         */
        decideAttempts: z.number().int().min(1).max(100).default(5),
        /** Owner of a new case when nobody took it in person (a sensor finding). */
        defaultOwner: z.string().min(1).max(80).default('dispatch'),
        /**
         * Who an overdue case goes to, in order: level 1 once overdue by `afterOverdueH`, and so on.
         * An overdue measurement task escalates its case to level 1 at once.
         */
        escalation: z
          .array(
            z.object({
              afterOverdueH: z
                .number()
                .min(0)
                .max(24 * 30),
              to: z.string().min(1).max(80),
            }),
          )
          .min(1)
          .max(10)
          .default([
            { afterOverdueH: 0, to: 'shift-leader' },
            { afterOverdueH: 12, to: 'dispatch-head' },
          ]),
      })
      .strict()
      .prefault({}),
    complaints: z
      .object({
        /** docs/domain.md: two staff measure in the home within 24 hours. */
        measurementDueH: hours(24 * 7).default(24),
        /** Complaints of any class must be closed within this many hours (bulletin: closed in time). */
        closeWithinH: hours(24 * 60).default(72),
        /** Complaints about one building/street within this window make a repeat hotspot… */
        hotspotWindowH: hours(24 * 60).default(7 * 24),
        /** …when there are at least this many. */
        hotspotMinComplaints: z.number().int().min(2).max(1000).default(3),
      })
      .strict()
      .prefault({}),
    measurements: z
      .object({
        /** A two-person measurement is the unit's reference temperature for this long. */
        referenceH: hours(24 * 30).default(48),
        /** Refused when older than this (a record typed in days later is not evidence). */
        maxAgeH: hours(24 * 30).default(72),
        /** Refused when this far ahead of the service's clock. */
        futureToleranceMs: z.number().int().min(0).max(3_600_000).default(300_000),
        /** A sensor differing from measurements by more than this… */
        biasThresholdC: z.number().positive().max(10).default(1),
        /** …in this many measurements in a row, with the same sign, is reported as biased. */
        biasMinMeasurements: z.number().int().min(1).max(20).default(2),
      })
      .strict()
      .prefault({}),
    workOrders: z
      .object({
        /** Minutes from order to crew on site, per order type (docs/domain.md: about 20 min for a repair). */
        onSiteTargetMin: z
          .record(
            z.string().min(1).max(40),
            z
              .number()
              .positive()
              .max(24 * 60),
          )
          .default({ repair: 20, inspection: 120, balancing: 24 * 60 }),
        /** A measurement below the line sends a work order of this type (none: leave it to the operator). */
        onColdMeasurement: z.string().min(1).max(40).optional().default('repair'),
        /** An applied field-task ticket (e.g. balancing the risers) sends a work order of this type. */
        fromFieldTicket: z.string().min(1).max(40).default('balancing'),
        /** Longest note and photo reference the field app may send. */
        maxNoteChars: z.number().int().min(1).max(10_000).default(2000),
      })
      .strict()
      .prefault({}),
    outbox: z
      .object({
        /** Where work orders and notifications are POSTed (signed); absent: kept pending, logged. */
        webhookUrl: z.string().url().optional(),
        /** Per delivery attempt. */
        timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
        /** How often pending deliveries are looked for (wall-clock ms). */
        pollIntervalMs: z.number().int().min(10).max(600_000).default(2000),
        /** Retry backoff: first wait, doubled each attempt up to the maximum. */
        initialBackoffMs: z.number().int().min(1).max(3_600_000).default(5000),
        maxBackoffMs: z
          .number()
          .int()
          .min(1)
          .max(24 * 3_600_000)
          .default(15 * 60_000),
        /** After this many failed attempts a delivery is dead-lettered (kept, not retried). */
        maxAttempts: z.number().int().min(1).max(1000).default(12),
        /** Deliveries attempted per poll. */
        batchSize: z.number().int().min(1).max(1000).default(50),
        /**
         * A delivery being attempted is withheld from other instances this long; past it (the
         * instance died mid-attempt) another sends it again, same delivery id. Above timeoutMs.
         */
        claimMs: z.number().int().min(200).max(3_600_000).default(60_000),
      })
      .strict()
      .refine((o) => o.claimMs > o.timeoutMs, {
        message: 'claimMs must be longer than timeoutMs, or a slow delivery could be sent twice',
        path: ['claimMs'],
      })
      .prefault({}),
    digest: z
      .object({
        enabled: z.boolean().default(true),
        /**
         * node-cron expression read in the site's time zone (`http.locale.timeZone`): every two hours
         * (docs/domain.md reminders).
         */
        cron: cronExpr.default('0 */2 * * *'),
        /** Heating units: named groups of substations; a substation in no group is its own unit. */
        heatingUnits: z
          .array(
            z.object({
              id: z.string().min(1).max(64),
              name: z.string().min(1).max(120),
              substations: z.array(z.string().min(1)).min(1),
            }),
          )
          .default([]),
      })
      .strict()
      .prefault({}),
    bulletin: z
      .object({
        enabled: z.boolean().default(true),
        /** node-cron expression read in the site's time zone (`http.locale.timeZone`): every day at 08:00. */
        cron: cronExpr.default('0 8 * * *'),
        /** Buildings listed as worst in the bulletin. */
        worstBuildings: z.number().int().min(1).max(1000).default(10),
        /** Bulletins kept in the ops database. */
        keep: z.number().int().min(1).max(100_000).default(400),
        /**
         * How long the record of a scheduled digest or bulletin run is kept (what tells instances on
         * one database that the run was made). Another instance fires the same run within seconds,
         * so a day would do; a month leaves the history for a person to read.
         */
        runRetentionDays: z.number().int().min(1).max(3660).default(30),
      })
      .strict()
      .prefault({}),
  })
  .strict();

export type HouseholdsConfig = z.infer<typeof householdsSchema>;
