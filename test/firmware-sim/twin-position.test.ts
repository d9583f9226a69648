import { describe, expect, it } from 'vitest';
import { runTwin } from '../../firmware-sim/twin/run.ts';
import { loadScenario } from '../../firmware-sim/twin/scenario.ts';

/**
 * heatwatch learns each building's position effect from its own readings (docs/rules.md); the twin
 * knows the truth (its monitored units' true middle − exposed gap). The engine never reads it; the
 * test does. Buildings whose exposed units are starved by long risers are left out: their gap is a
 * fault, not the normal effect.
 */
describe('position effect per building on the twin', () => {
  for (const [name, seed] of [
    ['mixed-city', 2],
    ['autumn-fast', 4],
  ] as const) {
    it(`${name} seed ${seed}: each building's learnt gap is nearer its true gap than the network value`, async () => {
      const r = await runTwin(loadScenario(`firmware-sim/scenarios/${name}.yaml`), {
        scenarioName: name,
        seed,
        days: 6,
        strategy: 'watching',
      });
      const rows = r.positionTruth
        .filter((t) => !t.starved)
        .map((t) => ({ t, p: r.position![t.buildingId]! }))
        .filter(({ p }) => p.samples >= 48);
      expect(rows.length).toBeGreaterThanOrEqual(8);
      const mae = (f: (x: (typeof rows)[number]) => number) =>
        rows.reduce((a, x) => a + Math.abs(f(x) - x.t.trueGapC), 0) / rows.length;
      const network = mae((x) => x.p.networkGapC);
      const own = mae((x) => x.p.ownC!);
      const blended = mae((x) => x.p.gapC);
      expect(own).toBeLessThan(network / 2);
      expect(blended).toBeLessThan(0.7 * network);
    }, 60_000);
  }
});
