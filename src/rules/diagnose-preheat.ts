import { curveSupplyC } from '../core/registry.ts';
import { coldSpell } from './cold-spell.ts';
import { type Diagnosed, type Estate, prediction } from './estate.ts';
import { round1, round2 } from './view.ts';

const HOUR_MS = 3_600_000;

/** The cold-spell rule's evidence, as the diagnosis reads it. */
export interface SpellEvidence {
  baselineC: number;
  coldestMeanC: number;
  arrivalTs?: number;
  endTs?: number;
  coldestStartTs: number;
}

/**
 * How far the estate's rooms would fall through the spell without a pre-heat, °C: the outdoor drop
 * × how much its rooms follow the outdoor temperature with the curve in force (the learnt fit of the
 * substation's rooms against outdoor once trusted, else `response.priorOutdoorGainCPerC`), reached
 * in the spell's length through the learnt response lag (first order).
 */
function spellRoomDropC(e: Estate, dropC: number, spellH: number): number {
  const d = e.cfg.diagnosis;
  const fit = e.inp.slopeFit(e.sid);
  const trusted = fit !== undefined && fit.samples >= d.minSamplesForSlope && fit.spanC >= d.minOutdoorSpanC;
  const perOutdoorC = Math.max(0, trusted ? fit.slope : e.resp.outdoorGainCPerC);
  return perOutdoorC * Math.max(0, dropC) * (1 - Math.exp(-Math.max(0, spellH) / e.resp.lagH));
}

/**
 * A cold spell ahead (docs/domain.md: raise supply in advance): the supply step that holds the rooms
 * through it, sized from the substation's learnt response — the rooms' expected fall ÷ the learnt
 * gain (°C room per °C supply) — and applied one learnt response lag before the cold arrives, until
 * it ends (its re-check then takes it off again).
 */
export function preheat(e: Estate): Diagnosed[] {
  const { cfg, sp, sid } = e;
  const s = e.f.spell.get(sid);
  if (!s || e.subMeasure === undefined) return [];
  const ev = s.evidence as unknown as SpellEvidence;
  const now = e.inp.now;
  const untilTs = ev.endTs ?? ev.coldestStartTs + 24 * HOUR_MS;
  const curveNow = curveSupplyC(e.sub.curve, ev.baselineC, sp.supplyOffsetC, sp.slopeDelta);
  const curveCold = curveSupplyC(e.sub.curve, ev.coldestMeanC, sp.supplyOffsetC, sp.slopeDelta);
  const spellH = (untilTs - (ev.arrivalTs ?? now)) / HOUR_MS;
  const roomDropC = spellRoomDropC(e, ev.baselineC - ev.coldestMeanC, spellH);
  const offsetC = Math.min(
    roomDropC / e.resp.gainCPerC,
    cfg.limits.maxOffsetC - sp.supplyOffsetC,
    Math.max(0, cfg.limits.maxSupplyTempC - e.rawSupplyC(sp.supplyOffsetC, sp.slopeDelta, e.outdoorC)),
  );
  const leadH = e.resp.lagH;
  if (offsetC < 0.5 || now >= untilTs || ev.arrivalTs === undefined) return [];
  const from = new Date(ev.arrivalTs - leadH * HOUR_MS).toISOString();
  return [
    {
      flapping: s.state === 'flapping',
      proposal: {
        problem: 'cold_spell',
        targetKind: 'substation',
        targetId: sid,
        substationId: sid,
        rules: [coldSpell.id],
        summary: `${sid}: cold spell forecast (${round1(ev.coldestMeanC)} °C vs ${round1(ev.baselineC)} °C from ${new Date(ev.arrivalTs).toISOString()}): pre-heat +${round1(offsetC)} °C from ${from}`,
        evidence: {
          ...s.evidence,
          curveSupplyNowC: round1(curveNow),
          curveSupplyColdC: round1(curveCold),
          roomDropC: round2(roomDropC),
          gainCPerC: round2(e.resp.gainCPerC),
          lagH: round1(e.resp.lagH),
          substationMedianC: round2(e.subMeasure),
        },
        action: { kind: 'preheat', offsetC: Math.floor(offsetC * 10) / 10, untilTs },
        predicted: prediction(
          e.subMeasure,
          0,
          leadH,
          `pre-heat +${round1(offsetC)} °C holds rooms through the spell`,
        ),
        baseline: e.baselineOf(e.subMeasure),
        notBeforeTs: Math.max(now, ev.arrivalTs - leadH * HOUR_MS),
        autoApprovable: cfg.autoApprove.preheat,
      },
    },
  ];
}
