import type { RulesConfig } from '../config/rules-schema.ts';
import { POSITION_CLASSES, type RegistryIndex } from '../core/registry.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import { buildingKey, type ResponseLearner, type Sample, substationKey } from './response-learner.ts';

const HOUR_MS = 3_600_000;

export type HistorySource = Pick<ReadingStore, 'roomHistory' | 'substationHistory'>;

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/**
 * Fills the learner's hourly samples from stored history, so a restart does not start the estimates
 * from nothing: building class means and substation outdoor temperature for the last `hours`.
 * Returns the number of building-hours seeded; throws what the store throws.
 */
export async function seedFromHistory(
  learner: ResponseLearner,
  index: RegistryIndex,
  cfg: RulesConfig,
  store: HistorySource,
  now: number,
  hours: number,
): Promise<number> {
  const fromMs = Math.floor((now - hours * HOUR_MS) / HOUR_MS) * HOUR_MS;
  const q = { fromMs, toMs: now, everyMs: HOUR_MS };
  const outdoor = new Map<number, number>();
  for (const sid of index.substations.keys())
    for (const p of await store.substationHistory({ substationId: sid, ...q }))
      if (p.outdoorTempC !== undefined) outdoor.set(p.ts, p.outdoorTempC);
  const byBuilding = new Map<string, Map<number, number>>();
  let seeded = 0;
  for (const b of index.buildings.values()) {
    const series = await weightedSeries(store, b.id, q, cfg.buildingCold.classWeights);
    byBuilding.set(b.id, series);
    learner.seed(
      buildingKey(b.id),
      [...series]
        .sort((x, y) => x[0] - y[0])
        .map(([ts, valueC]) => ({ ts, valueC, outdoorC: outdoor.get(ts) })),
    );
    seeded += series.size;
  }
  for (const [sid, buildings] of index.buildingsBySubstation) {
    const hoursSeen = new Set<number>();
    for (const b of buildings) for (const ts of byBuilding.get(b.id)?.keys() ?? []) hoursSeen.add(ts);
    const list: Sample[] = [];
    for (const ts of [...hoursSeen].sort((a, b) => a - b)) {
      const xs = buildings
        .map((b) => byBuilding.get(b.id)?.get(ts))
        .filter((x): x is number => x !== undefined);
      if (xs.length > 0) list.push({ ts, valueC: median(xs), outdoorC: outdoor.get(ts) });
    }
    learner.seed(substationKey(sid), list);
  }
  return seeded;
}

/** A building's class-weighted hourly mean from its stored class means. */
async function weightedSeries(
  store: HistorySource,
  buildingId: string,
  q: { fromMs: number; toMs: number; everyMs: number },
  w: RulesConfig['buildingCold']['classWeights'],
): Promise<Map<number, number>> {
  const acc = new Map<number, { sum: number; w: number }>();
  for (const c of POSITION_CLASSES)
    for (const p of await store.roomHistory({ buildingId, positionClass: c, ...q })) {
      const a = acc.get(p.ts) ?? { sum: 0, w: 0 };
      a.sum += p.meanC * w[c];
      a.w += w[c];
      acc.set(p.ts, a);
    }
  const series = new Map<number, number>();
  for (const [ts, a] of acc) if (a.w > 0) series.set(ts, a.sum / a.w);
  return series;
}
