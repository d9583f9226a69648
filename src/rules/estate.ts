import type { RulesConfig } from '../config/rules-schema.ts';
import type { SubstationReading } from '../core/readings.ts';
import type { Building, RegistryIndex, Substation } from '../core/registry.ts';
import type { Baseline, Problem, Proposal, SetpointInForce } from '../tickets/types.ts';
import { buildingOverTemp } from './building-over-temp.ts';
import { buildingUnderTemp } from './building-under-temp.ts';
import { classUnderTemp, coldestClassOf } from './class-under-temp.ts';
import { coldSpell } from './cold-spell.ts';
import { coverage } from './coverage.ts';
import { estateWarm } from './estate-warm.ts';
import { imbalanceBetween } from './imbalance-between.ts';
import { imbalanceInside } from './imbalance-inside.ts';
import type { SupplyExpectation } from './meter-watch.ts';
import type { ResponseEstimate, SlopeFit } from './response-learner.ts';
import { sensorHealth } from './sensor-health.ts';
import { supplyTracking } from './supply-tracking.ts';
import { coldLineC, type Finding, type RuleNode } from './types.ts';
import { type BuildingPicture, round1, round2 } from './view.ts';

export interface DiagnosisInput {
  cfg: RulesConfig;
  now: number;
  index: RegistryIndex;
  findings: readonly Finding[];
  picture(buildingId: string): BuildingPicture;
  outdoorC?: number;
  /** Normal middle − exposed gap (°C), measured across healthy buildings. */
  normalGapC: number;
  /** A building's own normal gap (°C), learnt from its history with the network value as prior. */
  positionGapC?(buildingId: string): number;
  setpoint(substationId: string): SetpointInForce;
  /** The supply lowering (°C, negative) of the estate still settling, with its ticket, if any. */
  settlingLowering?(substationId: string): { ticketId: string; deltaC: number } | undefined;
  /** A valve opening still settling on the building: how far it opened (%) and when it was applied. */
  settlingValve?(buildingId: string): { pct: number; ts: number } | undefined;
  response(targetId: string): ResponseEstimate;
  /** Room mean against outdoor temperature over the kept samples (°C room per °C outdoor). */
  slopeFit(substationId: string): SlopeFit | undefined;
  /** What the substation's supply should be beside what its meter measures (MeterWatch). */
  supply?(substationId: string): SupplyExpectation | undefined;
  /** The substation's normal flow and supply/return ΔT (median of its hourly meter samples). */
  meterNormal?(substationId: string): { flowM3h: number; deltaTK: number; samples: number } | undefined;
  /** The substation meter's latest reading, if any. */
  meter?(substationId: string): SubstationReading | undefined;
}

export interface Diagnosed {
  proposal: Proposal;
  /** The condition behind it is flapping: mark the open ticket, raise nothing new. */
  flapping: boolean;
}

/** The active findings of each rule the diagnosis reads, by target. */
export interface FindingSets {
  cold: Map<string, Finding>;
  /** Buildings whose coldest position class is cold (class-under-temp). */
  corner: Map<string, Finding>;
  behind: Map<string, Finding>;
  inside: Map<string, Finding>;
  hot: Map<string, Finding>;
  spell: Map<string, Finding>;
  cover: Map<string, Finding>;
  health: Map<string, Finding>;
  warm: Map<string, Finding>;
  /** Substations whose measured supply does not follow the curve and setpoint. */
  tracking: Map<string, Finding>;
}

/** One substation's estate as every cause function sees it (computed once per substation). */
export interface Estate {
  inp: DiagnosisInput;
  cfg: RulesConfig;
  f: FindingSets;
  sid: string;
  sub: Substation;
  sp: SetpointInForce;
  resp: ResponseEstimate;
  buildings: Building[];
  /** Buildings with a class-weighted mean (fresh units). */
  judged: Building[];
  /** Cold buildings whose cold is not only their exposed units. */
  trulyCold: Building[];
  subMeasure?: number;
  outdoorC: number;
  /** Supply the curve gives before the controller's own clamp, with the given changes. */
  rawSupplyC(offsetC: number, slopeDelta: number, outdoorC: number): number;
  supplyHeadroomC: number;
  lineC: number;
  targetC: number;
  meanOf(b: string): number;
  /** Only exposed units cold, middle units fine: balancing inside the building (and supply meanwhile). */
  exposedOnly(b: string): boolean;
  /** The coldest position-class mean of a building (top, ground, gable, middle), °C. */
  coldestClassC(b: string): number;
  /** The level a cold building must be back at to clear (line + buildingCold.clearOffsetC), °C. */
  clearC: number;
  /** The coldest fresh monitored unit of the estate, °C (what a lowering must keep warm). */
  coldestUnitC?: number;
  /** What the substation's meters say (supply, return, ΔT, flow, heat), for the evidence. */
  meter?: Record<string, number | undefined>;
  baselineOf(valueC: number): Baseline;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

/** The value a substation-level ticket is judged by: the median class-weighted building mean. */
export function substationMeasure(
  index: RegistryIndex,
  substationId: string,
  picture: (b: string) => BuildingPicture,
): number | undefined {
  const xs = (index.buildingsBySubstation.get(substationId) ?? [])
    .map((b) => picture(b.id).weightedMeanC)
    .filter((x): x is number => x !== undefined);
  return xs.length ? median(xs) : undefined;
}

/**
 * The findings of this tick, by rule and target. A finding no rule judged at `now` (its sensors went
 * silent) keeps old evidence: no ticket is raised from it (issue #20 item 4).
 */
export function findingSets(findings: readonly Finding[], now: number): FindingSets {
  const by = (node: RuleNode) => {
    const m = new Map<string, Finding>();
    for (const f of findings)
      if (f.rule === node.id && (f.seenTs === undefined || f.seenTs >= now)) m.set(f.targetId, f);
    return m;
  };
  return {
    cold: by(buildingUnderTemp),
    corner: by(classUnderTemp),
    behind: by(imbalanceBetween),
    inside: by(imbalanceInside),
    hot: by(buildingOverTemp),
    spell: by(coldSpell),
    cover: by(coverage),
    health: by(sensorHealth),
    warm: by(estateWarm),
    tracking: by(supplyTracking),
  };
}

export function estateOf(inp: DiagnosisInput, f: FindingSets, sid: string, buildings: Building[]): Estate {
  const { cfg } = inp;
  const sub = inp.index.substations.get(sid)!;
  const sp = inp.setpoint(sid);
  const lineC = coldLineC(cfg);
  const judged = buildings.filter((b) => inp.picture(b.id).weightedMeanC !== undefined);
  const exposedOnly = (b: string) => {
    const p = inp.picture(b);
    if (p.middleMeanC === undefined || p.middleMeanC < lineC + cfg.buildingCold.clearOffsetC) return false;
    // Judged from the picture too, so a valve is never proposed in the hour before the
    // imbalance rule's longer minimum duration has passed.
    const excessC =
      p.exposedMeanC === undefined
        ? 0
        : p.middleMeanC - p.exposedMeanC - (inp.positionGapC?.(b) ?? inp.normalGapC);
    return f.inside.has(b) || excessC > cfg.imbalanceInside.raiseExcessC;
  };
  const rawSupplyC = (offsetC: number, slopeDelta: number, outdoorC: number) =>
    sub.curve.refSupplyC + (sub.curve.slope + slopeDelta) * (sub.curve.refOutdoorC - outdoorC) + offsetC;
  const outdoorC = inp.outdoorC ?? sub.curve.refOutdoorC;
  return {
    inp,
    cfg,
    f,
    sid,
    sub,
    sp,
    resp: inp.response(sid),
    buildings,
    judged,
    trulyCold: judged.filter((b) => f.cold.has(b.id) && !exposedOnly(b.id)),
    subMeasure: substationMeasure(inp.index, sid, inp.picture),
    outdoorC,
    rawSupplyC,
    supplyHeadroomC:
      cfg.limits.maxSupplyTempC - rawSupplyC(sp.supplyOffsetC + sp.preheatOffsetC, sp.slopeDelta, outdoorC),
    lineC,
    targetC: cfg.requiredTempC + cfg.response.targetMarginC,
    meanOf: (b) => inp.picture(b).weightedMeanC ?? Number.NaN,
    exposedOnly,
    coldestClassC: (b) => coldestClassOf(inp.picture(b).classMeans) ?? Number.POSITIVE_INFINITY,
    clearC: lineC + cfg.buildingCold.clearOffsetC,
    coldestUnitC: coldestUnit(inp, judged),
    meter: meterEvidence(inp.meter?.(sid)),
    baselineOf: (valueC) => ({ valueC: round2(valueC), outdoorC: inp.outdoorC, ts: inp.now }),
  };
}

/** The meter's figures a supply decision is read beside: is supply following, is heat delivered. */
function meterEvidence(r: SubstationReading | undefined): Record<string, number | undefined> | undefined {
  if (!r) return undefined;
  return {
    ts: r.ts,
    supplyTempC: round2(r.supplyTempC),
    returnTempC: round2(r.returnTempC),
    deltaTC: round2(r.supplyTempC - r.returnTempC),
    flowM3h: r.flowM3h,
    heatKw: r.heatKw,
    reportedOffsetC: r.supplyOffsetC,
  };
}

function coldestUnit(inp: DiagnosisInput, judged: Building[]): number | undefined {
  let min: number | undefined;
  for (const b of judged)
    for (const u of inp.picture(b.id).units) if (min === undefined || u.tempC < min) min = u.tempC;
  return min;
}

/** Whether enough of the estate's judged buildings are in `list` to call it the whole estate. */
export const wholeEstate = (e: Estate, count: number): boolean =>
  e.judged.length > 0 && count >= Math.max(1, e.cfg.diagnosis.wholeSubstationShare * e.judged.length);

/** A building's entry-valve opening in force (the commissioning value where heatwatch set none), %. */
export const valveOf = (e: Estate, b: string): number =>
  e.sp.buildingValves[b] ?? e.cfg.limits.nominalValvePct;

/** What crossed a finding's threshold when it fired (ticket evidence, issue #20 item 4). */
export const firedOf = (f: Finding | undefined) =>
  f?.fired && { ts: f.fired.ts, valueC: round2(f.fired.valueC) };

export const anyFlap = (fs: Array<Finding | undefined>): boolean => fs.some((f) => f?.state === 'flapping');

export function prediction(fromC: number, deltaC: number, lagH: number, what: string) {
  return {
    deltaC: round2(deltaC),
    expectedC: round2(fromC + deltaC),
    afterH: round1(lagH),
    text: `${what}: ${deltaC >= 0 ? '+' : ''}${round1(deltaC)} °C in the rooms within about ${round1(lagH * 2)} h (from ${round1(fromC)} °C)`,
  };
}

/** A task for people on site: never auto-approved, judged at its re-check. */
export function field(
  e: Estate,
  target: { kind: 'building' | 'substation'; id: string; valueC?: number },
  problem: Problem,
  rules: string[],
  evidence: Record<string, unknown>,
  baseline: Baseline,
  task: string,
  flapping: boolean,
): Diagnosed {
  const resp = target.kind === 'substation' ? e.resp : e.inp.response(target.id);
  return {
    flapping,
    proposal: {
      problem,
      targetKind: target.kind,
      targetId: target.id,
      substationId: e.sid,
      rules,
      summary: task,
      evidence,
      action: { kind: 'field', task },
      predicted: {
        deltaC: 0,
        expectedC: target.valueC ?? baseline.valueC,
        afterH: resp.lagH,
        text: 'field work; judged at the re-check',
      },
      baseline,
      autoApprovable: false,
    },
  };
}
