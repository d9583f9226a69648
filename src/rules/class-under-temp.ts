import { buildingsBelow } from './building-under-temp.ts';
import { coldLineC, type RuleNode } from './types.ts';
import type { BuildingPicture } from './view.ts';

/** The coldest position-class mean of a building picture (top, ground, gable, middle), °C. */
export const coldestClassOf = (classMeans: Record<string, { meanC: number }>): number | undefined => {
  const xs = Object.values(classMeans).map((c) => c.meanC);
  return xs.length ? Math.min(...xs) : undefined;
};

/**
 * Cold corners: the coldest position class of a building (its top, ground or gable flats, or its
 * middle ones) below the level a cold building must be back at to clear (line +
 * buildingCold.clearOffsetC), though the building as a whole may not be cold. Cleared that far
 * again above it (line + 2 × clearOffsetC). It asks for more heat in the building (its valve, else
 * the estate's supply: diagnose-buildings.ts, diagnose-raise.ts), not a colour of its own.
 */
export const classUnderTemp: RuleNode = {
  id: 'class-under-temp',
  enabled: (cfg) => cfg.buildingCold.enabled,
  minDurationS: (cfg) => cfg.buildingCold.minDurationS,
  evaluate(_view, ctx) {
    const c = ctx.cfg.buildingCold;
    const line = coldLineC(ctx.cfg);
    const coldest = (p: BuildingPicture) => coldestClassOf(p.classMeans);
    return buildingsBelow(this.id, ctx, coldest, line + c.clearOffsetC, line + 2 * c.clearOffsetC);
  },
};
