import type { RulesConfig } from '../config/rules-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Problem, RecheckOutcome, SetpointInForce, Ticket } from '../tickets/types.ts';
import { substationMeasure } from './estate.ts';
import { buildingKey, type ResponseLearner, substationKey } from './response-learner.ts';

const HOUR_MS = 3_600_000;

import { coldLineC, type RuleNode } from './types.ts';
import { type BuildingPicture, round2 } from './view.ts';

/** What the re-check of each problem measures on its target. */
const MEASURED: Record<Problem, 'substation' | 'exposed' | 'building' | 'rule'> = {
  substation_cold: 'substation',
  curve_slope: 'substation',
  overheat: 'substation',
  cold_spell: 'substation',
  building_cold: 'building',
  building_overheat: 'building',
  exposed_cold: 'exposed',
  coverage: 'rule',
  sensor_fault: 'rule',
  supply_tracking: 'rule',
};
const HOT_PROBLEMS: readonly Problem[] = ['overheat', 'building_overheat'];

export interface RecheckInput {
  cfg: RulesConfig;
  now: number;
  index: RegistryIndex;
  picture(buildingId: string): BuildingPicture;
  outdoorNowC?: number;
  learner: ResponseLearner;
  nodes: readonly RuleNode[];
  isActive(rule: string, targetId: string): boolean;
  setpointOf(substationId: string): SetpointInForce;
  /** Heat the substation's meter recorded over [fromTs, toTs) (MeterWatch). */
  heatOver?(
    substationId: string,
    fromTs: number,
    toTs: number,
  ): { kWh: number; samples: number; outdoorC?: number } | undefined;
}

/** The current value of the target (fresh sensors now). */
function instant(inp: RecheckInput, t: Ticket): number | undefined {
  switch (MEASURED[t.problem]) {
    case 'substation':
      return substationMeasure(inp.index, t.substationId, inp.picture);
    case 'exposed':
      return inp.picture(t.targetId).exposedMeanC;
    case 'rule':
      return 0;
    case 'building':
      return inp.picture(t.targetId).weightedMeanC;
  }
}

interface Measured {
  valueC?: number;
  outdoorC?: number;
  how: string;
}

/**
 * What the re-check judges (issue #11 §2): the target's mean over `recheck.windowH` of hourly
 * samples since the action, with the window's mean outdoor temperature; with too few samples, the
 * fresh readings of now; with neither, nothing (the re-check is deferred).
 */
function measure(inp: RecheckInput, t: Ticket): Measured {
  const kind = MEASURED[t.problem];
  const c = inp.cfg.recheck;
  if (kind === 'substation' || kind === 'building') {
    const key = kind === 'substation' ? substationKey(t.substationId) : buildingKey(t.targetId);
    const from = Math.max(inp.now - c.windowH * HOUR_MS, t.appliedTs ?? 0);
    const xs = inp.learner.samplesOf(key).filter((x) => x.ts >= from && x.ts <= inp.now);
    if (xs.length >= c.minWindowSamples) {
      const outs = xs.filter((x) => x.outdoorC !== undefined).map((x) => x.outdoorC!);
      return {
        valueC: xs.reduce((a, x) => a + x.valueC, 0) / xs.length,
        outdoorC: outs.length ? outs.reduce((a, x) => a + x, 0) / outs.length : inp.outdoorNowC,
        how: `mean of ${xs.length} hourly samples over ${c.windowH} h`,
      };
    }
  }
  return { valueC: instant(inp, t), outdoorC: inp.outdoorNowC, how: 'current readings' };
}

/** Whether the target is back in band, and why. */
/**
 * A pre-heat is judged by whether the cold came (issue #20 item 5): the coldest hourly outdoor
 * temperature observed since it was applied against the spell's edge.
 */
function coldArrival(inp: RecheckInput, t: Ticket): { arrived: boolean; text: string } | undefined {
  const edgeC = t.evidence.edgeC;
  if (t.action.kind !== 'preheat' || typeof edgeC !== 'number' || t.appliedTs === undefined) return undefined;
  const seen = inp.learner
    .samplesOf(substationKey(t.substationId))
    .filter((s) => s.ts >= t.appliedTs! && s.outdoorC !== undefined)
    .map((s) => s.outdoorC!);
  if (seen.length === 0) return undefined;
  const coldestC = Math.min(...seen);
  return {
    arrived: coldestC < edgeC,
    text: `coldest observed ${round2(coldestC)} °C, spell edge ${edgeC} °C`,
  };
}

interface Verdict {
  resolved: boolean;
  why: string;
  coldArrived?: boolean;
}

function verdict(inp: RecheckInput, t: Ticket, m: number | undefined): Verdict {
  const { cfg } = inp;
  if (m === undefined) return { resolved: false, why: 'no fresh readings of the target at the re-check' };
  const arrival = coldArrival(inp, t);
  if (arrival && !arrival.arrived)
    return {
      resolved: true,
      coldArrived: false,
      why: `not needed: the forecast cold did not arrive (${arrival.text})`,
    };
  if (HOT_PROBLEMS.includes(t.problem)) {
    const resolved = m <= cfg.recheck.hotBandC;
    return { resolved, why: `${round2(m)} °C ${resolved ? '≤' : '>'} ${cfg.recheck.hotBandC} °C` };
  }
  const rule = inp.nodes.find((n) => n.meaning?.resolves === t.problem);
  if (rule) {
    const resolved = !inp.isActive(rule.id, t.targetId);
    return { resolved, why: resolved ? `${rule.id} no longer active` : `${rule.id} still active` };
  }
  const band = coldLineC(cfg) + cfg.recheck.bandOffsetC;
  const resolved = m >= band;
  return { resolved, why: `${round2(m)} °C ${resolved ? '≥' : '<'} ${round2(band)} °C` };
}

/** Heat over the window before the action and the window before the re-check, from the meter. */
function heatOf(inp: RecheckInput, t: Ticket): RecheckOutcome['heat'] {
  if (!inp.heatOver || t.appliedTs === undefined) return undefined;
  const windowH = inp.cfg.recheck.windowH;
  const w = windowH * HOUR_MS;
  const before = inp.heatOver(t.substationId, t.appliedTs - w, t.appliedTs);
  const after = inp.heatOver(t.substationId, Math.max(t.appliedTs, inp.now - w), inp.now);
  if (!before && !after) return undefined;
  const r = (x: number | undefined) => (x === undefined ? undefined : round2(x));
  return {
    substationId: t.substationId,
    windowH,
    beforeKWh: r(before?.kWh),
    afterKWh: r(after?.kWh),
    beforeOutdoorC: r(before?.outdoorC),
    afterOutdoorC: r(after?.outdoorC),
  };
}

const heatText = (h: RecheckOutcome['heat']): string =>
  h ? `; heat ${h.beforeKWh ?? '?'} → ${h.afterKWh ?? '?'} kWh per ${h.windowH} h at ${h.substationId}` : '';

/** The supply change an action made, °C (slope changes at the baseline's outdoor temperature). */
function supplyDeltaOf(inp: RecheckInput, t: Ticket): number | undefined {
  const a = t.action;
  if (a.kind === 'supply-offset') return a.deltaC;
  if (a.kind === 'slope')
    return (
      a.delta * (inp.index.substations.get(t.substationId)!.curve.refOutdoorC - (t.baseline.outdoorC ?? 0))
    );
  return undefined;
}

/**
 * Judges an applied ticket at its re-check: the target's value now against the baseline and the
 * prediction, corrected for the outdoor temperature change; the learner learns gain and lag from it.
 */
export function judgeRecheck(
  inp: RecheckInput,
  t: Ticket,
): { outcome: RecheckOutcome; revert?: SetpointInForce } {
  const measured = measure(inp, t);
  const m = measured.valueC;
  const base = t.baseline;
  if (m === undefined && t.action.kind !== 'preheat') {
    // Nothing fresh to judge by: deferred and retried, never escalated for lack of data.
    const retryTs = inp.now + inp.cfg.recheck.deferRetryH * HOUR_MS;
    const text = `deferred: no fresh readings of ${t.targetId} in the last ${inp.cfg.recheck.windowH} h; retried at ${new Date(retryTs).toISOString()}`;
    return { outcome: emptyOutcome(inp, t, text, retryTs) };
  }
  const outdoorShiftC =
    measured.outdoorC !== undefined && base.outdoorC !== undefined ? measured.outdoorC - base.outdoorC : 0;
  const resp = inp.learner.response(t.targetKind === 'substation' ? t.substationId : t.targetId);
  const correctedDeltaC = m === undefined ? 0 : m - base.valueC - resp.outdoorGainCPerC * outdoorShiftC;
  const { resolved, why, coldArrived: notArrived } = verdict(inp, t, m);
  const coldArrived = t.action.kind === 'preheat' ? (notArrived ?? true) : undefined;
  // The window's middle is how long the action had had when the judged samples were taken.
  const elapsedH = (inp.now - (t.appliedTs ?? inp.now)) / HOUR_MS - inp.cfg.recheck.windowH / 2;
  const observedGain =
    m === undefined
      ? undefined
      : inp.learner.learnFromRecheck(t, m, correctedDeltaC, supplyDeltaOf(inp, t), elapsedH);
  const heat = heatOf(inp, t);
  const outcome: RecheckOutcome = {
    ts: inp.now,
    resolved,
    measuredC: round2(m ?? Number.NaN),
    baselineC: base.valueC,
    correctedDeltaC: round2(correctedDeltaC),
    predictedDeltaC: t.predicted.deltaC,
    outdoorNowC: inp.outdoorNowC,
    observedGain: observedGain === undefined ? undefined : round2(observedGain),
    coldArrived,
    heat,
    text: `${resolved ? 'back in band' : 'not in band'}: ${why} (${measured.how}); change ${round2(correctedDeltaC)} °C (outdoor-corrected by ${round2(outdoorShiftC)} °C outdoor), predicted ${t.predicted.deltaC} °C${heatText(heat)}`,
  };
  // Pre-heating ends with its re-check: the extra offset comes off whatever the outcome.
  const revert =
    t.action.kind === 'preheat' ? { ...inp.setpointOf(t.substationId), preheatOffsetC: 0 } : undefined;
  return { outcome, revert };
}

function emptyOutcome(inp: RecheckInput, t: Ticket, text: string, deferredUntilTs: number): RecheckOutcome {
  return {
    ts: inp.now,
    resolved: false,
    measuredC: Number.NaN,
    baselineC: t.baseline.valueC,
    correctedDeltaC: 0,
    predictedDeltaC: t.predicted.deltaC,
    outdoorNowC: inp.outdoorNowC,
    deferredUntilTs,
    text,
  };
}
