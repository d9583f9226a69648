import type { RulesConfig } from '../config/rules-schema.ts';
import type { Ticket } from '../tickets/types.ts';
import type { JudgedForecast } from './forecast-tracker.ts';
import { round1 } from './view.ts';

const HOUR_MS = 3_600_000;

export type PreheatStep =
  | { kind: 'none' }
  | { kind: 'extended' | 'shortened'; untilTs: number; reason: string }
  /** Not applied yet: withdrawn; applied: ends now. */
  | { kind: 'cancelled'; untilTs: number; reason: string };

const iso = (ts: number) => new Date(ts).toISOString();

/**
 * What a new forecast means for an open pre-heat (issue #20 item 1): its end follows the last
 * forecast point still colder than the spell's edge (extend or shorten); when the forecast shows no
 * cold any more (for `confirmForecasts` issues in a row) and none is observed, it is cancelled, or
 * ended now if it was applied. Pure.
 */
export function followPreheat(
  t: Ticket,
  f: JudgedForecast,
  now: number,
  cfg: RulesConfig,
  observedOutdoorC: number | undefined,
): PreheatStep {
  const a = t.action;
  const edgeC = t.evidence.edgeC;
  if (a.kind !== 'preheat' || typeof edgeC !== 'number') return { kind: 'none' };
  const c = cfg.coldSpell;
  const cold = f.points.filter(
    (p) => p.ts >= now - HOUR_MS && p.ts <= now + c.horizonH * HOUR_MS && p.outdoorTempC < edgeC,
  );
  if (cold.length === 0) {
    if (observedOutdoorC !== undefined && observedOutdoorC < edgeC) return { kind: 'none' };
    if (f.clearStreak < c.confirmForecasts) return { kind: 'none' };
    const why = `the last ${f.clearStreak} forecasts show nothing colder than ${edgeC} °C`;
    return {
      kind: 'cancelled',
      untilTs: now,
      reason: `${why}: pre-heat ${t.appliedTs ? 'ended' : 'withdrawn'}`,
    };
  }
  const untilTs = cold[cold.length - 1]!.ts;
  if (Math.abs(untilTs - a.untilTs) < c.followMinShiftH * HOUR_MS) return { kind: 'none' };
  const kind = untilTs > a.untilTs ? 'extended' : 'shortened';
  return {
    kind,
    untilTs,
    reason: `forecast issued ${iso(f.issued)} has the cold (below ${round1(edgeC)} °C) until ${iso(untilTs)}: pre-heat ${kind} from ${iso(a.untilTs)}`,
  };
}
