import type { RulesConfig } from '../config/rules-schema.ts';
import type { RoomReading } from '../core/readings.ts';
import { accumulate, type ComplianceFigures } from '../rules/compliance.ts';

const HOUR_MS = 3_600_000;
/** Hour buckets kept per unit: the bulletin's day plus a day of slack for a late run. */
const KEEP_H = 48;

export const zeroFigures = (): ComplianceFigures => ({
  hours: 0,
  inBandHours: 0,
  atOrAboveRequiredHours: 0,
  degreeHoursBelow: 0,
  lowBandHours: 0,
  veryLowBandHours: 0,
});

export const addFigures = (a: ComplianceFigures, b: ComplianceFigures): void => {
  for (const k of Object.keys(a) as Array<keyof ComplianceFigures>) a[k] += b[k];
};

/**
 * Unit-hours per sensor in hour buckets, for the bulletin's last 24 h: each reading holds until the
 * next one of its sensor (a gap over `compliance.maxGapS` is not counted), judged with the rules'
 * own `accumulate` so the bulletin and the compliance page agree. Memory only: after a restart the
 * bulletin covers the hours since (it says how many unit-hours it saw).
 */
export class UnitHours {
  private readonly last = new Map<string, { ts: number; tempC: number }>();
  private readonly buckets = new Map<string, Map<number, ComplianceFigures>>();

  constructor(private readonly rules: () => RulesConfig) {}

  add(readings: readonly RoomReading[]): void {
    const cfg = this.rules();
    for (const r of readings) {
      const prev = this.last.get(r.sensorId);
      if (prev && r.ts <= prev.ts) continue;
      this.last.set(r.sensorId, { ts: r.ts, tempC: r.tempC });
      if (!prev || r.ts - prev.ts > cfg.compliance.maxGapS * 1000) continue;
      // Split the held interval at hour boundaries so each bucket gets its own share.
      let t = prev.ts;
      while (t < r.ts) {
        const hour = Math.floor(t / HOUR_MS) * HOUR_MS;
        const end = Math.min(r.ts, hour + HOUR_MS);
        let unit = this.buckets.get(r.sensorId);
        if (!unit) {
          unit = new Map();
          this.buckets.set(r.sensorId, unit);
        }
        const f = unit.get(hour) ?? zeroFigures();
        accumulate(f, prev.tempC, (end - t) / HOUR_MS, cfg);
        unit.set(hour, f);
        t = end;
      }
      const unit = this.buckets.get(r.sensorId);
      if (unit) for (const h of unit.keys()) if (h < r.ts - KEEP_H * HOUR_MS) unit.delete(h);
    }
  }

  /** The figures of one sensor over [fromTs, toTs) (whole hours). */
  figures(sensorId: string, fromTs: number, toTs: number): ComplianceFigures {
    const f = zeroFigures();
    for (const [h, b] of this.buckets.get(sensorId) ?? []) if (h >= fromTs && h < toTs) addFigures(f, b);
    return f;
  }
}
