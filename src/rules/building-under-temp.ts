import { Observations } from './observations.ts';
import { coldLineC, type Observation, type RuleContext, type RuleNode } from './types.ts';
import { type BuildingPicture, pictureEvidence, round2 } from './view.ts';

/**
 * A building is cold when the class-weighted mean of its units is below the line. Each position
 * class's mean counts with its configured weight rather than each sensor equally, so a sample that is
 * heavy in middle units cannot hide cold corners (docs/domain.md sampling practice).
 */
export const buildingUnderTemp: RuleNode = {
  id: 'building-under-temp',
  meaning: { buildingState: 'cold', unhealthyBuilding: true },
  enabled: (cfg) => cfg.buildingCold.enabled,
  minDurationS: (cfg) => cfg.buildingCold.minDurationS,
  evaluate(_view, ctx) {
    const c = ctx.cfg.buildingCold;
    const line = coldLineC(ctx.cfg);
    return buildingsBelow(this.id, ctx, (p) => p.weightedMeanC, line + c.raiseOffsetC, line + c.clearOffsetC);
  },
};

/**
 * One observation per judged building (enough fresh sensors) of a value that is cold below
 * `raiseBelowC` and clear at `clearAtC`; between them only while the condition is tracked.
 */
export function buildingsBelow(
  rule: string,
  ctx: RuleContext,
  measure: (p: BuildingPicture) => number | undefined,
  raiseBelowC: number,
  clearAtC: number,
): Observation[] {
  const out = new Observations(ctx, rule, 'building');
  for (const b of ctx.buildings) {
    const p = ctx.picture(b.id);
    const t = measure(p);
    if (t === undefined || p.units.length < ctx.cfg.buildingCold.minFreshSensors) continue;
    const level = t < raiseBelowC ? 'raise' : t >= clearAtC ? 'clear' : 'hold';
    out.add(b.id, b.substationId, level, t, () => ({
      ...pictureEvidence(p, coldLineC(ctx.cfg)),
      raiseBelowC: round2(raiseBelowC),
      clearAtC: round2(clearAtC),
    }));
  }
  return out.list;
}
