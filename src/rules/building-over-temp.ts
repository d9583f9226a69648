import { coldLineC, type Observation, type RuleNode } from './types.ts';
import { pictureEvidence } from './view.ts';

/** A building whose class-weighted mean is far above the line: heat wasted, supply can come down. */
export const buildingOverTemp: RuleNode = {
  id: 'building-over-temp',
  meaning: { buildingState: 'overheated' },
  enabled: (cfg) => cfg.buildingHot.enabled,
  minDurationS: (cfg) => cfg.buildingHot.minDurationS,
  evaluate(_view, ctx) {
    const { raiseAboveC, clearBelowC } = ctx.cfg.buildingHot;
    const out: Observation[] = [];
    for (const b of ctx.buildings) {
      const p = ctx.picture(b.id);
      if (p.weightedMeanC === undefined || p.units.length < ctx.cfg.buildingCold.minFreshSensors) continue;
      const t = p.weightedMeanC;
      const level = t > raiseAboveC ? 'raise' : t < clearBelowC ? 'clear' : 'hold';
      if (level !== 'raise' && !ctx.tracked(this.id, b.id)) continue;
      out.push({
        rule: this.id,
        targetKind: 'building',
        targetId: b.id,
        substationId: b.substationId,
        level,
        valueC: t,
        evidence: { ...pictureEvidence(p, coldLineC(ctx.cfg)), raiseAboveC, clearBelowC },
      });
    }
    return out;
  },
};
