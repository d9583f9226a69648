import { EXPOSED_CLASSES, POSITION_CLASSES, type PositionClass } from '../core/registry.ts';
import type { LiveState } from './live-state.ts';

export interface ClassStats {
  count: number;
  meanC: number;
  minC: number;
  /** Age of the oldest reading that went into the mean, ms. */
  oldestAgeMs: number;
}

export interface BuildingStats {
  buildingId: string;
  substationId: string;
  sensors: number;
  fresh: number;
  /** Position-class statistics over fresh readings; a unit that is top and gable counts in both. */
  classes: Partial<Record<PositionClass, ClassStats>>;
  /** Mean over all fresh units. */
  meanC?: number;
  minC?: number;
  /** Mean over exposed (top, ground, gable) units and over middle units. */
  exposedMeanC?: number;
  middleMeanC?: number;
  newestTs?: number;
}

/** Position-class statistics of a building's fresh readings now (the dashboard's building figures). */
export function buildingStats(live: LiveState, buildingId: string, now: number): BuildingStats | undefined {
  const b = live.index.buildings.get(buildingId);
  if (!b) return undefined;
  const acc = new Map<PositionClass, { n: number; sum: number; min: number; oldest: number }>();
  let n = 0;
  let sum = 0;
  let min = Number.POSITIVE_INFINITY;
  let newest: number | undefined;
  let exN = 0;
  let exSum = 0;
  let midN = 0;
  let midSum = 0;
  const sensors = live.buildingSensors(buildingId);
  for (const s of sensors) {
    if (!live.isFresh(s, now) || s.tempC === undefined || s.ts === undefined) continue;
    const t = s.tempC;
    n++;
    sum += t;
    if (t < min) min = t;
    if (newest === undefined || s.ts > newest) newest = s.ts;
    const exposed = s.info.classes.some((c) => EXPOSED_CLASSES.includes(c));
    if (exposed) {
      exN++;
      exSum += t;
    } else {
      midN++;
      midSum += t;
    }
    for (const c of s.info.classes) {
      const a = acc.get(c) ?? { n: 0, sum: 0, min: Number.POSITIVE_INFINITY, oldest: 0 };
      a.n++;
      a.sum += t;
      if (t < a.min) a.min = t;
      a.oldest = Math.max(a.oldest, now - s.ts);
      acc.set(c, a);
    }
  }
  const classes: Partial<Record<PositionClass, ClassStats>> = {};
  for (const c of POSITION_CLASSES) {
    const a = acc.get(c);
    if (a) classes[c] = { count: a.n, meanC: a.sum / a.n, minC: a.min, oldestAgeMs: a.oldest };
  }
  return {
    buildingId,
    substationId: b.substationId,
    sensors: sensors.length,
    fresh: n,
    classes,
    meanC: n > 0 ? sum / n : undefined,
    minC: n > 0 ? min : undefined,
    exposedMeanC: exN > 0 ? exSum / exN : undefined,
    middleMeanC: midN > 0 ? midSum / midN : undefined,
    newestTs: newest,
  };
}
