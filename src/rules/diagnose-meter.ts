import { buildingUnderTemp } from './building-under-temp.ts';
import { type Diagnosed, type Estate, field } from './estate.ts';
import { supplyTracking } from './supply-tracking.ts';
import { round1, round2 } from './view.ts';

/**
 * The substation's measured supply does not follow its curve with the setpoint in force (the
 * `supply-tracking` finding): the command did not take effect. A task for people on site, on the
 * substation; heatwatch raises none of its supply meanwhile (`meterVerdict`).
 */
export function supplyNotFollowing(e: Estate): Diagnosed[] {
  const f = e.f.tracking.get(e.sid);
  if (!f) return [];
  const ev = f.evidence;
  const below = f.valueC < 0;
  const what = below
    ? 'the command did not take effect: check the controller, its control valve, the primary side and whether the source is at its capacity'
    : 'supply above what heatwatch asked: check the controller and its setpoint (a manual override?)';
  return [
    field(
      e,
      { kind: 'substation', id: e.sid, valueC: f.valueC },
      'supply_tracking',
      [supplyTracking.id],
      { ...ev, meter: e.meter },
      e.baselineOf(f.valueC),
      `${e.sid}: supply ${round1(Number(ev.measuredSupplyC))} °C where its curve and setpoint ask ${round1(Number(ev.expectedSupplyC))} °C (${round1(f.valueC)} °C) for over ${round1(e.cfg.substationMeter.minDurationS / 3600)} h after the learnt lag (${ev.supplyLagMin} min): ${what}.`,
      f.state === 'flapping',
    ),
  ];
}

/**
 * What the meters say about raising a cold estate's supply, before it is sized: `[]` when its supply
 * already does not follow a setpoint (raising the setpoint would not take effect either; the
 * supply-tracking task speaks), a hydraulic field task when flow is well above its normal while ΔT is
 * well below it (the water passes without giving its heat: a bypass, a valve, the exchanger — not the
 * curve), or nothing: the meters do not stand in the way.
 */
export function meterVerdict(e: Estate): Diagnosed[] | undefined {
  const tracking = e.f.tracking.get(e.sid);
  if (tracking && tracking.valueC < 0) return [];
  const c = e.cfg.substationMeter;
  const r = e.inp.meter?.(e.sid);
  const normal = e.inp.meterNormal?.(e.sid);
  if (!r || r.flowM3h === undefined || !normal || normal.flowM3h <= 0 || normal.deltaTK <= 0)
    return undefined;
  const deltaTK = r.supplyTempC - r.returnTempC;
  const highFlow = r.flowM3h >= normal.flowM3h * (1 + c.highFlowShare);
  const lowDeltaT = deltaTK <= normal.deltaTK * (1 - c.lowDeltaTShare);
  if (!highFlow || !lowDeltaT || e.subMeasure === undefined) return undefined;
  const evidence = {
    coldBuildings: e.trulyCold.map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) })),
    substationMedianC: round2(e.subMeasure),
    meter: e.meter,
    normal: { flowM3h: round2(normal.flowM3h), deltaTK: round2(normal.deltaTK), samples: normal.samples },
    thresholds: { highFlowShare: c.highFlowShare, lowDeltaTShare: c.lowDeltaTShare },
  };
  return [
    field(
      e,
      { kind: 'substation', id: e.sid },
      'substation_cold',
      [buildingUnderTemp.id],
      evidence,
      e.baselineOf(e.subMeasure),
      `${e.sid} cold with flow ${round1(r.flowM3h)} m³/h (normal ${round1(normal.flowM3h)}) and supply/return ΔT ${round1(deltaTK)} K (normal ${round1(normal.deltaTK)}): the water passes without giving its heat — a hydraulic fault (bypass, balancing or control valve, exchanger), not the curve. Check on site; supply is not raised.`,
      e.trulyCold.some((b) => e.f.cold.get(b.id)?.state === 'flapping'),
    ),
  ];
}
