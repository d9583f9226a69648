import type { Building } from '../core/registry.ts';
import type { Proposal } from '../tickets/types.ts';
import { buildingOverTemp } from './building-over-temp.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import {
  anyFlap,
  type Diagnosed,
  type Estate,
  field,
  firedOf,
  prediction,
  valveOf,
  wholeEstate,
} from './estate.ts';
import { imbalanceBetween } from './imbalance-between.ts';
import { pictureEvidence, round1, round2 } from './view.ts';

/**
 * Single buildings cold (or behind their neighbours) while the estate is fine: a flow-share problem.
 * Open the building's own entry valve; when it is open already, throttle over-heated neighbours;
 * failing both, a field task on the building branch (strainer, low flow).
 */
export function buildingFlowShare(e: Estate): Diagnosed[] {
  if (wholeEstate(e, e.trulyCold.length) && e.subMeasure !== undefined) return [];
  const flowCold = new Set<string>([
    ...e.trulyCold.map((b) => b.id),
    // Behind its neighbours but at or above the target is not cold: no valve opens for it (issue #20 item 4).
    ...e.judged
      .filter((b) => e.f.behind.has(b.id) && !e.exposedOnly(b.id) && e.meanOf(b.id) < e.targetC)
      .map((b) => b.id),
  ]);
  const out: Diagnosed[] = [];
  for (const bid of flowCold) {
    const d = openOwnValve(e, bid) ?? throttleNeighbours(e, bid, flowCold) ?? branchTask(e, bid);
    out.push(d);
  }
  // Cold corners (class-under-temp) with its middle flats cool too and a clearly normal position
  // effect (the exposed flats no further behind the middle ones than the imbalance rule's clear
  // level): the building is short of flow; its valve opens (at its limit, the estate's supply takes
  // over). Warm middle flats or a larger gap: the risers' matter (exposed_cold), never the valve's.
  for (const b of e.judged) {
    if (flowCold.has(b.id) || e.exposedOnly(b.id) || !e.f.corner.has(b.id)) continue;
    if (gapExcessC(e, b.id) >= e.cfg.imbalanceInside.clearExcessC) continue;
    const d = openOwnValve(e, b.id);
    if (d) out.push(d);
  }
  return out;
}

/** How far a building's exposed flats are further behind its middle ones than its normal gap, °C. */
function gapExcessC(e: Estate, bid: string): number {
  const p = e.inp.picture(bid);
  if (p.middleMeanC === undefined || p.exposedMeanC === undefined) return 0;
  return p.middleMeanC - p.exposedMeanC - (e.inp.positionGapC?.(bid) ?? e.inp.normalGapC);
}

function flowEvidence(e: Estate, bid: string) {
  const { cfg } = e;
  const p = e.inp.picture(bid);
  const bResp = e.inp.response(bid);
  const deficitC = Math.max(
    e.targetC - Math.min(p.weightedMeanC!, e.coldestClassC(bid)),
    (e.f.behind.get(bid)?.valueC ?? 0) - cfg.imbalanceBetween.clearBelowC,
    0.3,
  );
  const v = valveOf(e, bid);
  const rules = [
    e.f.cold.has(bid) || !e.f.behind.has(bid) ? buildingUnderTemp.id : '',
    e.f.behind.has(bid) ? imbalanceBetween.id : '',
  ].filter(Boolean);
  const evidence = {
    ...pictureEvidence(p, e.lineC),
    neighbours: e.judged
      .filter((b) => b.id !== bid)
      .map((b) => ({ buildingId: b.id, weightedMeanC: round2(e.meanOf(b.id)) })),
    entryValvePct: v,
    thresholds: { coldLineC: e.lineC, targetC: e.targetC, behindRaiseC: cfg.imbalanceBetween.raiseBelowC },
    valveGainCPerPct: round2(bResp.valveGainCPerPct),
    fired: firedOf(e.f.cold.get(bid)) ?? firedOf(e.f.behind.get(bid)),
  };
  const flapping = anyFlap([e.f.cold.get(bid), e.f.behind.get(bid)]);
  return { meanC: p.weightedMeanC!, bResp, deficitC, v, rules, evidence, flapping };
}

function openOwnValve(e: Estate, bid: string): Diagnosed | undefined {
  const { cfg } = e;
  const x = flowEvidence(e, bid);
  const ownStep = Math.min(
    x.deficitC / x.bResp.valveGainCPerPct,
    cfg.limits.maxValveStepPct,
    cfg.limits.maxValvePct - x.v,
  );
  if (ownStep < 2) return undefined;
  const to = Math.round(x.v + ownStep);
  return coldBuilding(e, bid, x, {
    summary: `${bid} cold (${round1(x.meanC)} °C) while its neighbours are fine: open its entry valve ${x.v} → ${to} %`,
    action: { kind: 'valves', valves: { [bid]: to }, previous: { [bid]: x.v } },
    predicted: prediction(
      x.meanC,
      (to - x.v) * x.bResp.valveGainCPerPct,
      x.bResp.lagH,
      `entry valve +${to - x.v} %`,
    ),
    autoApprovable: to - x.v <= cfg.autoApprove.maxValveStepPct,
  });
}

/** A `building_cold` proposal for `bid` with its flow evidence. */
function coldBuilding(
  e: Estate,
  bid: string,
  x: ReturnType<typeof flowEvidence>,
  what: Pick<Proposal, 'summary' | 'action' | 'predicted' | 'autoApprovable'>,
): Diagnosed {
  return {
    flapping: x.flapping,
    proposal: {
      problem: 'building_cold',
      targetKind: 'building',
      targetId: bid,
      substationId: e.sid,
      rules: x.rules,
      evidence: x.evidence,
      baseline: e.baselineOf(x.meanC),
      ...what,
    },
  };
}

/** Own valve fully open: give it flow by throttling over-heated neighbours, if there are any. */
function throttleNeighbours(e: Estate, bid: string, flowCold: Set<string>): Diagnosed | undefined {
  const { cfg } = e;
  const x = flowEvidence(e, bid);
  const warm = e.judged.filter(
    (b) => b.id !== bid && !flowCold.has(b.id) && e.meanOf(b.id) >= cfg.diagnosis.throttleNeighboursAboveC,
  );
  const valves: Record<string, number> = {};
  const previous: Record<string, number> = {};
  for (const w of warm) {
    const wv = valveOf(e, w.id);
    const slackC = e.meanOf(w.id) - (e.targetC + 0.5);
    const step = Math.min(
      slackC / x.bResp.valveGainCPerPct,
      cfg.limits.maxValveStepPct,
      wv - cfg.limits.minValvePct,
    );
    if (step < 2) continue;
    valves[w.id] = Math.round(wv - step);
    previous[w.id] = wv;
  }
  if (Object.keys(valves).length === 0) return undefined;
  const list = Object.entries(valves)
    .map(([k, to]) => `${k} → ${to} %`)
    .join(', ');
  return coldBuilding(e, bid, x, {
    summary: `${bid} cold with its entry valve open: throttle warm neighbours ${list}`,
    action: { kind: 'valves', valves, previous },
    predicted: prediction(x.meanC, 0.5, x.bResp.lagH, 'more flow share from throttled neighbours'),
    // Throttling takes heat from residents who did not ask: an operator decides.
    autoApprovable: false,
  });
}

function branchTask(e: Estate, bid: string): Diagnosed {
  const x = flowEvidence(e, bid);
  return field(
    e,
    { kind: 'building', id: bid },
    'building_cold',
    x.rules,
    x.evidence,
    e.baselineOf(x.meanC),
    `${bid} stays cold with its entry valve at ${x.v} %: check its strainer/filter and the building branch (low flow).`,
    x.flapping,
  );
}

/** A few buildings over-heated while the rest of the estate is not: throttle each one's entry valve. */
export function buildingOverheat(e: Estate): Diagnosed[] {
  const hotB = e.judged.filter((b) => e.f.hot.has(b.id));
  if (e.trulyCold.length > 0 || hotB.length === 0 || e.subMeasure === undefined) return [];
  // The whole estate is lowered instead; its buildings wait for that to settle.
  if (wholeEstate(e, hotB.length) || e.f.warm.has(e.sid)) return [];
  return hotB.map((b) => throttleHot(e, b)).filter((d): d is Diagnosed => d !== undefined);
}

function throttleHot(e: Estate, b: Building): Diagnosed | undefined {
  const { cfg } = e;
  const bResp = e.inp.response(b.id);
  const v = valveOf(e, b.id);
  const meanC = e.meanOf(b.id);
  const step = Math.min(
    (meanC - (e.targetC + 1)) / bResp.valveGainCPerPct,
    cfg.limits.maxValveStepPct,
    v - cfg.limits.minValvePct,
  );
  if (step < 2) return undefined;
  const to = Math.round(v - step);
  return {
    flapping: anyFlap([e.f.hot.get(b.id)]),
    proposal: {
      problem: 'building_overheat',
      targetKind: 'building',
      targetId: b.id,
      substationId: e.sid,
      rules: [buildingOverTemp.id],
      summary: `${b.id} over-heated (${round1(meanC)} °C): throttle its entry valve ${v} → ${to} %`,
      evidence: { ...pictureEvidence(e.inp.picture(b.id), e.lineC), entryValvePct: v },
      action: { kind: 'valves', valves: { [b.id]: to }, previous: { [b.id]: v } },
      predicted: prediction(
        meanC,
        -(v - to) * bResp.valveGainCPerPct,
        bResp.lagH,
        `entry valve −${v - to} %`,
      ),
      baseline: e.baselineOf(meanC),
      autoApprovable: v - to <= cfg.autoApprove.maxValveStepPct,
    },
  };
}
