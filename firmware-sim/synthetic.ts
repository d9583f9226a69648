/**
 * A synthetic network of any size, for load tests (`npm run sim -- --sensors 100000`): substations
 * with slightly different heating curves, buildings of 5–18 floors and 2–6 units per floor, and a
 * sensor sample per building that follows docs/domain.md's 40 % sampling rule (top, ground and gable units at
 * least 40 % of it; here half, as the demo network does). Deterministic per seed.
 */
import { positionClasses, type Registry } from '../src/core/registry.ts';
import { hash32, Rng } from './random.ts';

export interface SyntheticOptions {
  sensors: number;
  seed?: number;
  /** Sensors per building (fewer where a building has fewer units). */
  sensorsPerBuilding?: number;
  buildingsPerSubstation?: number;
  intervalS?: number;
}

export function syntheticRegistry(opts: SyntheticOptions): Registry {
  const seed = opts.seed ?? 42;
  const perBuilding = Math.max(1, opts.sensorsPerBuilding ?? 12);
  const perSubstation = Math.max(1, opts.buildingsPerSubstation ?? 20);
  const intervalS = opts.intervalS ?? 300;
  const rng = new Rng(hash32(seed, 'synthetic'));
  const reg: Registry = { substations: [], buildings: [], sensors: [] };
  let b = 0;
  while (reg.sensors.length < opts.sensors) {
    if (b % perSubstation === 0) {
      const n = reg.substations.length + 1;
      reg.substations.push({
        id: `ss${n}`,
        name: `Estate ${n}`,
        curve: {
          refOutdoorC: 5,
          refSupplyC: Math.round(rng.between(43, 48) * 2) / 2,
          slope: Math.round(rng.between(0.65, 0.85) * 100) / 100,
          minSupplyC: 35,
          maxSupplyC: 75,
        },
      });
    }
    b++;
    const substationId = reg.substations[reg.substations.length - 1]!.id;
    const floors = 5 + Math.floor(rng.next() * 14);
    const unitsPerFloor = 2 + Math.floor(rng.next() * 5);
    const id = `${substationId}-b${b}`;
    reg.buildings.push({ id, name: `Building ${b}`, substationId, floors, unitsPerFloor });
    const exposed: Array<[number, number]> = [];
    const middle: Array<[number, number]> = [];
    for (let f = 1; f <= floors; f++)
      for (let c = 1; c <= unitsPerFloor; c++)
        (positionClasses(f, c, floors, unitsPerFloor).includes('middle') ? middle : exposed).push([f, c]);
    shuffle(exposed, rng);
    shuffle(middle, rng);
    const want = Math.min(perBuilding, floors * unitsPerFloor, opts.sensors - reg.sensors.length);
    const fromExposed = Math.min(exposed.length, Math.max(Math.ceil(want / 2), want - middle.length));
    const picked = [...exposed.slice(0, fromExposed), ...middle.slice(0, want - fromExposed)];
    for (const [floor, column] of picked)
      reg.sensors.push({ id: `${id}-${floor}-${column}`, buildingId: id, floor, column, intervalS });
  }
  return reg;
}

function shuffle<T>(a: T[], rng: Rng): void {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(rng.next() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
}
