import type { RulesConfig } from '../config/rules-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { HistoryPoint, ReadingStore } from '../storage/reading-store.ts';

const HOUR_MS = 3_600_000;

/**
 * Compliance of one unit over a period (or of a building: the sum of its units), in unit-hours:
 * an hour of one sensored unit, judged by its mean (docs/domain.md "The 18 °C requirement").
 */
export interface ComplianceFigures {
  hours: number;
  /** Hours at or above the line (required − tolerance). */
  inBandHours: number;
  /** Of those, hours above the band's upper edge (`unitHot.raiseAboveC`): over-heated, heat wasted. */
  aboveBandHours: number;
  /** Hours at or above the required temperature itself (18 °C). */
  atOrAboveRequiredHours: number;
  /** ∑ max(0, required − T) · Δt: how far and how long below 18 °C. */
  degreeHoursBelow: number;
  /** Refund exposure (docs/domain.md): hours at lowBand..veryLowBand (14–16 °C) and below veryLowBand. */
  lowBandHours: number;
  veryLowBandHours: number;
  /** ∑ T · Δt, °C·h: the mean temperature is this over `hours`. */
  tempHours: number;
}

export const zeroFigures = (): ComplianceFigures => ({
  hours: 0,
  inBandHours: 0,
  aboveBandHours: 0,
  atOrAboveRequiredHours: 0,
  degreeHoursBelow: 0,
  lowBandHours: 0,
  veryLowBandHours: 0,
  tempHours: 0,
});

/** Adds `b` to `a`, figure by figure. */
export function addFigures(a: ComplianceFigures, b: ComplianceFigures | undefined): void {
  if (!b) return;
  for (const k of Object.keys(a) as Array<keyof ComplianceFigures>) a[k] += b[k];
}

/** The band a unit-hour is judged against: [required − tolerance, unitHot.raiseAboveC]. */
export const complianceBand = (cfg: RulesConfig): { lowC: number; highC: number } => ({
  lowC: cfg.requiredTempC - cfg.toleranceC,
  highC: cfg.unitHot.raiseAboveC,
});

/** Adds `dtH` hours at temperature `tempC` to `f`: the one judgement of a unit-hour. */
export function accumulate(f: ComplianceFigures, tempC: number, dtH: number, cfg: RulesConfig): void {
  const band = complianceBand(cfg);
  f.hours += dtH;
  f.tempHours += tempC * dtH;
  if (tempC >= band.lowC) f.inBandHours += dtH;
  if (tempC > band.highC) f.aboveBandHours += dtH;
  if (tempC >= cfg.requiredTempC) f.atOrAboveRequiredHours += dtH;
  else f.degreeHoursBelow += (cfg.requiredTempC - tempC) * dtH;
  if (tempC < cfg.compliance.veryLowBandC) f.veryLowBandHours += dtH;
  else if (tempC < cfg.compliance.lowBandC) f.lowBandHours += dtH;
}

/** The figures of stored history buckets, each bucket counted for its length. */
export function complianceFromHistory(
  points: readonly HistoryPoint[],
  everyMs: number,
  cfg: RulesConfig,
): ComplianceFigures {
  const f = zeroFigures();
  for (const p of points) accumulate(f, p.meanC, everyMs / HOUR_MS, cfg);
  return f;
}

/** Unit-hours per sensor over a period: what the compliance page and the daily bulletin both read. */
export interface UnitHoursSource {
  /** Figures of every sensored unit with readings in [fromMs, toMs), by sensor id. */
  unitHours(fromMs: number, toMs: number): Promise<Map<string, ComplianceFigures>>;
  /** The band the figures were judged against (the rules in force). */
  band(): { lowC: number; highC: number };
}

/**
 * Unit-hours from the reading store's hourly means (docs/architecture.md decision 6: the store serves
 * compliance reports), judged with `accumulate` under the rules in force. The store is the one
 * durable record of every reading, so the figures survive a restart and cover any period it keeps.
 */
export class StoredUnitHours implements UnitHoursSource {
  constructor(
    private readonly history: Pick<ReadingStore, 'roomHistory'>,
    private readonly index: () => RegistryIndex,
    private readonly cfg: () => RulesConfig,
  ) {}

  band(): { lowC: number; highC: number } {
    return complianceBand(this.cfg());
  }

  async unitHours(fromMs: number, toMs: number): Promise<Map<string, ComplianceFigures>> {
    const cfg = this.cfg();
    const out = new Map<string, ComplianceFigures>();
    for (const sensorId of this.index().sensors.keys()) {
      const points = await this.history.roomHistory({ fromMs, toMs, everyMs: HOUR_MS, sensorId });
      if (points.length > 0) out.set(sensorId, complianceFromHistory(points, HOUR_MS, cfg));
    }
    return out;
  }
}
