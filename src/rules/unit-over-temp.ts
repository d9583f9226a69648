import { unitObservations } from './observations.ts';
import type { RuleNode } from './types.ts';
import { round2 } from './view.ts';

/** A unit far above the line wastes heat; raised above `raiseAboveC`, cleared below `clearBelowC`. */
export const unitOverTemp: RuleNode = {
  id: 'unit-over-temp',
  enabled: (cfg) => cfg.unitHot.enabled,
  minDurationS: (cfg) => cfg.unitHot.minDurationS,
  evaluate(_view, ctx) {
    const { raiseAboveC, clearBelowC } = ctx.cfg.unitHot;
    return unitObservations(
      ctx,
      this.id,
      (tempC) => (tempC > raiseAboveC ? 'raise' : tempC < clearBelowC ? 'clear' : 'hold'),
      (u) => ({ tempC: round2(u.tempC), raiseAboveC, clearBelowC }),
    );
  },
};
