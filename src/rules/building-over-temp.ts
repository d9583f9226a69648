import { Observations } from './observations.ts';
import { coldLineC, type RuleNode } from './types.ts';
import { pictureEvidence } from './view.ts';

/** A building whose class-weighted mean is far above the line: heat wasted, supply can come down. */
export const buildingOverTemp: RuleNode = {
  id: 'building-over-temp',
  meaning: { buildingState: 'overheated' },
  enabled: (cfg) => cfg.buildingHot.enabled,
  minDurationS: (cfg) => cfg.buildingHot.minDurationS,
  evaluate(_view, ctx) {
    const { raiseAboveC, clearBelowC } = ctx.cfg.buildingHot;
    const out = new Observations(ctx, this.id, 'building');
    for (const b of ctx.buildings) {
      const p = ctx.picture(b.id);
      if (p.weightedMeanC === undefined || p.units.length < ctx.cfg.buildingCold.minFreshSensors) continue;
      const t = p.weightedMeanC;
      const level = t > raiseAboveC ? 'raise' : t < clearBelowC ? 'clear' : 'hold';
      out.add(b.id, b.substationId, level, t, () => ({
        ...pictureEvidence(p, coldLineC(ctx.cfg)),
        raiseAboveC,
        clearBelowC,
      }));
    }
    return out.list;
  },
};
