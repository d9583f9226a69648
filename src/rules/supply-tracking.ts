import type { Level, Observation, RuleNode } from './types.ts';
import { round1, round2 } from './view.ts';

/**
 * A substation whose measured supply does not follow its heating curve with the setpoint in force
 * (issue #11 §2): judged only once the learnt supply lag has passed `settleLags` times since the
 * setpoint last changed, so a command still taking effect is not a fault. Below: the command did not
 * take effect (controller, control valve, primary side, or a source at its capacity); above: supply
 * the engine did not ask for. Either way more or less supply from heatwatch would not do what it says.
 */
export const supplyTracking: RuleNode = {
  id: 'supply-tracking',
  meaning: { resolves: 'supply_tracking' },
  enabled: (cfg) => cfg.substationMeter.enabled,
  minDurationS: (cfg) => cfg.substationMeter.minDurationS,
  evaluate(view, ctx) {
    const c = ctx.cfg.substationMeter;
    const out: Observation[] = [];
    for (const sid of view.index.substations.keys()) {
      const x = ctx.supply?.(sid);
      if (!x) continue;
      const tracked = ctx.tracked(this.id, sid);
      const offC = Math.abs(x.deviationC);
      let level: Level = offC >= c.raiseDeviationC ? 'raise' : offC < c.clearDeviationC ? 'clear' : 'hold';
      // Still settling after a setpoint change: nothing new is raised, a held condition holds.
      if (ctx.now < x.settledTs && level === 'raise') level = 'hold';
      if (level !== 'raise' && !tracked) continue;
      out.push({
        rule: this.id,
        targetKind: 'substation',
        targetId: sid,
        substationId: sid,
        level,
        valueC: x.deviationC,
        evidence: {
          measuredSupplyC: round2(x.measuredC),
          expectedSupplyC: round2(x.expectedC),
          deviationC: round2(x.deviationC),
          offsetInForceC: x.offsetC,
          slopeDeltaInForce: x.slopeDelta,
          controllerOutdoorC: round2(x.outdoorC),
          setpointChangedTs: x.changedTs,
          supplyLagMin: round1(x.lagMin),
          supplyLagLearnt: x.lagLearnt,
          raiseDeviationC: c.raiseDeviationC,
          clearDeviationC: c.clearDeviationC,
        },
      });
    }
    return out;
  },
};
