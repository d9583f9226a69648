import { coldLineC, type Observation, type RuleNode } from './types.ts';
import { pictureEvidence, round2 } from './view.ts';

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
    const raiseBelowC = line + c.raiseOffsetC;
    const clearAtC = line + c.clearOffsetC;
    const out: Observation[] = [];
    for (const b of ctx.buildings) {
      const p = ctx.picture(b.id);
      if (p.weightedMeanC === undefined || p.units.length < c.minFreshSensors) continue;
      const t = p.weightedMeanC;
      const level = t < raiseBelowC ? 'raise' : t >= clearAtC ? 'clear' : 'hold';
      if (level !== 'raise' && !ctx.tracked(this.id, b.id)) continue;
      out.push({
        rule: this.id,
        targetKind: 'building',
        targetId: b.id,
        substationId: b.substationId,
        level,
        valueC: t,
        evidence: {
          ...pictureEvidence(p, line),
          raiseBelowC: round2(raiseBelowC),
          clearAtC: round2(clearAtC),
        },
      });
    }
    return out;
  },
};
