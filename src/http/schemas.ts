import { z } from 'zod';
import { ROLES } from '../core/roles.ts';
import { LOCALES } from '../i18n/index.ts';

/**
 * The API's wire shapes. Route inputs are parsed with these; outputs are checked against them before
 * they leave, and /api/docs is generated from them, so the contract and the code cannot drift.
 */

export const errorSchema = z
  .object({
    statusCode: z.number().int(),
    code: z.string(),
    message: z.string(),
    field: z.string().optional(),
  })
  .meta({ id: 'Error' });

export const idParams = z.object({ id: z.string().min(1).max(128) });

const DURATION = /^(\d+)(ms|s|m|h|d)$/;
const UNIT_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Largest instant a JavaScript Date can hold (ECMA-262 time values), in ms either side of 1970. */
const DATE_MAX_MS = 8.64e15;

/** An instant as epoch ms or ISO 8601, from 1970 on; routes bound it further (routes/ranges.ts). */
export const instant = z.union([z.string(), z.number()]).transform((v, ctx) => {
  const n = typeof v === 'number' ? v : /^-?\d+$/.test(v) ? Number(v) : Date.parse(v);
  if (!Number.isFinite(n)) {
    ctx.addIssue({ code: 'custom', message: 'expected epoch milliseconds or an ISO 8601 instant' });
    return z.NEVER;
  }
  if (n < 0 || n > DATE_MAX_MS) {
    ctx.addIssue({ code: 'custom', message: 'expected an instant after 1970-01-01' });
    return z.NEVER;
  }
  return n;
});

/** A bucket width as ms or `15m`, `1h`, `1d`. */
export const duration = z.union([z.string(), z.number()]).transform((v, ctx) => {
  // Upper bounds are the route's (historyMaxEveryDays); here only what is a number at all.
  if (typeof v === 'number' || /^\d+$/.test(v)) {
    const n = Number(v);
    if (n >= 1000 && Number.isSafeInteger(n)) return n;
  } else {
    const m = DURATION.exec(v);
    if (m) {
      const n = Number(m[1]) * UNIT_MS[m[2]!]!;
      if (n >= 1000 && Number.isSafeInteger(n)) return n;
    }
  }
  ctx.addIssue({ code: 'custom', message: 'expected a duration of at least 1 s: ms, or like 15m, 1h, 1d' });
  return z.NEVER;
});

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

export const ticketActionSchema = z.enum(['approve', 'apply', 'reject', 'close']);

export const ticketSchema = z.object({
  id: z.string(),
  status: z.string(),
  problem: z.string(),
  targetKind: z.enum(['substation', 'building', 'unit']),
  targetId: z.string(),
  substationId: z.string(),
  buildingId: z.string().optional(),
  summary: z.string(),
  evidence: z.array(
    z.object({
      key: z.string(),
      label: z.string(),
      value: z.string(),
      num: z.number().optional(),
      unit: z.enum(['C', 'pct', 'h', 'share']).optional(),
    }),
  ),
  proposal: z.object({
    kind: z.enum(['supply-offset', 'slope', 'valves', 'preheat', 'field']),
    params: z.record(z.string(), z.union([z.string(), z.number()])),
    description: z.string(),
    supplyOffsetC: z.number().optional(),
    valvePct: z.number().optional(),
    supplyTempC: z.number().optional(),
  }),
  predictedEffect: z.string(),
  prediction: z.object({ deltaC: z.number(), afterH: z.number() }).optional(),
  createdTs: z.number(),
  updatedTs: z.number(),
  recheckDueTs: z.number().optional(),
  actions: z.array(ticketActionSchema),
  setpoint: z
    .object({
      commandId: z.string(),
      delivery: z.enum(['pending', 'published']),
      attempts: z.number(),
      lastError: z.string().optional(),
      publishedTs: z.number().optional(),
      sent: z.object({
        supplyOffsetC: z.number(),
        slopeDelta: z.number().optional(),
        buildingValves: z.record(z.string(), z.number()).optional(),
      }),
      reported: z
        .object({ supplyOffsetC: z.number().optional(), setpointId: z.string().optional(), ts: z.number() })
        .optional(),
      confirmation: z.enum(['awaiting', 'confirmed', 'not-confirmed', 'superseded']),
      confirmedAfterS: z.number().optional(),
      text: z.string(),
    })
    .optional(),
  events: z.array(
    z.object({
      ts: z.number(),
      actor: z.string(),
      kind: z.string(),
      fromStatus: z.string().optional(),
      toStatus: z.string().optional(),
      note: z.string().optional(),
    }),
  ),
});

export const ticketListQuery = z
  .object({
    status: z
      .string()
      .regex(/^[a-z_]{1,32}(,[a-z_]{1,32})*$/, 'expected status[,status…]')
      .optional(),
  })
  .strict();

export const ticketActionParams = z.object({ id: z.string().min(1).max(128), action: ticketActionSchema });
export const ticketActionBody = z
  .object({ note: z.string().max(2000).optional() })
  .strict()
  .optional();

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
