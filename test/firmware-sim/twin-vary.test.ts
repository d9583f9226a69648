import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../firmware-sim/twin/scenario.ts';
import { VARIED_RANGES, varyScenario } from '../../firmware-sim/twin/vary.ts';

const FILE = 'firmware-sim/scenarios/mixed-city.yaml';

describe('scenario variants (bench twin --vary)', () => {
  it('scales every varied range by a factor within the spread, the same for the same variant seed', () => {
    const sc = loadScenario(FILE);
    const a = varyScenario(sc, 4, 0.2);
    const b = varyScenario(sc, 4, 0.2);
    expect(a).toEqual(b);
    expect(Object.keys(a.factors)).toHaveLength(VARIED_RANGES.length);
    for (const [section, key] of VARIED_RANGES) {
      const f = a.factors[`${section}.${key}`]!;
      expect(f).toBeGreaterThanOrEqual(0.8);
      expect(f).toBeLessThanOrEqual(1.2);
      const base = (sc[section] as unknown as Record<string, [number, number]>)[key]!;
      const varied = (a.scenario[section] as unknown as Record<string, [number, number]>)[key]!;
      expect(varied[0]).toBeCloseTo(base[0] * f, 2);
      expect(varied[1]).toBeCloseTo(base[1] * f, 2);
    }
    // Another variant seed moves the ranges differently.
    expect(varyScenario(sc, 5, 0.2).factors).not.toEqual(a.factors);
  });

  it('keeps the scenario kind (shares of curves too high and too low, weather) and leaves the base untouched', () => {
    const sc = loadScenario(FILE);
    const before = structuredClone(sc);
    const v = varyScenario(sc, 6, 0.2).scenario;
    expect(sc).toEqual(before);
    expect(v.network.tooHighShare).toBe(sc.network.tooHighShare);
    expect(v.network.tooLowShare).toBe(sc.network.tooLowShare);
    expect(v.weather).toEqual(sc.weather);
    expect(v.overSupplied).toBe(sc.overSupplied);
  });

  it('a spread of zero is the scenario itself; a spread outside [0, 1) is refused', () => {
    const sc = loadScenario(FILE);
    expect(varyScenario(sc, 9, 0).scenario).toEqual(sc);
    expect(() => varyScenario(sc, 9, 1.5)).toThrow(/spread/);
  });
});
