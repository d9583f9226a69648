import type { RulesConfig } from '../config/rules-schema.ts';
import { curveSupplyC, type RegistryIndex } from '../core/registry.ts';
import type { Action, Baseline, Problem, Proposal, SetpointInForce } from '../tickets/types.ts';
import { coldLineC, type Finding } from './types.ts';
import { type BuildingPicture, pictureEvidence, round1, round2 } from './view.ts';

const HOUR_MS = 3_600_000;

/** What the engine knows of how a target responds (estimated from history, updated by re-checks). */
export interface ResponseEstimate {
  /** °C of room per °C of supply. */
  gainCPerC: number;
  /** °C of room per % of entry-valve opening. */
  valveGainCPerPct: number;
  /** °C of room per °C of outdoor with the curve in force. */
  outdoorGainCPerC: number;
  /** Hours to most of the effect. */
  lagH: number;
}

export interface DiagnosisInput {
  cfg: RulesConfig;
  now: number;
  index: RegistryIndex;
  findings: readonly Finding[];
  picture(buildingId: string): BuildingPicture;
  outdoorC?: number;
  /** Normal middle − exposed gap (°C), measured across healthy buildings. */
  normalGapC: number;
  setpoint(substationId: string): SetpointInForce;
  response(targetId: string): ResponseEstimate;
  /** Room mean against outdoor temperature over the kept samples (°C room per °C outdoor). */
  slopeFit(substationId: string): { slope: number; samples: number; spanC: number } | undefined;
}

export interface Diagnosed {
  proposal: Proposal;
  /** The condition behind it is flapping: mark the open ticket, raise nothing new. */
  flapping: boolean;
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
 * Diagnosis before proposal (issue #4): tells apart a cold substation (supply level, or slope when it
 * is cold only on cold days), one cold building among fine neighbours (its entry valve, or throttling
 * over-heated neighbours), exposed units only (a field task, not more supply), over-temperature (lower
 * supply) and a coming cold spell (pre-heat ahead by the curve, with the building's lead time).
 * Pure: findings and estimates in, sized and clamped proposals out.
 */
export function diagnose(inp: DiagnosisInput): Diagnosed[] {
  const { cfg, now, index } = inp;
  const line = coldLineC(cfg);
  const targetC = cfg.requiredTempC + cfg.response.targetMarginC;
  const out: Diagnosed[] = [];
  const by = (rule: string) => {
    const m = new Map<string, Finding>();
    for (const f of inp.findings) if (f.rule === rule) m.set(f.targetId, f);
    return m;
  };
  const cold = by('building-under-temp');
  const behind = by('imbalance-between');
  const inside = by('imbalance-inside');
  const hot = by('building-over-temp');
  const spell = by('cold-spell');
  const cover = by('coverage');
  const health = by('sensor-health');
  const baselineOf = (valueC: number): Baseline => ({
    valueC: round2(valueC),
    outdoorC: inp.outdoorC,
    ts: now,
  });

  for (const [sid, buildings] of index.buildingsBySubstation) {
    const sub = index.substations.get(sid)!;
    const sp = inp.setpoint(sid);
    const resp = inp.response(sid);
    const judged = buildings.filter((b) => inp.picture(b.id).weightedMeanC !== undefined);
    const meanOf = (b: string) => inp.picture(b).weightedMeanC ?? Number.NaN;
    // Only exposed units cold (middle units fine): balancing inside the building, never more supply.
    const exposedOnly = (b: string) => {
      const p = inp.picture(b);
      if (p.middleMeanC === undefined || p.middleMeanC < line + cfg.buildingCold.clearOffsetC) return false;
      // Judged from the picture too, so a valve is never proposed in the hour before the
      // imbalance rule's longer minimum duration has passed.
      const excessC = p.exposedMeanC === undefined ? 0 : p.middleMeanC - p.exposedMeanC - inp.normalGapC;
      return inside.has(b) || excessC > cfg.imbalanceInside.raiseExcessC;
    };
    const trulyCold = judged.filter((b) => cold.has(b.id) && !exposedOnly(b.id));
    const anyFlap = (fs: Array<Finding | undefined>) => fs.some((f) => f?.state === 'flapping');
    const rawSupplyC = (offsetC: number, slopeDelta: number, outdoorC: number) =>
      sub.curve.refSupplyC + (sub.curve.slope + slopeDelta) * (sub.curve.refOutdoorC - outdoorC) + offsetC;
    const outdoorC = inp.outdoorC ?? sub.curve.refOutdoorC;
    const supplyHeadroomC =
      cfg.limits.maxSupplyTempC - rawSupplyC(sp.supplyOffsetC + sp.preheatOffsetC, sp.slopeDelta, outdoorC);
    const subMeasure = substationMeasure(index, sid, inp.picture);

    // 1. The whole substation cold: the heating curve is too low (level), or too flat (slope).
    const wholeCold =
      judged.length > 0 &&
      trulyCold.length >= Math.max(1, cfg.diagnosis.wholeSubstationShare * judged.length);
    if (wholeCold && subMeasure !== undefined) {
      const deficitC = Math.max(targetC - subMeasure, 0.3);
      const fit = inp.slopeFit(sid);
      const coldDaysOnly =
        fit !== undefined &&
        fit.samples >= cfg.diagnosis.minSamplesForSlope &&
        fit.spanC >= cfg.diagnosis.minOutdoorSpanC &&
        fit.slope >= cfg.diagnosis.slopeSensitivity &&
        sub.curve.refOutdoorC - outdoorC > 2;
      const evidence = {
        coldBuildings: trulyCold.map((b) => ({ buildingId: b.id, weightedMeanC: round2(meanOf(b.id)) })),
        judgedBuildings: judged.length,
        substationMedianC: round2(subMeasure),
        outdoorC: inp.outdoorC,
        roomPerOutdoorC: fit && round2(fit.slope),
        setpointInForce: sp,
        thresholds: { wholeSubstationShare: cfg.diagnosis.wholeSubstationShare, coldLineC: line, targetC },
        gainCPerC: round2(resp.gainCPerC),
      };
      let action: Action;
      let problem: Problem;
      let supplyRiseC: number;
      if (coldDaysOnly) {
        problem = 'curve_slope';
        const perSlope = sub.curve.refOutdoorC - outdoorC;
        let delta = Math.min(deficitC / resp.gainCPerC / perSlope, cfg.limits.maxSlopeStep);
        delta = Math.min(
          delta,
          cfg.limits.maxSlopeDelta - sp.slopeDelta,
          Math.max(0, supplyHeadroomC) / perSlope,
        );
        action = { kind: 'slope', delta: round2(delta) };
        supplyRiseC = delta * perSlope;
      } else {
        problem = 'substation_cold';
        let deltaC = Math.min(deficitC / resp.gainCPerC, cfg.limits.maxOffsetStepC);
        deltaC = Math.min(deltaC, cfg.limits.maxOffsetC - sp.supplyOffsetC, Math.max(0, supplyHeadroomC));
        // Rounded down, so the rounding can never step over a limit.
        deltaC = Math.floor(deltaC * 10) / 10;
        action = { kind: 'supply-offset', deltaC };
        supplyRiseC = deltaC;
      }
      const riseC = supplyRiseC * resp.gainCPerC;
      if (supplyRiseC < 0.2) {
        out.push(
          field(
            sid,
            'substation',
            sid,
            problem,
            ['building-under-temp'],
            evidence,
            baselineOf(subMeasure),
            resp,
            `Supply of ${sid} is at its limit (max supply ${cfg.limits.maxSupplyTempC} °C / offset ${cfg.limits.maxOffsetC} °C) and the estate is still cold: check the substation (exchanger, pumps, primary side).`,
            anyFlap(trulyCold.map((b) => cold.get(b.id))),
          ),
        );
      } else {
        const small =
          action.kind === 'slope'
            ? action.delta <= cfg.autoApprove.maxSlopeStep
            : action.deltaC <= cfg.autoApprove.maxOffsetStepC;
        out.push({
          flapping: anyFlap(trulyCold.map((b) => cold.get(b.id))),
          proposal: {
            problem,
            targetKind: 'substation',
            targetId: sid,
            substationId: sid,
            rules: ['building-under-temp'],
            summary:
              action.kind === 'slope'
                ? `${sid}: ${trulyCold.length}/${judged.length} buildings cold, colder on colder days: raise the curve slope by ${action.delta}`
                : `${sid}: ${trulyCold.length}/${judged.length} buildings cold: raise the supply offset by ${action.deltaC} °C`,
            evidence,
            action,
            predicted: prediction(subMeasure, riseC, resp.lagH, `supply +${round1(supplyRiseC)} °C`),
            baseline: baselineOf(subMeasure),
            autoApprovable: small,
          },
        });
      }
    } else {
      // 2. Single buildings cold (or behind their neighbours) while the estate is fine: flow share.
      const flowCold = new Set<string>([
        ...trulyCold.map((b) => b.id),
        ...judged.filter((b) => behind.has(b.id) && !exposedOnly(b.id)).map((b) => b.id),
      ]);
      for (const bid of flowCold) {
        const p = inp.picture(bid);
        const meanC = p.weightedMeanC!;
        const bResp = inp.response(bid);
        const deficitC = Math.max(
          targetC - meanC,
          (behind.get(bid)?.valueC ?? 0) - cfg.imbalanceBetween.clearBelowC,
          0.3,
        );
        const v = sp.buildingValves[bid] ?? cfg.limits.nominalValvePct;
        const ownStep = Math.min(
          deficitC / bResp.valveGainCPerPct,
          cfg.limits.maxValveStepPct,
          cfg.limits.maxValvePct - v,
        );
        const rules = [
          cold.has(bid) ? 'building-under-temp' : '',
          behind.has(bid) ? 'imbalance-between' : '',
        ].filter(Boolean);
        const evidence = {
          ...pictureEvidence(p, line),
          neighbours: judged
            .filter((b) => b.id !== bid)
            .map((b) => ({ buildingId: b.id, weightedMeanC: round2(meanOf(b.id)) })),
          entryValvePct: v,
          thresholds: { coldLineC: line, targetC, behindRaiseC: cfg.imbalanceBetween.raiseBelowC },
          valveGainCPerPct: round2(bResp.valveGainCPerPct),
        };
        const flap = anyFlap([cold.get(bid), behind.get(bid)]);
        if (ownStep >= 2) {
          const to = Math.round(v + ownStep);
          out.push({
            flapping: flap,
            proposal: {
              problem: 'building_cold',
              targetKind: 'building',
              targetId: bid,
              substationId: sid,
              rules,
              summary: `${bid} cold (${round1(meanC)} °C) while its neighbours are fine: open its entry valve ${v} → ${to} %`,
              evidence,
              action: { kind: 'valves', valves: { [bid]: to }, previous: { [bid]: v } },
              predicted: prediction(
                meanC,
                (to - v) * bResp.valveGainCPerPct,
                bResp.lagH,
                `entry valve +${to - v} %`,
              ),
              baseline: baselineOf(meanC),
              autoApprovable: to - v <= cfg.autoApprove.maxValveStepPct,
            },
          });
          continue;
        }
        // Own valve fully open: give it flow by throttling over-heated neighbours, if there are any.
        const warm = judged.filter(
          (b) =>
            b.id !== bid && !flowCold.has(b.id) && meanOf(b.id) >= cfg.diagnosis.throttleNeighboursAboveC,
        );
        if (warm.length > 0) {
          const valves: Record<string, number> = {};
          const previous: Record<string, number> = {};
          for (const w of warm) {
            const wv = sp.buildingValves[w.id] ?? cfg.limits.nominalValvePct;
            const slackC = meanOf(w.id) - (targetC + 0.5);
            const step = Math.min(
              slackC / bResp.valveGainCPerPct,
              cfg.limits.maxValveStepPct,
              wv - cfg.limits.minValvePct,
            );
            if (step < 2) continue;
            valves[w.id] = Math.round(wv - step);
            previous[w.id] = wv;
          }
          if (Object.keys(valves).length > 0) {
            out.push({
              flapping: flap,
              proposal: {
                problem: 'building_cold',
                targetKind: 'building',
                targetId: bid,
                substationId: sid,
                rules,
                summary: `${bid} cold with its entry valve open: throttle warm neighbours ${Object.entries(
                  valves,
                )
                  .map(([k, x]) => `${k} → ${x} %`)
                  .join(', ')}`,
                evidence,
                action: { kind: 'valves', valves, previous },
                predicted: prediction(meanC, 0.5, bResp.lagH, 'more flow share from throttled neighbours'),
                baseline: baselineOf(meanC),
                // Throttling takes heat from residents who did not ask: an operator decides.
                autoApprovable: false,
              },
            });
            continue;
          }
        }
        out.push(
          field(
            sid,
            'building',
            bid,
            'building_cold',
            rules,
            evidence,
            baselineOf(meanC),
            bResp,
            `${bid} stays cold with its entry valve at ${v} %: check its strainer/filter and the building branch (low flow).`,
            flap,
          ),
        );
      }
    }

    // 3. Exposed units colder than the normal position effect allows: balancing in the building.
    for (const [bid, f] of inside) {
      if (!buildings.some((b) => b.id === bid)) continue;
      const p = inp.picture(bid);
      out.push(
        field(
          sid,
          'building',
          bid,
          'exposed_cold',
          ['imbalance-inside'],
          f.evidence,
          baselineOf(f.valueC),
          inp.response(bid),
          `${bid}: top/ground/gable units ${round1(Number(f.evidence.gapC))} °C colder than middle units (normal ${round1(Number(f.evidence.normalGapC))} °C)${exposedOnly(bid) ? ', middle units fine' : ''}: check risers, riser valves and radiator filters of the exposed units; not more supply.`,
          f.state === 'flapping',
          p.exposedMeanC,
        ),
      );
    }

    // 4. Over-temperature: lower supply for the estate, or throttle one building.
    const hotB = judged.filter((b) => hot.has(b.id));
    if (trulyCold.length === 0 && hotB.length > 0 && subMeasure !== undefined) {
      const flap = anyFlap(hotB.map((b) => hot.get(b.id)));
      if (hotB.length >= Math.max(1, cfg.diagnosis.wholeSubstationShare * judged.length)) {
        const excessC = subMeasure - (targetC + 1);
        let deltaC = -Math.min(Math.max(excessC, 0.3) / resp.gainCPerC, cfg.limits.maxOffsetStepC);
        deltaC = Math.max(deltaC, cfg.limits.minOffsetC - sp.supplyOffsetC);
        if (deltaC <= -0.2)
          out.push({
            flapping: flap,
            proposal: {
              problem: 'overheat',
              targetKind: 'substation',
              targetId: sid,
              substationId: sid,
              rules: ['building-over-temp'],
              summary: `${sid}: ${hotB.length}/${judged.length} buildings over-heated: lower the supply offset by ${round1(-deltaC)} °C`,
              evidence: {
                hotBuildings: hotB.map((b) => ({ buildingId: b.id, weightedMeanC: round2(meanOf(b.id)) })),
                substationMedianC: round2(subMeasure),
                thresholds: {
                  raiseAboveC: cfg.buildingHot.raiseAboveC,
                  clearBelowC: cfg.buildingHot.clearBelowC,
                },
              },
              action: { kind: 'supply-offset', deltaC: round1(deltaC) },
              predicted: prediction(
                subMeasure,
                deltaC * resp.gainCPerC,
                resp.lagH,
                `supply ${round1(deltaC)} °C`,
              ),
              baseline: baselineOf(subMeasure),
              autoApprovable: -deltaC <= cfg.autoApprove.maxOffsetStepC,
            },
          });
      } else {
        for (const b of hotB) {
          const bResp = inp.response(b.id);
          const v = sp.buildingValves[b.id] ?? cfg.limits.nominalValvePct;
          const step = Math.min(
            (meanOf(b.id) - (targetC + 1)) / bResp.valveGainCPerPct,
            cfg.limits.maxValveStepPct,
            v - cfg.limits.minValvePct,
          );
          if (step < 2) continue;
          const to = Math.round(v - step);
          out.push({
            flapping: anyFlap([hot.get(b.id)]),
            proposal: {
              problem: 'building_overheat',
              targetKind: 'building',
              targetId: b.id,
              substationId: sid,
              rules: ['building-over-temp'],
              summary: `${b.id} over-heated (${round1(meanOf(b.id))} °C): throttle its entry valve ${v} → ${to} %`,
              evidence: { ...pictureEvidence(inp.picture(b.id), line), entryValvePct: v },
              action: { kind: 'valves', valves: { [b.id]: to }, previous: { [b.id]: v } },
              predicted: prediction(
                meanOf(b.id),
                -(v - to) * bResp.valveGainCPerPct,
                bResp.lagH,
                `entry valve −${v - to} %`,
              ),
              baseline: baselineOf(meanOf(b.id)),
              autoApprovable: v - to <= cfg.autoApprove.maxValveStepPct,
            },
          });
        }
      }
    }

    // 5. A cold spell ahead: raise supply in advance by the curve for the forecast, lead = response lag.
    const s = spell.get(sid);
    if (s && subMeasure !== undefined) {
      const ev = s.evidence as {
        baselineC: number;
        coldestMeanC: number;
        arrivalTs?: number;
        endTs?: number;
        coldestStartTs: number;
      };
      const untilTs = ev.endTs ?? ev.coldestStartTs + 24 * HOUR_MS;
      const curveNow = curveSupplyC(sub.curve, ev.baselineC, sp.supplyOffsetC, sp.slopeDelta);
      const curveCold = curveSupplyC(sub.curve, ev.coldestMeanC, sp.supplyOffsetC, sp.slopeDelta);
      let offsetC = cfg.coldSpell.preheatShare * (curveCold - curveNow);
      offsetC = Math.min(
        offsetC,
        cfg.limits.maxOffsetC - sp.supplyOffsetC,
        Math.max(0, cfg.limits.maxSupplyTempC - rawSupplyC(sp.supplyOffsetC, sp.slopeDelta, outdoorC)),
      );
      const leadH = resp.lagH;
      if (offsetC >= 0.5 && now < untilTs && ev.arrivalTs !== undefined)
        out.push({
          flapping: s.state === 'flapping',
          proposal: {
            problem: 'cold_spell',
            targetKind: 'substation',
            targetId: sid,
            substationId: sid,
            rules: ['cold-spell'],
            summary: `${sid}: cold spell forecast (${round1(ev.coldestMeanC)} °C vs ${round1(ev.baselineC)} °C from ${new Date(ev.arrivalTs).toISOString()}): pre-heat +${round1(offsetC)} °C from ${new Date(ev.arrivalTs - leadH * HOUR_MS).toISOString()}`,
            evidence: {
              ...s.evidence,
              curveSupplyNowC: round1(curveNow),
              curveSupplyColdC: round1(curveCold),
              substationMedianC: round2(subMeasure),
            },
            action: { kind: 'preheat', offsetC: Math.floor(offsetC * 10) / 10, untilTs },
            predicted: prediction(
              subMeasure,
              0,
              leadH,
              `pre-heat +${round1(offsetC)} °C holds rooms through the spell`,
            ),
            baseline: baselineOf(subMeasure),
            notBeforeTs: Math.max(now, ev.arrivalTs - leadH * HOUR_MS),
            autoApprovable: cfg.autoApprove.preheat,
          },
        });
    }

    // 6. Coverage and sensor health: field tasks for the sensors themselves.
    for (const b of buildings) {
      const c = cover.get(b.id);
      if (c)
        out.push(
          field(
            sid,
            'building',
            b.id,
            'coverage',
            ['coverage'],
            c.evidence,
            baselineOf(c.valueC),
            inp.response(b.id),
            `${b.id}: sensors do not represent the building (exposed share ${c.evidence.exposedShare}, classes missing: ${(c.evidence.missingClasses as string[]).join(', ') || 'none'}, fresh ${c.evidence.freshShare}): restore offline sensors / complete the sample (40 % sampling rule).`,
            c.state === 'flapping',
          ),
        );
      const stuck = [...health.values()].filter(
        (f) => f.evidence.buildingId === b.id && f.evidence.kind === 'stuck',
      );
      if (stuck.length > 0)
        out.push(
          field(
            sid,
            'building',
            b.id,
            'sensor_fault',
            ['sensor-health'],
            { stuckSensors: stuck.map((f) => f.targetId) },
            baselineOf(stuck.length),
            inp.response(b.id),
            `${b.id}: ${stuck.length} sensor(s) report a value that has not moved for ${cfg.sensorHealth.stuckAfterH} h: replace or re-seat them.`,
            false,
          ),
        );
    }
  }
  return out;
}

function prediction(fromC: number, deltaC: number, lagH: number, what: string) {
  return {
    deltaC: round2(deltaC),
    expectedC: round2(fromC + deltaC),
    afterH: round1(lagH),
    text: `${what}: ${deltaC >= 0 ? '+' : ''}${round1(deltaC)} °C in the rooms within about ${round1(lagH * 2)} h (from ${round1(fromC)} °C)`,
  };
}

function field(
  substationId: string,
  targetKind: 'building' | 'substation',
  targetId: string,
  problem: Problem,
  rules: string[],
  evidence: Record<string, unknown>,
  baseline: Baseline,
  resp: ResponseEstimate,
  task: string,
  flapping: boolean,
  valueC?: number,
): Diagnosed {
  return {
    flapping,
    proposal: {
      problem,
      targetKind,
      targetId,
      substationId,
      rules,
      summary: task,
      evidence,
      action: { kind: 'field', task },
      predicted: {
        deltaC: 0,
        expectedC: valueC ?? baseline.valueC,
        afterH: resp.lagH,
        text: 'field work; judged at the re-check',
      },
      baseline,
      autoApprovable: false,
    },
  };
}
