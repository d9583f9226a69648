import { z } from 'zod';

/** The API's shared wire primitives: the error body, ids, instants and durations (schemas.ts re-exports them). */

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
