import type { RulesConfig } from '../config/rules-schema.ts';
import type { WeatherForecast } from '../core/readings.ts';
import { forecastOutlook } from './cold-spell.ts';

const HOUR_MS = 3_600_000;
/** Observations are matched to forecast points in buckets of this width. */
const MATCH_MS = 15 * 60_000;
/** Lead-time bands with their own bias: forecast error grows with the horizon. */
const LEAD_BANDS_H = [24, 48, Number.POSITIVE_INFINITY];

type Point = { ts: number; outdoorTempC: number };

/** One forecast source's running bias per lead band (forecast − observed, °C). */
interface SourceBias {
  biasC: number[];
  matches: number[];
}

/** The forecast the rules judge: corrected for the source's bias, with its confirmation count. */
export interface JudgedForecast {
  stationId: string;
  issued: number;
  points: Point[];
  /** Consecutive forecast issues (this one included) that showed a cold spell. */
  spellStreak: number;
  /** Consecutive forecast issues (this one included) that showed none. */
  clearStreak: number;
  /** The bias taken off each lead band, °C. */
  biasC: number[];
  /** The feed found no fresh forecast: this is an old one. */
  stale?: boolean;
}

const band = (leadMs: number): number => LEAD_BANDS_H.findIndex((h) => leadMs < h * HOUR_MS);

/**
 * Follows the forecasts (issue #20 items 5 and 6): learns each source's bias against the
 * observations, per lead band, and corrects new forecasts by it; counts how many consecutive
 * issues showed a cold spell, so one noisy forecast starts nothing.
 */
export class ForecastTracker {
  private readonly sources = new Map<string, SourceBias>();
  private readonly pending: Array<{ stationId: string; leadMs: number; ts: number; c: number }> = [];
  private readonly observed = new Map<number, number>();
  private lastIssued: string | undefined;
  private judged: JudgedForecast | undefined;

  constructor(private readonly cfg: () => RulesConfig) {}

  /** Records an observation; forecast points now due are compared with it. */
  observe(ts: number, outdoorC: number): void {
    this.observed.set(Math.round(ts / MATCH_MS), outdoorC);
    const c = this.cfg().coldSpell.forecastBias;
    for (let i = this.pending.length - 1; i >= 0; i--) {
      const p = this.pending[i]!;
      if (p.ts > ts) continue;
      const obs = this.observed.get(Math.round(p.ts / MATCH_MS));
      if (obs !== undefined) {
        const s = this.source(p.stationId);
        const k = band(p.leadMs);
        s.biasC[k] = (1 - c.learnRate) * s.biasC[k]! + c.learnRate * (p.c - obs);
        s.matches[k]!++;
      }
      if (obs !== undefined || ts - p.ts > HOUR_MS) this.pending.splice(i, 1);
    }
    for (const k of this.observed.keys()) if (ts - k * MATCH_MS > 2 * HOUR_MS) this.observed.delete(k);
  }

  /** The forecast to judge at `now`: corrected, with its streaks (judged once per issue). */
  update(f: WeatherForecast | undefined, now: number, recent?: { meanC: number; minC: number }) {
    if (!f) return this.judged;
    const key = `${f.stationId}|${f.issued}`;
    if (key === this.lastIssued) return this.judged;
    this.lastIssued = key;
    const c = this.cfg().coldSpell;
    for (const p of f.points)
      if (p.ts > f.issued)
        this.pending.push({ stationId: f.stationId, leadMs: p.ts - f.issued, ts: p.ts, c: p.outdoorTempC });
    const biasC = this.biasOf(f.stationId);
    const points = f.points.map((p) => ({
      ts: p.ts,
      outdoorTempC: p.outdoorTempC - biasC[Math.max(0, band(p.ts - f.issued))]!,
    }));
    const o = forecastOutlook(points, now, c.horizonH, recent);
    const shows = o !== undefined && o.dropC >= c.raiseDropC && o.arrivalTs !== undefined;
    const prev = this.judged;
    this.judged = {
      stationId: f.stationId,
      issued: f.issued,
      points,
      spellStreak: shows ? (prev?.spellStreak ?? 0) + 1 : 0,
      clearStreak: shows ? 0 : (prev?.clearStreak ?? 0) + 1,
      biasC,
      ...(f.stale ? { stale: true } : {}),
    };
    return this.judged;
  }

  /** The bias to take off each lead band: a band not yet learnt borrows the nearest shorter one. */
  biasOf(stationId: string): number[] {
    const c = this.cfg().coldSpell.forecastBias;
    const s = this.source(stationId);
    const out: number[] = [];
    for (let k = 0; k < LEAD_BANDS_H.length; k++) {
      const learnt = c.enabled && s.matches[k]! >= c.minMatches ? s.biasC[k]! : undefined;
      const b = learnt ?? (k > 0 ? out[k - 1]! : 0);
      out.push(Math.max(-c.maxCorrectionC, Math.min(c.maxCorrectionC, b)));
    }
    return out;
  }

  private source(stationId: string): SourceBias {
    let s = this.sources.get(stationId);
    if (!s) {
      s = { biasC: LEAD_BANDS_H.map(() => 0), matches: LEAD_BANDS_H.map(() => 0) };
      this.sources.set(stationId, s);
    }
    return s;
  }
}
