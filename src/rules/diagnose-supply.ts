import type { Action, Problem } from '../tickets/types.ts';
import { buildingOverTemp } from './building-over-temp.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import { meterVerdict } from './diagnose-meter.ts';
import { anyFlap, type Diagnosed, type Estate, field, firedOf, prediction } from './estate.ts';
import { estateWarm } from './estate-warm.ts';
import { round1, round2 } from './view.ts';

/** Whether enough of the estate's judged buildings are in `list` to call it the whole estate. */
export const wholeEstate = (e: Estate, count: number): boolean =>
  e.judged.length > 0 && count >= Math.max(1, e.cfg.diagnosis.wholeSubstationShare * e.judged.length);

/**
 * The whole substation cold: its heating curve is too low (level → supply offset) or too flat (cold
 * only on cold days → slope). Sized deficit ÷ learnt gain, within the step limits and the supply
 * headroom; at the limit it is a field task on the substation itself.
 */
export function substationCold(e: Estate): Diagnosed[] {
  const { cfg, sid, sp, resp } = e;
  if (!wholeEstate(e, e.trulyCold.length) || e.subMeasure === undefined) return [];
  // The meters first: a supply that does not follow, or a hydraulic fault, is not fixed by more supply.
  const metered = meterVerdict(e);
  if (metered) return metered;
  const deficitC = Math.max(e.targetC - e.subMeasure, 0.3);
  const fit = e.inp.slopeFit(sid);
  const coldDaysOnly =
    fit !== undefined &&
    fit.samples >= cfg.diagnosis.minSamplesForSlope &&
    fit.spanC >= cfg.diagnosis.minOutdoorSpanC &&
    fit.slope >= cfg.diagnosis.slopeSensitivity &&
    e.sub.curve.refOutdoorC - e.outdoorC > 2;
  const evidence = {
    coldBuildings: e.trulyCold.map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) })),
    judgedBuildings: e.judged.length,
    substationMedianC: round2(e.subMeasure),
    outdoorC: e.inp.outdoorC,
    roomPerOutdoorC: fit && round2(fit.slope),
    setpointInForce: sp,
    thresholds: {
      wholeSubstationShare: cfg.diagnosis.wholeSubstationShare,
      coldLineC: e.lineC,
      targetC: e.targetC,
    },
    gainCPerC: round2(resp.gainCPerC),
    meter: e.meter,
  };
  const { action, problem, supplyRiseC } = sizeRaise(e, deficitC, coldDaysOnly);
  const flapping = anyFlap(e.trulyCold.map((b) => e.f.cold.get(b.id)));
  const rules = [buildingUnderTemp.id];
  if (supplyRiseC < 0.2)
    return [
      field(
        e,
        { kind: 'substation', id: sid },
        problem,
        rules,
        evidence,
        e.baselineOf(e.subMeasure),
        `Supply of ${sid} is at its limit (max supply ${cfg.limits.maxSupplyTempC} °C / offset ${cfg.limits.maxOffsetC} °C) and the estate is still cold: check the substation (exchanger, pumps, primary side).`,
        flapping,
      ),
    ];
  const small =
    action.kind === 'slope'
      ? action.delta <= cfg.autoApprove.maxSlopeStep
      : action.kind === 'supply-offset' && action.deltaC <= cfg.autoApprove.maxOffsetStepC;
  const cold = `${sid}: ${e.trulyCold.length}/${e.judged.length} buildings cold`;
  return [
    {
      flapping,
      proposal: {
        problem,
        targetKind: 'substation',
        targetId: sid,
        substationId: sid,
        rules,
        summary:
          action.kind === 'slope'
            ? `${cold}, colder on colder days: raise the curve slope by ${action.delta}`
            : `${cold}: raise the supply offset by ${supplyRiseC} °C`,
        evidence,
        action,
        predicted: prediction(
          e.subMeasure,
          supplyRiseC * resp.gainCPerC,
          resp.lagH,
          `supply +${round1(supplyRiseC)} °C`,
        ),
        baseline: e.baselineOf(e.subMeasure),
        autoApprovable: small,
      },
    },
  ];
}

/**
 * Lower the estate's supply offset: most of its buildings over-heated, or the estate runs warm
 * (its coldest monitored flat well above the floor, issue #11 §2), and none of it cold.
 */
export function substationOverheat(e: Estate): Diagnosed[] {
  const { cfg, sid, resp } = e;
  const hotB = e.judged.filter((b) => e.f.hot.has(b.id));
  const warm = e.f.warm.get(sid);
  if (e.trulyCold.length > 0 || e.subMeasure === undefined) return [];
  // Supply that does not follow its setpoint is not lowered further: the steps would pile up unseen.
  if (e.f.tracking.has(sid)) return [];
  const hot = hotB.length > 0 && wholeEstate(e, hotB.length);
  if (!hot && !warm) return [];
  const deltaC = sizeLowering(e, e.subMeasure, !hot);
  if (deltaC > -0.2) return [];
  const why = hot
    ? `${hotB.length}/${e.judged.length} buildings over-heated`
    : `even the coldest monitored flat is ${round1(e.coldestUnitC ?? Number.NaN)} °C`;
  return [
    {
      flapping: anyFlap([...hotB.map((b) => e.f.hot.get(b.id)), warm]),
      proposal: {
        problem: 'overheat',
        targetKind: 'substation',
        targetId: sid,
        substationId: sid,
        rules: [...(hot ? [buildingOverTemp.id] : []), ...(warm ? [estateWarm.id] : [])],
        summary: `${sid}: ${why}: lower the supply offset by ${round1(-deltaC)} °C`,
        evidence: {
          hotBuildings: hotB.map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) })),
          substationMedianC: round2(e.subMeasure),
          coldestUnitC: e.coldestUnitC === undefined ? undefined : round2(e.coldestUnitC),
          fired: firedOf(warm),
          meter: e.meter,
          thresholds: {
            raiseAboveC: cfg.buildingHot.raiseAboveC,
            clearBelowC: cfg.buildingHot.clearBelowC,
            floorC: cfg.requiredTempC + cfg.diagnosis.lowerFloorMarginC,
          },
        },
        action: { kind: 'supply-offset', deltaC: round1(deltaC) },
        predicted: prediction(
          e.subMeasure,
          deltaC * resp.gainCPerC,
          resp.lagH,
          `supply ${round1(deltaC)} °C`,
        ),
        baseline: e.baselineOf(e.subMeasure),
        autoApprovable: -deltaC <= cfg.autoApprove.maxOffsetStepC,
      },
    },
  ];
}

/**
 * A building of the estate went cold, or a monitored flat used up half the lowering margin, while the
 * engine's own lowering of it settles: undo that lowering now rather than leave the flats cold until
 * its re-check (the building's own valve waits while the estate's supply settles).
 */
export function undoLowering(e: Estate): Diagnosed[] {
  const lowering = e.inp.settlingLowering?.(e.sid);
  if (!lowering || e.subMeasure === undefined) return [];
  if (wholeEstate(e, e.trulyCold.length)) return []; // substationCold raises the whole estate
  // A monitored flat used up half the margin the lowering was sized to keep: it is going cold.
  const guardC = e.cfg.requiredTempC + e.cfg.diagnosis.lowerFloorMarginC / 2;
  const flatCooling = e.coldestUnitC !== undefined && e.coldestUnitC < guardC;
  if (e.trulyCold.length === 0 && !flatCooling) return [];
  const stepC = Math.min(
    -lowering.deltaC,
    e.cfg.limits.maxOffsetC - e.sp.supplyOffsetC,
    Math.max(0, e.supplyHeadroomC),
  );
  if (stepC < 0.2) return [];
  const cold = e.trulyCold.map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) }));
  return [
    {
      flapping: anyFlap(e.trulyCold.map((b) => e.f.cold.get(b.id))),
      proposal: {
        problem: 'substation_cold',
        targetKind: 'substation',
        targetId: e.sid,
        substationId: e.sid,
        rules: [buildingUnderTemp.id],
        summary: `${e.sid}: ${cold.length ? `${cold.map((c) => c.buildingId).join(', ')} cold` : `a monitored flat at ${round1(e.coldestUnitC!)} °C`} while lowering ${lowering.ticketId} settles: undo it (+${round1(stepC)} °C)`,
        evidence: {
          coldBuildings: cold,
          coldestUnitC: e.coldestUnitC === undefined ? undefined : round2(e.coldestUnitC),
          guardC,
          lowering,
          meter: e.meter,
          substationMedianC: round2(e.subMeasure),
        },
        action: { kind: 'supply-offset', deltaC: round1(stepC) },
        predicted: prediction(
          e.subMeasure,
          stepC * e.resp.gainCPerC,
          e.resp.lagH,
          `supply +${round1(stepC)} °C`,
        ),
        baseline: e.baselineOf(e.subMeasure),
        // Undoing the engine's own auto-approved step is as safe as the step was.
        autoApprovable: stepC <= e.cfg.autoApprove.maxOffsetStepC,
      },
    },
  ];
}

/** The raise for a cold estate: a slope step on cold-days-only, else an offset step, within the limits. */
function sizeRaise(
  e: Estate,
  deficitC: number,
  coldDaysOnly: boolean,
): { action: Action; problem: Problem; supplyRiseC: number } {
  const { cfg, sp, resp } = e;
  if (coldDaysOnly) {
    const perSlope = e.sub.curve.refOutdoorC - e.outdoorC;
    const delta = Math.min(
      deficitC / resp.gainCPerC / perSlope,
      cfg.limits.maxSlopeStep,
      cfg.limits.maxSlopeDelta - sp.slopeDelta,
      Math.max(0, e.supplyHeadroomC) / perSlope,
    );
    return {
      problem: 'curve_slope',
      action: { kind: 'slope', delta: round2(delta) },
      supplyRiseC: delta * perSlope,
    };
  }
  const deltaC = Math.min(
    deficitC / resp.gainCPerC,
    cfg.limits.maxOffsetStepC,
    cfg.limits.maxOffsetC - sp.supplyOffsetC,
    Math.max(0, e.supplyHeadroomC),
  );
  // Rounded down, so the rounding can never step over a limit.
  const stepC = Math.floor(deltaC * 10) / 10;
  return { problem: 'substation_cold', action: { kind: 'supply-offset', deltaC: stepC }, supplyRiseC: stepC };
}

/**
 * A lowering step: the excess over target + 1 °C ÷ gain, no larger than the auto-approve policy
 * allows (several small steps an operator need not approve, issue #20 item 7), and never so far that
 * the coldest monitored flat is predicted below requiredTempC + diagnosis.lowerFloorMarginC.
 */
function sizeLowering(e: Estate, measureC: number, warmOnly: boolean): number {
  const { cfg, sp, resp } = e;
  const maxStepC = cfg.autoApprove.enabled
    ? Math.min(cfg.limits.maxOffsetStepC, cfg.autoApprove.maxOffsetStepC)
    : cfg.limits.maxOffsetStepC;
  const excessC = measureC - (e.targetC + 1);
  const floorC = cfg.requiredTempC + cfg.diagnosis.lowerFloorMarginC;
  const roomC = e.coldestUnitC === undefined ? 0 : Math.max(0, e.coldestUnitC - floorC);
  // A warm (not hot) estate is lowered by what its coldest flat can spare.
  const wantC = warmOnly ? roomC : Math.max(excessC, 0.3);
  const deltaC = -Math.min(wantC / resp.gainCPerC, maxStepC, roomC / resp.gainCPerC);
  return Math.max(deltaC, cfg.limits.minOffsetC - sp.supplyOffsetC);
}
