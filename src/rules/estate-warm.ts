import { Observations } from './observations.ts';
import type { RuleNode } from './types.ts';
import { round2 } from './view.ts';

/**
 * An estate that runs warm (issue #11 §2): even its coldest monitored flat is well above what the
 * required temperature needs plus the lowering margin, for hours. Heat is wasted on every flat, so
 * its supply can come down in safe steps. Judged only when every building of the estate has enough
 * fresh sensors: a silent building's coldest flat is unknown, and unknown is not warm.
 */
export const estateWarm: RuleNode = {
  id: 'estate-warm',
  enabled: (cfg) => cfg.estateWarm.enabled,
  minDurationS: (cfg) => cfg.estateWarm.minDurationS,
  evaluate(_view, ctx) {
    const c = ctx.cfg.estateWarm;
    const floorC = ctx.cfg.requiredTempC + ctx.cfg.diagnosis.lowerFloorMarginC;
    const out = new Observations(ctx, this.id, 'substation');
    for (const [substationId, buildings] of ctx.substations) {
      let coldest: { sensorId: string; buildingId: string; tempC: number } | undefined;
      let covered = buildings.length > 0;
      for (const b of buildings) {
        const p = ctx.picture(b.id);
        if (p.units.length < ctx.cfg.buildingCold.minFreshSensors) covered = false;
        for (const u of p.units)
          if (!coldest || u.tempC < coldest.tempC)
            coldest = { sensorId: u.sensorId, buildingId: b.id, tempC: u.tempC };
      }
      if (!covered || !coldest) continue;
      const aboveC = coldest.tempC - floorC;
      const level = aboveC >= c.raiseAboveFloorC ? 'raise' : aboveC < c.clearAboveFloorC ? 'clear' : 'hold';
      out.add(substationId, substationId, level, aboveC, () => ({
        coldestUnit: { ...coldest, tempC: round2(coldest.tempC) },
        floorC,
        aboveFloorC: round2(aboveC),
        raiseAboveFloorC: c.raiseAboveFloorC,
        clearAboveFloorC: c.clearAboveFloorC,
      }));
    }
    return out.list;
  },
};
