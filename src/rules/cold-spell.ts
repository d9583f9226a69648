import type { Observation, RuleNode } from './types.ts';
import { round1, round2 } from './view.ts';

const HOUR_MS = 3_600_000;
/** Colder than the normal daily minimum by this, °C: the spell has arrived (a night dip has not). */
export const ARRIVAL_MARGIN_C = 1;

export interface ForecastOutlook {
  /** Mean of the last 24 h observed (else the next 24 h forecast): the weather the rooms are used to. */
  baselineC: number;
  baselineMinC: number;
  /** The coldest 24 h window of the horizon. */
  coldestMeanC: number;
  coldestStartTs: number;
  /** First point colder than anything of the next 24 h's daily cycle, and the last one after it. */
  arrivalTs?: number;
  endTs?: number;
  dropC: number;
}

/** Pure: reads a forecast for a coming cold spell. Needs at least 24 h of points ahead of `now`. */
export function forecastOutlook(
  points: ReadonlyArray<{ ts: number; outdoorTempC: number }>,
  now: number,
  horizonH: number,
  /** Observed last 24 h; a baseline from the past does not slide as the spell comes closer. */
  recent?: { meanC: number; minC: number },
): ForecastOutlook | undefined {
  const ahead = points.filter((p) => p.ts >= now - HOUR_MS && p.ts <= now + horizonH * HOUR_MS);
  const first = ahead.filter((p) => p.ts < now + 24 * HOUR_MS);
  if (first.length < 6 || ahead.length < 24) return undefined;
  const baselineC = recent?.meanC ?? first.reduce((a, p) => a + p.outdoorTempC, 0) / first.length;
  const baselineMinC = recent?.minC ?? Math.min(...first.map((p) => p.outdoorTempC));
  let coldestMeanC = baselineC;
  let coldestStartTs = ahead[0]!.ts;
  for (const start of ahead) {
    const win = ahead.filter((p) => p.ts >= start.ts && p.ts < start.ts + 24 * HOUR_MS);
    if (win.length < 6 || win[win.length - 1]!.ts - start.ts < 18 * HOUR_MS) continue;
    const m = win.reduce((a, p) => a + p.outdoorTempC, 0) / win.length;
    if (m < coldestMeanC) {
      coldestMeanC = m;
      coldestStartTs = start.ts;
    }
  }
  // "Arrival": colder than the normal daily minimum by a margin, so the night dip is not a spell.
  const edgeC = baselineMinC - ARRIVAL_MARGIN_C;
  const arrival = ahead.find((p) => p.ts >= now && p.outdoorTempC < edgeC);
  let endTs: number | undefined;
  if (arrival) for (const p of ahead) if (p.ts >= arrival.ts && p.outdoorTempC < edgeC) endTs = p.ts;
  return {
    baselineC,
    baselineMinC,
    coldestMeanC,
    coldestStartTs,
    arrivalTs: arrival?.ts,
    endTs,
    dropC: baselineC - coldestMeanC,
  };
}

/**
 * Cold spell ahead (docs/domain.md: raise supply in advance, buildings have hours to a day of inertia):
 * the coldest 24 h of the forecast horizon is `raiseDropC` colder than the last 24 h observed. Judged per
 * substation, since each has its own curve and its own response lag.
 */
export const coldSpell: RuleNode = {
  id: 'cold-spell',
  enabled: (cfg) => cfg.coldSpell.enabled,
  minDurationS: (cfg) => cfg.coldSpell.minDurationS,
  evaluate(view, ctx) {
    const c = ctx.cfg.coldSpell;
    const f = ctx.forecast ?? (view.forecast && { ...view.forecast, spellStreak: c.confirmForecasts });
    if (!f) return [];
    const o = forecastOutlook(f.points, ctx.now, c.horizonH, ctx.recentOutdoor);
    if (!o) return [];
    // Raised only once enough consecutive forecast issues showed it (issue #20 item 5).
    const confirmed = f.spellStreak >= c.confirmForecasts;
    const out: Observation[] = [];
    for (const s of view.index.substations.values()) {
      const leadH = ctx.lagH(s.id);
      out.push({
        rule: this.id,
        targetKind: 'substation',
        targetId: s.id,
        substationId: s.id,
        level:
          o.dropC >= c.raiseDropC && o.arrivalTs !== undefined && confirmed
            ? 'raise'
            : o.dropC < c.clearDropC
              ? 'clear'
              : 'hold',
        valueC: o.dropC,
        evidence: {
          forecastIssued: f.issued,
          // The forecast feed found no fresh forecast: this judgement rests on an old one.
          ...(f.stale ? { forecastStale: true } : {}),
          baselineC: round1(o.baselineC),
          coldestMeanC: round1(o.coldestMeanC),
          coldestStartTs: o.coldestStartTs,
          arrivalTs: o.arrivalTs,
          endTs: o.endTs,
          edgeC: round1(o.baselineMinC - ARRIVAL_MARGIN_C),
          forecastStreak: f.spellStreak,
          dropC: round2(o.dropC),
          leadH: round1(leadH),
          raiseDropC: c.raiseDropC,
          clearDropC: c.clearDropC,
        },
      });
    }
    return out;
  },
};
