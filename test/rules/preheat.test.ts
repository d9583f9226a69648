import { describe, expect, it } from 'vitest';
import { type DiagnosisInput, diagnose } from '../../src/rules/diagnosis.ts';
import type { ResponseEstimate } from '../../src/rules/response-learner.ts';
import type { Finding } from '../../src/rules/types.ts';
import type { BuildingPicture } from '../../src/rules/view.ts';
import { NEUTRAL_SETPOINT, type Proposal } from '../../src/tickets/types.ts';
import { HOUR, rules, smallRegistry, uniformPicture } from './fixture.ts';

/**
 * Pre-heating sized and timed from the substation's learnt response (docs/rules.md): the rooms'
 * expected fall through the spell ÷ the learnt gain, from one learnt lag before the cold arrives.
 * Pure: the diagnosis alone, with the learnt values handed in.
 */
const index = smallRegistry(4);
const NOW = Date.UTC(2026, 0, 15);
const warm = (b: string): BuildingPicture => uniformPicture(index, b, 20.5);

/** A confirmed spell 10 °C below the last day, arriving in 30 h and lasting `spellH`. */
const spell = (spellH: number): Finding => ({
  rule: 'cold-spell',
  targetKind: 'substation',
  targetId: 'ss',
  substationId: 'ss',
  level: 'raise',
  valueC: 10,
  evidence: {
    baselineC: -2,
    coldestMeanC: -12,
    arrivalTs: NOW + 30 * HOUR,
    endTs: NOW + (30 + spellH) * HOUR,
    coldestStartTs: NOW + 30 * HOUR,
  },
  state: 'active',
  sinceTs: NOW,
});

const PRIOR: ResponseEstimate = { gainCPerC: 0.35, valveGainCPerPct: 0.06, outdoorGainCPerC: 0.1, lagH: 12 };

function preheatOf(over: Partial<DiagnosisInput> & { spellH?: number } = {}): Proposal {
  const inp: DiagnosisInput = {
    cfg: rules(),
    now: NOW,
    index,
    findings: [spell(over.spellH ?? 48)],
    picture: warm,
    outdoorC: -2,
    normalGapC: 1.5,
    setpoint: () => structuredClone(NEUTRAL_SETPOINT),
    response: () => PRIOR,
    slopeFit: () => undefined,
    ...over,
  };
  const p = diagnose(inp).find((d) => d.proposal.problem === 'cold_spell')?.proposal;
  if (!p) throw new Error('no pre-heat proposed');
  return p;
}
const offsetOf = (p: Proposal): number => (p.action as { offsetC: number }).offsetC;

describe('pre-heat from the learnt response', () => {
  it('with the priors: the rooms’ expected fall ÷ the prior gain, one prior lag ahead', () => {
    const p = preheatOf();
    // 0.1 °C room per °C outdoor × 10 °C × (1 − e^(−48/12)) = 0.98 °C ÷ 0.35 = 2.8 °C.
    expect(offsetOf(p)).toBeCloseTo(2.8, 1);
    expect(p.notBeforeTs).toBe(NOW + (30 - 12) * HOUR);
    expect(p.action).toMatchObject({ kind: 'preheat', untilTs: NOW + 78 * HOUR });
  });

  it('a substation that responds more strongly gets a smaller step; a slower one starts earlier', () => {
    const strong = preheatOf({ response: () => ({ ...PRIOR, gainCPerC: 0.7 }) });
    expect(offsetOf(strong)).toBeCloseTo(1.4, 1);
    const slow = preheatOf({ response: () => ({ ...PRIOR, lagH: 24 }) });
    expect(slow.notBeforeTs).toBe(NOW + (30 - 24) * HOUR);
    // A slow building falls less in a 48 h spell: 1 − e^(−2) against 1 − e^(−4).
    expect(offsetOf(slow)).toBeLessThan(offsetOf(preheatOf()));
  });

  it('rooms that follow the outdoor temperature more (a trusted fit) get more; an untrusted fit is not used', () => {
    const trusted = preheatOf({ slopeFit: () => ({ slope: 0.2, samples: 100, spanC: 8 }) });
    expect(offsetOf(trusted)).toBeCloseTo(5.6, 1);
    const thin = preheatOf({ slopeFit: () => ({ slope: 0.2, samples: 10, spanC: 8 }) });
    expect(offsetOf(thin)).toBeCloseTo(2.8, 1);
    // Rooms that do not fall with the outdoor temperature need no pre-heat at all.
    expect(() => preheatOf({ slopeFit: () => ({ slope: -0.1, samples: 100, spanC: 8 }) })).toThrow(
      'no pre-heat',
    );
  });

  it('a short spell needs less than a long one', () => {
    expect(offsetOf(preheatOf({ spellH: 8 }))).toBeLessThan(offsetOf(preheatOf({ spellH: 48 })));
  });

  it('stays within the offset range and the supply limit', () => {
    const big = preheatOf({ response: () => ({ ...PRIOR, gainCPerC: 0.1 }) });
    // 0.98 °C ÷ 0.1 = 9.8 °C, within limits.maxOffsetC 12.
    expect(offsetOf(big)).toBeCloseTo(9.8, 1);
    const capped = preheatOf({
      response: () => ({ ...PRIOR, gainCPerC: 0.1 }),
      setpoint: () => ({ ...structuredClone(NEUTRAL_SETPOINT), supplyOffsetC: 8 }),
    });
    expect(offsetOf(capped)).toBeLessThanOrEqual(4);
  });
});
