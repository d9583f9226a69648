import { describe, expect, it } from 'vitest';
import { MeterWatch } from '../../src/rules/meter-watch.ts';
import { NEUTRAL_SETPOINT } from '../../src/tickets/types.ts';
import { HOUR, harness, MIN, rules } from './fixture.ts';

/** The fixture's curve (45 °C at 5 °C outdoor, slope 0.75) at 0 °C outdoor. */
const CURVE_AT_0 = 48.75;
const STEP = 5 * MIN;

type H = ReturnType<typeof harness>;
type Meter = { supplyC: number; returnC?: number; flowM3h?: number; heatKw?: number };

/** Runs `ms` in tick steps; each step the substation's meter reports what `meter` says (outdoor 0 °C). */
async function runMetered(
  h: H,
  ms: number,
  temps: (b: string, f: number, c: number) => number,
  meter: (offsetC: number) => Meter,
): Promise<void> {
  for (let t = 0; t < ms; t += STEP) {
    const offsetC = h.published.at(-1)?.payload.supplyOffset ?? 0;
    const m = meter(offsetC);
    h.live.applySubstation([
      {
        substationId: 'ss',
        ts: h.clock.now(),
        supplyTempC: m.supplyC,
        returnTempC: m.returnC ?? m.supplyC - 15,
        flowM3h: m.flowM3h ?? 10,
        heatKw: m.heatKw ?? 175,
        outdoorTempC: 0,
      },
    ]);
    await h.run(STEP, temps);
    await h.scheduler.runDue();
  }
}

const cold = () => 17.3;
/** A gain high enough that the raise for a 17.3 °C estate is an auto-approved step (≤ 3 °C). */
const RULES = {
  response: { priorGainCPerC: 0.6 },
  substationMeter: { raiseDeviationC: 2, clearDeviationC: 1 },
};

describe('substation meters in the decisions (issue #11 §2)', () => {
  it('a setpoint the substation ignores raises the finding, a field task, and no further raise', async () => {
    const h = harness({ rules: RULES });
    // The controller keeps its old supply whatever heatwatch sends.
    await runMetered(h, 5 * HOUR, cold, () => ({ supplyC: CURVE_AT_0 }));
    const raise = (await h.tickets.list({ problem: 'substation_cold' }))[0]!;
    expect(raise.status).toBe('applied');
    const stepC = (raise.action as { deltaC: number }).deltaC;
    expect(stepC).toBeGreaterThanOrEqual(2);
    const f = h.engine.status().findings.find((x) => x.rule === 'supply-tracking');
    expect(f?.targetId).toBe('ss');
    expect(f?.valueC).toBeCloseTo(-stepC, 1);
    expect(f?.evidence.expectedSupplyC).toBeCloseTo(CURVE_AT_0 + stepC, 1);
    const task = (await h.tickets.list({ problem: 'supply_tracking' }))[0]!;
    expect(task.action.kind).toBe('field');
    expect(task.summary).toContain('did not take effect');
    // The estate is still cold, but a supply that does not follow is not raised again.
    expect((await h.tickets.list({ problem: 'substation_cold' })).length).toBe(1);
    expect(h.published).toHaveLength(1);
  });

  it('a lowering the substation ignores is not followed by another: the steps would pile up unseen', async () => {
    const h = harness({ rules: RULES });
    const warm = (_b: string, f: number, c: number) => (f === 3 || f === 1 || c === 1 || c === 4 ? 21 : 22.5);
    await runMetered(h, 56 * HOUR, warm, () => ({ supplyC: CURVE_AT_0 }));
    const lowerings = await h.tickets.list({ problem: 'overheat' });
    expect(lowerings).toHaveLength(1);
    expect((await h.tickets.get(lowerings[0]!.id))!.ticket.status).toBe('resolved');
    const f = h.engine.status().findings.find((x) => x.rule === 'supply-tracking');
    expect(f?.valueC).toBeGreaterThan(2);
    expect((await h.tickets.list({ problem: 'supply_tracking' }))[0]?.summary).toContain('supply above');
    expect(h.published).toHaveLength(1);
  });

  it('a substation that follows its setpoint (after its lag) raises nothing', async () => {
    const h = harness({ rules: RULES });
    let supplyC = CURVE_AT_0;
    // First-order follow with a 15-minute time constant.
    await runMetered(h, 5 * HOUR, cold, (offsetC) => {
      supplyC += (CURVE_AT_0 + offsetC - supplyC) * (1 - Math.exp(-5 / 15));
      return { supplyC };
    });
    expect((await h.tickets.list({ problem: 'substation_cold' }))[0]?.status).toBe('applied');
    expect(h.engine.status().findings.some((x) => x.rule === 'supply-tracking')).toBe(false);
    expect(await h.tickets.list({ problem: 'supply_tracking' })).toEqual([]);
  });

  it('learns how long supply takes to follow a step from the meter', () => {
    const h = harness();
    const cfg = rules();
    const w = new MeterWatch(h.live, () => cfg);
    let offsetC = 0;
    let supplyC = CURVE_AT_0;
    for (let k = 0; k < 48; k++) {
      if (k === 6) offsetC = 4;
      supplyC += (CURVE_AT_0 + offsetC - supplyC) * (1 - Math.exp(-5 / 10));
      h.clock.advance(STEP);
      h.live.applySubstation([
        { substationId: 'ss', ts: h.clock.now(), supplyTempC: supplyC, returnTempC: 40, outdoorTempC: 0 },
      ]);
      w.update(h.clock.now(), () => ({ ...NEUTRAL_SETPOINT, supplyOffsetC: offsetC }));
    }
    // A 10-minute controller seen in 5-minute steps: the prior 30 min moves halfway (learnRate 0.5).
    const lag = w.lagMinOf('ss');
    expect(lag).toBeLessThan(cfg.substationMeter.priorSupplyLagMin);
    expect(lag).toBeGreaterThan(15);
    expect(w.expectation('ss')?.lagLearnt).toBe(true);
  });

  it('a cold estate with high flow and low ΔT gets a hydraulic field task, not more supply', async () => {
    const h = harness({ rules: RULES });
    const meter = { supplyC: CURVE_AT_0, returnC: CURVE_AT_0 - 15, flowM3h: 10 };
    // A day and more of normal operation teaches the normal flow and ΔT.
    await runMetered(
      h,
      30 * HOUR,
      (_b, f, c) => h.healthy(f, c),
      () => meter,
    );
    // Then the water runs through: flow up 40 %, ΔT down to 8 K; the estate goes cold.
    await runMetered(h, 3 * HOUR, cold, () => ({ ...meter, returnC: CURVE_AT_0 - 8, flowM3h: 14 }));
    const t = (await h.tickets.list({ problem: 'substation_cold' }))[0]!;
    expect(t.action.kind).toBe('field');
    expect(t.summary).toContain('hydraulic');
    expect(t.evidence.normal).toMatchObject({ flowM3h: 10, deltaTK: 15 });
    expect(h.published).toEqual([]);
  });

  it("records the heat the meter saw before the action and before the re-check in the adjustment's outcome", async () => {
    const h = harness({ rules: RULES });
    await runMetered(
      h,
      8 * HOUR,
      (_b, f, c) => h.healthy(f, c),
      () => ({ supplyC: CURVE_AT_0, heatKw: 200 }),
    );
    // The estate goes cold: the raise applies; the controller follows and delivers more heat.
    await runMetered(
      h,
      52 * HOUR,
      (_b, f, c) => (h.published.length ? h.healthy(f, c) : 17.3),
      (offsetC) => ({
        supplyC: CURVE_AT_0 + offsetC,
        heatKw: offsetC > 0 ? 240 : 200,
      }),
    );
    const t = (await h.tickets.list({ problem: 'substation_cold' }))[0]!;
    const done = (await h.tickets.get(t.id))!.ticket;
    expect(done.outcome).toBeDefined();
    const windowH = rules().recheck.windowH;
    expect(done.outcome!.heat).toMatchObject({
      substationId: 'ss',
      windowH,
      beforeKWh: 200 * windowH,
      afterKWh: 240 * windowH,
      afterOutdoorC: 0,
    });
    expect(done.outcome!.text).toContain(`heat ${200 * windowH} → ${240 * windowH} kWh`);
  });
});
