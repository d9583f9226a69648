import type { Observation, RuleNode } from './types.ts';
import { round2 } from './view.ts';

/** A unit far above the line wastes heat; raised above `raiseAboveC`, cleared below `clearBelowC`. */
export const unitOverTemp: RuleNode = {
  id: 'unit-over-temp',
  enabled: (cfg) => cfg.unitHot.enabled,
  minDurationS: (cfg) => cfg.unitHot.minDurationS,
  evaluate(_view, ctx) {
    const { raiseAboveC, clearBelowC } = ctx.cfg.unitHot;
    const out: Observation[] = [];
    for (const b of ctx.buildings) {
      for (const u of ctx.picture(b.id).units) {
        const level = u.tempC > raiseAboveC ? 'raise' : u.tempC < clearBelowC ? 'clear' : 'hold';
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
            tempC: round2(u.tempC),
            raiseAboveC,
            clearBelowC,
          },
        });
      }
    }
    return out;
  },
};
