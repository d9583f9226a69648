import { buildingOverTemp } from './building-over-temp.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import { supplyNeeds } from './diagnose-raise.ts';
import { anyFlap, type Diagnosed, type Estate, firedOf, prediction, wholeEstate } from './estate.ts';
import { estateWarm } from './estate-warm.ts';
import { round1, round2 } from './view.ts';

/**
 * Lower the estate's supply offset: most of its buildings over-heated, or the estate runs warm
 * (its coldest monitored flat well above the floor, issue #11 §2), and none of it cold.
 */
export function substationOverheat(e: Estate): Diagnosed[] {
  const { cfg, sid, resp } = e;
  const hotB = e.judged.filter((b) => e.f.hot.has(b.id));
  const warm = e.f.warm.get(sid);
  // Flats that need more supply (diagnose-raise.ts) are never lowered against.
  if (e.trulyCold.length > 0 || e.subMeasure === undefined || supplyNeeds(e).length > 0) return [];
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
  const settling = e.inp.settlingLowering?.(e.sid);
  // A lowering re-checked earlier is still in force (the offset below the curve): it is taken back
  // first when flats cool again (a colder day), before any valve or further supply.
  const lowering =
    settling ?? (e.sp.supplyOffsetC < 0 ? { ticketId: 'in force', deltaC: e.sp.supplyOffsetC } : undefined);
  if (!lowering || e.subMeasure === undefined) return [];
  if (wholeEstate(e, e.trulyCold.length)) return []; // substationCold raises the whole estate
  // A monitored flat used up half the margin the lowering was sized to keep: it is going cold.
  const guardC = e.cfg.requiredTempC + e.cfg.diagnosis.lowerFloorMarginC / 2;
  const flatCooling = e.coldestUnitC !== undefined && e.coldestUnitC < guardC;
  if (e.trulyCold.length === 0 && !flatCooling) return [];
  const stepC = Math.min(
    -lowering.deltaC,
    e.cfg.autoApprove.enabled ? e.cfg.autoApprove.maxOffsetStepC : e.cfg.limits.maxOffsetStepC,
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
        summary: `${e.sid}: ${cold.length ? `${cold.map((c) => c.buildingId).join(', ')} cold` : `a monitored flat at ${round1(e.coldestUnitC!)} °C`} ${settling ? `while lowering ${settling.ticketId} settles` : `with the supply ${round1(-lowering.deltaC)} °C below its curve`}: undo it (+${round1(stepC)} °C)`,
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
