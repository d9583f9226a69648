import { Observations } from './observations.ts';
import { coldLineC, type RuleNode } from './types.ts';
import { pictureEvidence, round2 } from './view.ts';

/**
 * Exposed units (top, ground, gable) colder than middle units by more than the normal position
 * effect (docs/domain.md: they lose more heat). The normal gap is each building's own, learnt from its
 * healthy history with the network value (measured across healthy buildings, blended with the
 * configured prior) as prior; only the excess over it is a balancing problem.
 */
export const imbalanceInside: RuleNode = {
  id: 'imbalance-inside',
  meaning: { buildingState: 'unbalanced', unhealthyBuilding: true, resolves: 'exposed_cold' },
  enabled: (cfg) => cfg.imbalanceInside.enabled,
  minDurationS: (cfg) => cfg.imbalanceInside.minDurationS,
  evaluate(view, ctx) {
    const c = ctx.cfg.imbalanceInside;
    const out = new Observations(ctx, this.id, 'building');
    // Every building, not only those judged this tick: the normal gap is learnt over all of them and
    // moves every tick, and a building's excess over it with it (its picture is kept, so this is cheap).
    for (const b of view.index.buildings.values()) {
      const p = ctx.picture(b.id);
      if (p.exposedMeanC === undefined || p.middleMeanC === undefined) continue;
      let ex = 0;
      for (const u of p.units) if (!u.classes.includes('middle')) ex++;
      if (ex < c.minSensorsPerSide || p.units.length - ex < c.minSensorsPerSide) continue;
      const gapC = p.middleMeanC - p.exposedMeanC;
      const normalC = ctx.positionGapC(b.id);
      const excessC = gapC - normalC;
      const level = excessC > c.raiseExcessC ? 'raise' : excessC < c.clearExcessC ? 'clear' : 'hold';
      out.add(b.id, b.substationId, level, excessC, () => ({
        ...pictureEvidence(p, coldLineC(ctx.cfg)),
        gapC: round2(gapC),
        normalGapC: round2(normalC),
        networkGapC: round2(ctx.normalGapC),
        excessC: round2(excessC),
        raiseExcessC: c.raiseExcessC,
        clearExcessC: c.clearExcessC,
      }));
    }
    return out.list;
  },
};
