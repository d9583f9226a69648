import { unitObservations } from './observations.ts';
import { coldLineC, type RuleNode } from './types.ts';
import { round2 } from './view.ts';

/**
 * A unit below the required temperature (18 °C, GB/T 33833 practice) minus the measurement tolerance;
 * it clears only `clearMarginC` above that line (hysteresis).
 */
export const unitUnderTemp: RuleNode = {
  id: 'unit-under-temp',
  meaning: { coldFlat: true },
  enabled: (cfg) => cfg.unitCold.enabled,
  minDurationS: (cfg) => cfg.unitCold.minDurationS,
  evaluate(_view, ctx) {
    const line = coldLineC(ctx.cfg);
    const clearAt = line + ctx.cfg.unitCold.clearMarginC;
    return unitObservations(
      ctx,
      this.id,
      (tempC) => (tempC < line ? 'raise' : tempC >= clearAt ? 'clear' : 'hold'),
      (u) => ({ classes: u.classes, tempC: round2(u.tempC), raiseBelowC: line, clearAtC: clearAt }),
    );
  },
};
