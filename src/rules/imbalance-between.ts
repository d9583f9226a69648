import { Observations } from './observations.ts';
import { coldLineC, type RuleNode } from './types.ts';
import { pictureEvidence, round2 } from './view.ts';

/**
 * A building markedly colder than the other buildings of its substation (docs/domain.md "imbalance
 * between buildings"): its class-weighted mean against the mean of its neighbours' weighted means.
 */
export const imbalanceBetween: RuleNode = {
  id: 'imbalance-between',
  meaning: { buildingState: 'unbalanced', unhealthyBuilding: true },
  enabled: (cfg) => cfg.imbalanceBetween.enabled,
  minDurationS: (cfg) => cfg.imbalanceBetween.minDurationS,
  evaluate(_view, ctx) {
    const c = ctx.cfg.imbalanceBetween;
    const out = new Observations(ctx, this.id, 'building');
    for (const [substationId, buildings] of ctx.substations) {
      const judged = buildings
        .map((b) => ctx.picture(b.id))
        .filter(
          (p) => p.weightedMeanC !== undefined && p.units.length >= ctx.cfg.buildingCold.minFreshSensors,
        );
      if (judged.length < c.minBuildings) continue;
      const total = judged.reduce((a, p) => a + (p.weightedMeanC ?? 0), 0);
      for (const p of judged) {
        const t = p.weightedMeanC ?? 0;
        const othersC = (total - t) / (judged.length - 1);
        const behindC = othersC - t;
        const level = behindC > c.raiseBelowC ? 'raise' : behindC < c.clearBelowC ? 'clear' : 'hold';
        out.add(p.buildingId, substationId, level, behindC, () => ({
          ...pictureEvidence(p, coldLineC(ctx.cfg)),
          neighboursMeanC: round2(othersC),
          behindC: round2(behindC),
          raiseBelowC: c.raiseBelowC,
          clearBelowC: c.clearBelowC,
        }));
      }
    }
    return out.list;
  },
};
