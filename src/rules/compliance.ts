import type { RulesConfig } from '../config/rules-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { HistoryPoint } from '../storage/reading-store.ts';

/** Accumulated compliance of one unit (or a building: the sum of its units). */
export interface ComplianceFigures {
  hours: number;
  /** Hours at or above the line (required − tolerance). */
  inBandHours: number;
  /** Hours at or above the required temperature itself (18 °C). */
  atOrAboveRequiredHours: number;
  /** ∑ max(0, required − T) · Δt: how far and how long below 18 °C. */
  degreeHoursBelow: number;
  /** Refund exposure (docs/domain.md): hours at lowBand..veryLowBand (14–16 °C) and below veryLowBand. */
  lowBandHours: number;
  veryLowBandHours: number;
}

const zero = (): ComplianceFigures => ({
  hours: 0,
  inBandHours: 0,
  atOrAboveRequiredHours: 0,
  degreeHoursBelow: 0,
  lowBandHours: 0,
  veryLowBandHours: 0,
});

/** Adds `dtH` hours at temperature `tempC` to `f` (pure helper shared by live and history paths). */
export function accumulate(f: ComplianceFigures, tempC: number, dtH: number, cfg: RulesConfig): void {
  f.hours += dtH;
  if (tempC >= cfg.requiredTempC - cfg.toleranceC) f.inBandHours += dtH;
  if (tempC >= cfg.requiredTempC) f.atOrAboveRequiredHours += dtH;
  else f.degreeHoursBelow += (cfg.requiredTempC - tempC) * dtH;
  if (tempC < cfg.compliance.veryLowBandC) f.veryLowBandHours += dtH;
  else if (tempC < cfg.compliance.lowBandC) f.lowBandHours += dtH;
}

export const shareInBand = (f: ComplianceFigures): number => (f.hours > 0 ? f.inBandHours / f.hours : 1);

interface LastSample {
  ts: number;
  tempC: number;
  /** false after reset(): the next sample starts a new interval instead of closing one. */
  counting: boolean;
  /** The reading time `sampleLatest` last handed over for this sensor. */
  sampledTs: number | undefined;
}

/**
 * Compliance per unit and building, accumulated from live samples: each sample holds until the next
 * one of the same sensor (a gap longer than `maxGapS` is not counted: nobody knows the room then).
 */
export class ComplianceAccumulator {
  private readonly units = new Map<string, ComplianceFigures>();
  private readonly last = new Map<string, LastSample>();

  constructor(
    private readonly index: () => RegistryIndex,
    private readonly cfg: () => RulesConfig,
  ) {}

  sample(sensorId: string, ts: number, tempC: number): void {
    this.record(this.last.get(sensorId), sensorId, ts, tempC, undefined);
  }

  /**
   * The engine's call on every tick for every fresh sensor: a reading already handed over (same `ts`)
   * costs one lookup. Most sensors have not reported again since the last tick.
   */
  sampleLatest(sensorId: string, ts: number, tempC: number): void {
    const prev = this.last.get(sensorId);
    if (prev) {
      if (prev.sampledTs === ts) return;
      prev.sampledTs = ts;
    }
    this.record(prev, sensorId, ts, tempC, ts);
  }

  private record(
    prev: LastSample | undefined,
    sensorId: string,
    ts: number,
    tempC: number,
    sampledTs: number | undefined,
  ): void {
    if (!prev) {
      this.last.set(sensorId, { ts, tempC, counting: true, sampledTs });
      return;
    }
    if (!prev.counting) {
      // First sample after reset(): nothing to count from yet.
      prev.ts = ts;
      prev.tempC = tempC;
      prev.counting = true;
      return;
    }
    if (ts <= prev.ts) return;
    const dtS = (ts - prev.ts) / 1000;
    const cfg = this.cfg();
    if (dtS <= cfg.compliance.maxGapS) {
      let f = this.units.get(sensorId);
      if (!f) {
        f = zero();
        this.units.set(sensorId, f);
      }
      accumulate(f, prev.tempC, dtS / 3600, cfg);
    }
    // Updated in place: called for every sensor that reported since the last tick.
    prev.ts = ts;
    prev.tempC = tempC;
  }

  unit(sensorId: string): ComplianceFigures {
    return { ...(this.units.get(sensorId) ?? zero()) };
  }

  building(buildingId: string): ComplianceFigures {
    const f = zero();
    for (const s of this.index().sensorsByBuilding.get(buildingId) ?? []) add(f, this.units.get(s.sensor.id));
    return f;
  }

  total(filter?: (sensorId: string) => boolean): ComplianceFigures {
    const f = zero();
    for (const [id, u] of this.units) if (!filter || filter(id)) add(f, u);
    return f;
  }

  reset(): void {
    this.units.clear();
    // Kept for sampledTs (a reading already handed over is not counted again); counting restarts.
    for (const l of this.last.values()) l.counting = false;
  }
}

function add(f: ComplianceFigures, u: ComplianceFigures | undefined): void {
  if (!u) return;
  for (const k of Object.keys(f) as Array<keyof ComplianceFigures>) f[k] += u[k];
}

/** The same figures from stored history: bucket means, each bucket counted for its length. */
export function complianceFromHistory(
  points: readonly HistoryPoint[],
  everyMs: number,
  cfg: RulesConfig,
): ComplianceFigures {
  const f = zero();
  for (const p of points) accumulate(f, p.meanC, everyMs / 3_600_000, cfg);
  return f;
}
