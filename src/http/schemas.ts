import { z } from 'zod';
import { ROLES } from '../core/roles.ts';
import { LOCALES } from '../i18n/index.ts';
import { duration, instant } from './schema-primitives.ts';

/**
 * The API's wire shapes. Route inputs are parsed with these; outputs are checked against them before
 * they leave, and /api/docs is generated from them, so the contract and the code cannot drift.
 */

export type { CaseDetail, CaseRow } from './routes/households-schemas.ts';
export * from './schema-primitives.ts';
export * from './ticket-schemas.ts';

export const historyQuery = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    every: duration.optional(),
  })
  .strict();

export const buildingStateSchema = z.enum(['ok', 'cold', 'unbalanced', 'overheated', 'stale']);
const positionClass = z.enum(['top', 'ground', 'gable', 'middle']);

export const classStatsSchema = z.object({
  count: z.number(),
  meanC: z.number(),
  minC: z.number(),
  oldestAgeMs: z.number(),
});

export const buildingSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  substationId: z.string(),
  floors: z.number(),
  unitsPerFloor: z.number(),
  state: buildingStateSchema,
  sensors: z.number(),
  fresh: z.number(),
  meanC: z.number().optional(),
  minC: z.number().optional(),
  exposedMeanC: z.number().optional(),
  middleMeanC: z.number().optional(),
  newestTs: z.number().optional(),
  openTickets: z.number(),
});

export const unitSchema = z.object({
  sensorId: z.string(),
  floor: z.number(),
  column: z.number(),
  classes: z.array(positionClass),
  tempC: z.number().optional(),
  ts: z.number().optional(),
  fresh: z.boolean(),
  online: z.boolean().optional(),
  source: z.enum(['sensor', 'manual']).optional(),
});

export const buildingDetailSchema = buildingSummarySchema.extend({
  classes: z.partialRecord(positionClass, classStatsSchema),
  units: z.array(unitSchema),
});

export const curveSchema = z.object({
  refOutdoorC: z.number(),
  refSupplyC: z.number(),
  slope: z.number(),
  minSupplyC: z.number(),
  maxSupplyC: z.number(),
});

export const substationSummarySchema = z.object({
  id: z.string(),
  name: z.string(),
  curve: curveSchema,
  buildings: z.number(),
  statusCounts: z.partialRecord(buildingStateSchema, z.number()),
  latest: z
    .object({
      ts: z.number(),
      supplyTempC: z.number(),
      returnTempC: z.number(),
      flowM3h: z.number().optional(),
      valvePct: z.number().optional(),
      outdoorTempC: z.number().optional(),
      supplyOffsetC: z.number().optional(),
    })
    .optional(),
  /** Supply the heating curve asks for at the current outdoor temperature. */
  curveSupplyC: z.number().optional(),
  meanC: z.number().optional(),
  openTickets: z.number(),
});

export const substationDetailSchema = substationSummarySchema.extend({
  buildingList: z.array(buildingSummarySchema),
});

export const historyPointSchema = z.object({
  ts: z.number(),
  meanC: z.number(),
  minC: z.number(),
  maxC: z.number(),
  count: z.number(),
});

export const substationPointSchema = z.object({
  ts: z.number(),
  supplyTempC: z.number(),
  returnTempC: z.number(),
  outdoorTempC: z.number().optional(),
  curveSupplyC: z.number().optional(),
  count: z.number(),
});

export const buildingHistorySchema = z.object({
  buildingId: z.string(),
  fromMs: z.number(),
  toMs: z.number(),
  everyMs: z.number(),
  all: z.array(historyPointSchema),
  classes: z.partialRecord(positionClass, z.array(historyPointSchema)),
  supply: z.array(substationPointSchema),
});

export const substationHistorySchema = z.object({
  substationId: z.string(),
  fromMs: z.number(),
  toMs: z.number(),
  everyMs: z.number(),
  points: z.array(substationPointSchema),
});

export const weatherSchema = z.object({
  observation: z.object({ stationId: z.string(), ts: z.number(), outdoorTempC: z.number() }).optional(),
  forecast: z
    .object({
      stationId: z.string(),
      issued: z.number(),
      points: z.array(z.object({ ts: z.number(), outdoorTempC: z.number() })),
      /** The forecast feed got no fresh forecast within weather.forecast.staleAfterH. */
      stale: z.boolean().optional(),
    })
    .optional(),
});

const personName = z.string().trim().min(1).max(80);

/**
 * The form under which two signatures count as the same person: compatibility forms folded (NFKC:
 * full-width letters, no-break spaces), invisible format characters dropped, white space trimmed
 * and collapsed, case folded (upper then lower folds ß to ss as full case folding does).
 */
export const personKey = (name: string): string =>
  name
    .normalize('NFKC')
    .replace(/\p{Cf}/gu, '')
    .replace(/\s+/gu, ' ')
    .trim()
    .toUpperCase()
    .toLowerCase()
    .normalize('NFKC');
export const manualBody = z
  .object({
    buildingId: z.string().min(1).max(128),
    floor: z.number().int().min(1).max(200),
    column: z.number().int().min(1).max(200),
    ts: instant,
    rooms: z
      .array(z.object({ room: z.string().trim().min(1).max(40), tempC: z.number().min(-40).max(60) }))
      .min(1)
      .max(20),
    /** docs/domain.md: two staff measure and both sides sign the record. */
    measuredBy: z
      .array(personName)
      .min(2)
      .max(4)
      .refine(
        (names) => {
          const keys = names.map(personKey);
          return keys.every((k) => k.length > 0) && new Set(keys).size === keys.length;
        },
        { message: 'two different people must sign a measurement; these names are one person (or blank)' },
      ),
    note: z.string().max(2000).optional(),
  })
  .strict();

export const manualResultSchema = z.object({
  sensorId: z.string(),
  tempC: z.number(),
  ts: z.number(),
});

export const healthSchema = z
  .object({
    status: z.enum(['ok', 'degraded', 'down']),
    broker: z.object({ connected: z.boolean(), detail: z.string().optional() }),
    store: z.object({ kind: z.string(), reachable: z.boolean() }),
    spoolDepth: z.number(),
    configVersion: z.string(),
  })
  .loose();

export const complianceQuery = z
  .object({
    from: instant.optional(),
    to: instant.optional(),
    /** CSV only: column headers for people in this language; absent, the stable machine headers. */
    locale: z.enum(LOCALES).optional(),
  })
  .strict();

export const complianceSchema = z.object({
  fromMs: z.number(),
  toMs: z.number(),
  bandLowC: z.number(),
  bandHighC: z.number(),
  buildings: z.array(
    z.object({
      buildingId: z.string(),
      name: z.string(),
      substationId: z.string(),
      unitHours: z.number(),
      inBandShare: z.number(),
      belowShare: z.number(),
      aboveShare: z.number(),
      meanC: z.number().optional(),
    }),
  ),
  coldestUnits: z.array(
    z.object({
      sensorId: z.string(),
      buildingId: z.string(),
      floor: z.number(),
      column: z.number(),
      classes: z.array(z.string()),
      meanC: z.number(),
      belowShare: z.number(),
    }),
  ),
});

export const meSchema = z.object({
  name: z.string(),
  role: z.enum(ROLES),
  /** The service's heating time (epoch ms), which runs ahead of the wall in an accelerated demo. */
  now: z.number(),
  /** The language to speak to this user (theirs from users.yaml, else the site's default). */
  locale: z.enum(LOCALES),
  /** The site's IANA time zone: the dashboard shows every time in it. */
  timeZone: z.string(),
});

export const auditQuery = z
  .object({
    before: z.coerce.number().int().positive().optional(),
    limit: z.coerce.number().int().min(1).optional(),
  })
  .strict();

export const auditSchema = z.object({
  rows: z.array(
    z.object({
      id: z.number(),
      ts: z.number(),
      actor: z.string(),
      role: z.string().nullable(),
      ip: z.string().nullable(),
      method: z.string(),
      path: z.string(),
      action: z.string(),
      target: z.string().nullable(),
      outcome: z.string(),
      status: z.number(),
      detail: z.string().nullable(),
    }),
  ),
});

export const configSummarySchema = z.object({
  version: z.string(),
  site: z.string(),
  files: z.record(z.string(), z.unknown()),
});

export const dryRunSchema = z.object({ findings: z.array(z.record(z.string(), z.unknown())) });
