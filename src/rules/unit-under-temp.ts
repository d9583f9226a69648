import { coldLineC, type Observation, type RuleNode } from './types.ts';
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
    const out: Observation[] = [];
    for (const b of ctx.buildings) {
      for (const u of ctx.picture(b.id).units) {
        const level = u.tempC < line ? 'raise' : u.tempC >= clearAt ? 'clear' : 'hold';
        if (level !== 'raise' && !ctx.tracked(this.id, u.sensorId)) continue;
        out.push({
          rule: this.id,
          targetKind: 'unit',
          targetId: u.sensorId,
          substationId: b.substationId,
          level,
          valueC: u.tempC,
          evidence: {
            buildingId: b.id,
            floor: u.floor,
            column: u.column,
            classes: u.classes,
            tempC: round2(u.tempC),
            raiseBelowC: line,
            clearAtC: clearAt,
          },
        });
      }
    }
    return out;
  },
};
