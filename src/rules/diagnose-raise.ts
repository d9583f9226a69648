import type { Action, Problem } from '../tickets/types.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import { meterVerdict } from './diagnose-meter.ts';
import { anyFlap, type Diagnosed, type Estate, field, prediction, valveOf, wholeEstate } from './estate.ts';
import { imbalanceInside } from './imbalance-inside.ts';
import { round1, round2 } from './view.ts';

const HOUR_MS = 3_600_000;

/** A building whose flats need more supply than its own remedies can give them. */
interface SupplyNeed {
  buildingId: string;
  /** The mean of the flats that are cold, °C. */
  measureC: number;
  why: string;
}

/**
 * Buildings that need the estate's supply (docs/rules.md): cold, or a position class of their flats
 * (top, ground, gable or middle units) cold (class-under-temp) and not predicted back at the clear
 * level with what a settling valve opening is expected to bring, with the
 * building's own entry valve fully open (nothing left at the building), or with only the exposed
 * flats cold beyond the normal position effect — their field task (risers, riser valves) takes
 * people and days, so the supply holds those flats warm meanwhile.
 */
export function supplyNeeds(e: Estate): SupplyNeed[] {
  const out: SupplyNeed[] = [];
  for (const b of e.judged) {
    if (!e.f.corner.has(b.id) && !e.trulyCold.includes(b)) continue;
    // Held until the rule clears (line + 2 × clearOffsetC); a valve opening still to show is given
    // its chance once it is predicted to bring the flats back to the clear level.
    const toComeC = valveStillToCome(e, b.id);
    const coldC = e.coldestClassC(b.id) + toComeC;
    if (coldC >= e.clearC + (toComeC > 0 ? 0 : e.cfg.buildingCold.clearOffsetC)) continue;
    if (valveOf(e, b.id) >= e.cfg.limits.maxValvePct)
      out.push({ buildingId: b.id, measureC: coldC, why: 'cold flats with its entry valve open' });
    else if (e.exposedOnly(b.id))
      out.push({
        buildingId: b.id,
        measureC: coldC,
        why: 'exposed flats cold until their risers are seen to',
      });
  }
  return out;
}

/**
 * What a valve opening still settling on the building is expected to bring that has not shown yet,
 * °C: its step × the learnt valve gain × e^(−age / learnt lag) (first order). The supply is raised
 * only for what the valve is not expected to bring.
 */
function valveStillToCome(e: Estate, bid: string): number {
  const v = e.inp.settlingValve?.(bid);
  // A building whose middle flats are warm is short in its exposed ones (risers): its valve warms
  // the middle flats first, so nothing is counted on for the cold ones.
  const middleC = e.inp.picture(bid).middleMeanC;
  if (!v || v.pct <= 0 || (middleC !== undefined && middleC >= e.clearC)) return 0;
  const r = e.inp.response(bid);
  return v.pct * r.valveGainCPerPct * Math.exp(-Math.max(0, e.inp.now - v.ts) / HOUR_MS / r.lagH);
}

/**
 * The substation's supply is short: most of its buildings cold (its heating curve is too low: offset,
 * or too flat, cold only on cold days: slope), or single buildings whose own remedies are used up
 * need it. Sized from the coldest need to target ÷ the learnt gain, within the step limits and the
 * supply headroom; at the limit it is a field task on the substation itself.
 */
export function substationCold(e: Estate): Diagnosed[] {
  const { cfg, sid, resp } = e;
  if (e.subMeasure === undefined) return [];
  const whole = wholeEstate(e, e.trulyCold.length);
  const needs = supplyNeeds(e);
  if (!whole && needs.length === 0) return [];
  // The meters first: a supply that does not follow, or a hydraulic fault, is not fixed by more supply.
  const metered = meterVerdict(e);
  if (metered) return metered;
  const deficitC = Math.max(
    whole ? e.targetC - e.subMeasure : 0,
    ...needs.map((n) => e.targetC - n.measureC),
    0.3,
  );
  const evidence = raiseEvidence(e, needs);
  const { action, problem, supplyRiseC } = sizeRaise(e, deficitC, whole && coldDaysOnly(e));
  const flapping = anyFlap(e.trulyCold.map((b) => e.f.cold.get(b.id)));
  const rules =
    whole || needs.some((n) => e.trulyCold.some((b) => b.id === n.buildingId))
      ? [buildingUnderTemp.id]
      : [imbalanceInside.id];
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
  const cold = whole
    ? `${sid}: ${e.trulyCold.length}/${e.judged.length} buildings cold`
    : `${sid}: ${needs.map((n) => `${n.buildingId} ${n.why} (${round1(n.measureC)} °C)`).join('; ')}`;
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

/** What a raise is judged by: the cold buildings, the needs, the thresholds, the gain, the meter. */
function raiseEvidence(e: Estate, needs: SupplyNeed[]) {
  const { cfg } = e;
  const fit = e.inp.slopeFit(e.sid);
  return {
    coldBuildings: e.trulyCold.map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) })),
    needs: needs.map((n) => ({ ...n, measureC: round2(n.measureC) })),
    judgedBuildings: e.judged.length,
    substationMedianC: round2(e.subMeasure ?? Number.NaN),
    outdoorC: e.inp.outdoorC,
    roomPerOutdoorC: fit && round2(fit.slope),
    setpointInForce: e.sp,
    thresholds: {
      wholeSubstationShare: cfg.diagnosis.wholeSubstationShare,
      coldLineC: e.lineC,
      targetC: e.targetC,
    },
    gainCPerC: round2(e.resp.gainCPerC),
    meter: e.meter,
  };
}

/** Rooms fall with the outdoor temperature (a trusted fit): the curve is too flat, not too low. */
function coldDaysOnly(e: Estate): boolean {
  const d = e.cfg.diagnosis;
  const fit = e.inp.slopeFit(e.sid);
  return (
    fit !== undefined &&
    fit.samples >= d.minSamplesForSlope &&
    fit.spanC >= d.minOutdoorSpanC &&
    fit.slope >= d.slopeSensitivity &&
    e.sub.curve.refOutdoorC - e.outdoorC > 2
  );
}

/**
 * The raise: a slope step on cold-days-only, else an offset step, within the limits. With
 * auto-approve on, a step is at most what the policy applies on its own, so it acts now and the next
 * step follows its (early) re-check rather than an operator's approval hours later.
 */
function sizeRaise(
  e: Estate,
  deficitC: number,
  slope: boolean,
): { action: Action; problem: Problem; supplyRiseC: number } {
  const { cfg, sp, resp } = e;
  const auto = cfg.autoApprove.enabled;
  if (slope) {
    const perSlope = e.sub.curve.refOutdoorC - e.outdoorC;
    const delta = Math.min(
      deficitC / resp.gainCPerC / perSlope,
      cfg.limits.maxSlopeStep,
      auto ? cfg.autoApprove.maxSlopeStep : cfg.limits.maxSlopeStep,
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
    auto ? cfg.autoApprove.maxOffsetStepC : cfg.limits.maxOffsetStepC,
    cfg.limits.maxOffsetC - sp.supplyOffsetC,
    Math.max(0, e.supplyHeadroomC),
  );
  // Rounded down, so the rounding can never step over a limit.
  const stepC = Math.floor(deltaC * 10) / 10;
  return { problem: 'substation_cold', action: { kind: 'supply-offset', deltaC: stepC }, supplyRiseC: stepC };
}
