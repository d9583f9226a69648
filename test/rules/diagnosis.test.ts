import { describe, expect, it } from 'vitest';
import { type DiagnosisInput, diagnose } from '../../src/rules/diagnosis.ts';
import type { Finding } from '../../src/rules/types.ts';
import type { BuildingPicture } from '../../src/rules/view.ts';
import { NEUTRAL_SETPOINT } from '../../src/tickets/types.ts';
import { rules, smallRegistry, uniformPicture } from './fixture.ts';

const index = smallRegistry(4);
const uniform = (b: string, tempC: number): BuildingPicture => uniformPicture(index, b, tempC);
const coldFinding = (b: string, valueC: number): Finding => ({
  rule: 'building-under-temp',
  targetKind: 'building',
  targetId: b,
  substationId: 'ss',
  level: 'raise',
  valueC,
  evidence: {},
  state: 'active',
  sinceTs: 0,
});

function input(over: Partial<DiagnosisInput> = {}): DiagnosisInput {
  return {
    cfg: rules(),
    now: 0,
    index,
    findings: ['b1', 'b2', 'b3', 'b4'].map((b) => coldFinding(b, 17)),
    picture: (b) => uniform(b, 17),
    outdoorC: -10,
    normalGapC: 1.5,
    setpoint: () => structuredClone(NEUTRAL_SETPOINT),
    response: () => ({ gainCPerC: 0.4, valveGainCPerPct: 0.06, outdoorGainCPerC: 0.1, lagH: 10 }),
    slopeFit: () => undefined,
    ...over,
  };
}

describe('diagnose (pure)', () => {
  it('cold on every day → supply offset sized deficit ÷ gain, a step auto-approve applies now', () => {
    const [d] = diagnose(input());
    // target 19 °C, median 17 °C: 2 °C ÷ 0.4 = 5 °C, clamped to autoApprove.maxOffsetStepC 3 so it
    // applies now (the next step follows its early re-check).
    expect(d!.proposal).toMatchObject({
      problem: 'substation_cold',
      action: { kind: 'supply-offset', deltaC: 3 },
    });
    expect(d!.proposal.predicted.deltaC).toBeCloseTo(1.2, 5);
    expect(d!.proposal.autoApprovable).toBe(true);
    // Without auto-approve an operator approves each step: the larger limits.maxOffsetStepC 4.
    const [op] = diagnose(input({ cfg: rules({ autoApprove: { enabled: false } }) }));
    expect(op!.proposal.action).toEqual({ kind: 'supply-offset', deltaC: 4 });
  });

  it('cold only on cold days → curve slope, sized per °C below the reference', () => {
    const [d] = diagnose(input({ slopeFit: () => ({ slope: 0.3, samples: 72, spanC: 8 }) }));
    // 2 °C ÷ 0.4 ÷ (5 − (−10)) = 0.33, clamped to autoApprove.maxSlopeStep 0.1 (limits: 0.15).
    expect(d!.proposal).toMatchObject({ problem: 'curve_slope', action: { kind: 'slope', delta: 0.1 } });
  });

  it('never steers supply above limits.maxSupplyTempC', () => {
    // Curve at −10 °C: 45 + 0.75 × 15 = 56.25 °C; headroom to 58 °C is 1.75 °C.
    const [d] = diagnose(input({ cfg: rules({ limits: { maxSupplyTempC: 58 } }) }));
    expect(d!.proposal.action).toEqual({ kind: 'supply-offset', deltaC: 1.7 });
    const [none] = diagnose(input({ cfg: rules({ limits: { maxSupplyTempC: 56 } }) }));
    expect(none!.proposal.action.kind).toBe('field');
  });

  it('a flapping finding is passed on as flapping', () => {
    const findings = ['b1', 'b2', 'b3', 'b4'].map((b) => ({
      ...coldFinding(b, 17),
      state: 'flapping' as const,
    }));
    expect(diagnose(input({ findings }))[0]!.flapping).toBe(true);
  });
});
