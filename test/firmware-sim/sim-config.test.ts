import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { syntheticRegistry } from '../../firmware-sim/synthetic.ts';
import { simSchema } from '../../src/config/sim-schema.ts';
import { RegistryIndex, samplingCoverage } from '../../src/core/registry.ts';

describe('sim.yaml schema', () => {
  it('an empty file is a valid scenario', () => {
    expect(simSchema.safeParse({}).success).toBe(true);
  });

  it('the shipped config/sim.yaml spells out exactly the defaults', () => {
    const shipped = simSchema.parse(parse(readFileSync('config/sim.yaml', 'utf8')));
    expect(shipped).toEqual(simSchema.parse({}));
  });

  it('refuses a bad value with its path, and unknown keys', () => {
    const bad = simSchema.safeParse({ physics: { timeConstantH: -1 }, weather: { coldSpels: [] } });
    expect(bad.success).toBe(false);
    const paths = bad.error!.issues.map((i) => i.path.join('.'));
    expect(paths).toContain('physics.timeConstantH');
    expect(paths.some((p) => p.startsWith('weather'))).toBe(true);
  });
});

describe('synthetic network', () => {
  it('makes the asked number of sensors, deterministically, following the 40 % sampling rule', () => {
    const a = syntheticRegistry({ sensors: 5000, seed: 3 });
    expect(a.sensors).toHaveLength(5000);
    expect(syntheticRegistry({ sensors: 5000, seed: 3 })).toEqual(a);
    const index = new RegistryIndex(a);
    expect(index.sensors.size).toBe(5000);
    for (const infos of index.sensorsByBuilding.values())
      if (infos.length >= 4) expect(samplingCoverage(infos).exposedShare).toBeGreaterThanOrEqual(0.4);
    for (const b of a.buildings) {
      expect(b.floors).toBeGreaterThanOrEqual(5);
      expect(b.floors).toBeLessThanOrEqual(18);
      expect(b.unitsPerFloor).toBeGreaterThanOrEqual(2);
      expect(b.unitsPerFloor).toBeLessThanOrEqual(6);
    }
  });
});
