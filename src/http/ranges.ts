import type { ServiceConfig } from '../config/service-schema.ts';
import { Errors } from '../core/errors.ts';

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

type Limits = Pick<
  ServiceConfig['http'],
  | 'historyMaxPoints'
  | 'historyMaxRangeDays'
  | 'historyMaxEveryDays'
  | 'queryMaxFutureMs'
  | 'complianceMaxRangeDays'
>;

/**
 * `to` defaults to now and may lie at most `queryMaxFutureMs` ahead; `from` defaults to `defaultSpanMs`
 * before `to`, must be before it, not before 1970 and at most `maxRangeMs` before it.
 */
function bounded(
  q: { from?: number; to?: number },
  now: number,
  limits: Limits,
  defaultSpanMs: number,
  maxRangeMs: number,
): { fromMs: number; toMs: number } {
  const toMs = q.to ?? now;
  if (toMs > now + limits.queryMaxFutureMs)
    throw Errors.badRequest('query.to: lies too far in the future', 'query.to');
  const fromMs = q.from ?? toMs - defaultSpanMs;
  if (fromMs < 0)
    throw Errors.badRequest(
      `query.${q.from === undefined ? 'to' : 'from'}: the range would start before 1970`,
      q.from === undefined ? 'query.to' : 'query.from',
    );
  if (fromMs >= toMs) throw Errors.badRequest('query.from: must be before to', 'query.from');
  if (toMs - fromMs > maxRangeMs)
    throw Errors.badRequest(
      `query.from: at most ${Math.round(maxRangeMs / DAY_MS)} days per query`,
      'query.from',
    );
  return { fromMs, toMs };
}

/** Range and bucket of a history query (default: the last 48 h in about 200 buckets). */
export function historyRange(
  q: { from?: number; to?: number; every?: number },
  now: number,
  limits: Limits,
): { fromMs: number; toMs: number; everyMs: number } {
  const { fromMs, toMs } = bounded(q, now, limits, 48 * HOUR_MS, limits.historyMaxRangeDays * DAY_MS);
  if (q.every !== undefined && q.every > limits.historyMaxEveryDays * DAY_MS)
    throw Errors.badRequest(`query.every: at most ${limits.historyMaxEveryDays} days`, 'query.every');
  // Default bucket: about 200 points over the range, at least a minute.
  const everyMs = q.every ?? Math.max(60_000, Math.ceil((toMs - fromMs) / 200 / 60_000) * 60_000);
  if ((toMs - fromMs) / everyMs > limits.historyMaxPoints)
    throw Errors.badRequest(
      `query.every: the range holds more than ${limits.historyMaxPoints} buckets; choose a wider bucket`,
      'query.every',
    );
  return { fromMs, toMs, everyMs };
}

/** Range of a compliance report (default: the last 7 days). */
export function complianceRange(
  q: { from?: number; to?: number },
  now: number,
  limits: Limits,
): { fromMs: number; toMs: number } {
  return bounded(q, now, limits, 7 * DAY_MS, limits.complianceMaxRangeDays * DAY_MS);
}
