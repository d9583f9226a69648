import { describe, expect, it } from 'vitest';
import { curveSupplyC, positionClasses, RegistryIndex, samplingCoverage } from '../../src/core/registry.ts';

describe('position classes (docs/domain.md: floor 1 ground, top floor top, first/last column gable)', () => {
  it('marks a top corner unit as top and gable', () => {
    expect(positionClasses(6, 1, 6, 4)).toEqual(['top', 'gable']);
  });
  it('marks a ground middle unit as ground only', () => {
    expect(positionClasses(1, 2, 6, 4)).toEqual(['ground']);
  });
  it('marks an inner unit as middle', () => {
    expect(positionClasses(3, 2, 6, 4)).toEqual(['middle']);
  });
  it('marks every unit of a two-unit-wide building as gable', () => {
    expect(positionClasses(3, 1, 6, 2)).toEqual(['gable']);
    expect(positionClasses(3, 2, 6, 2)).toEqual(['gable']);
  });
});

describe('heating curve', () => {
  const curve = { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 };
  it('follows docs/domain.md example: 45 °C at +5, 60 °C at -15', () => {
    expect(curveSupplyC(curve, 5)).toBe(45);
    expect(curveSupplyC(curve, -15)).toBe(60);
  });
  it('adds the offset and the slope change', () => {
    expect(curveSupplyC(curve, -15, 2)).toBe(62);
    expect(curveSupplyC(curve, -15, 0, 0.25)).toBe(65);
  });
  it('clamps to the limits', () => {
    expect(curveSupplyC(curve, -60)).toBe(75);
    expect(curveSupplyC(curve, 30)).toBe(35);
  });
});

describe('sampling coverage (docs/domain.md 40 % rule)', () => {
  const index = new RegistryIndex({
    substations: [
      {
        id: 's',
        name: 's',
        curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
      },
    ],
    buildings: [{ id: 'b', name: 'b', substationId: 's', floors: 6, unitsPerFloor: 4 }],
    sensors: [
      { id: 'm1', buildingId: 'b', floor: 3, column: 2, intervalS: 300 },
      { id: 'm2', buildingId: 'b', floor: 3, column: 3, intervalS: 300 },
      { id: 'm3', buildingId: 'b', floor: 4, column: 2, intervalS: 300 },
      { id: 't1', buildingId: 'b', floor: 6, column: 1, intervalS: 300 },
      { id: 'g1', buildingId: 'b', floor: 1, column: 2, intervalS: 300 },
    ],
  });
  it('computes the exposed share and the classes not covered', () => {
    const cov = samplingCoverage(index.sensorsByBuilding.get('b')!);
    expect(cov.exposedShare).toBeCloseTo(0.4);
    expect(cov.missingClasses).toEqual([]);
  });
  it('finds a middle-heavy sample short of 40 %', () => {
    const cov = samplingCoverage(index.sensorsByBuilding.get('b')!.slice(0, 4));
    expect(cov.exposedShare).toBeCloseTo(0.25);
    expect(cov.missingClasses).toEqual(['ground']);
  });
  it('does not ask for a class the building has no unit of (a two-unit-wide block has no middle)', () => {
    const narrow = new RegistryIndex({
      substations: [
        {
          id: 's',
          name: 's',
          curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 },
        },
      ],
      buildings: [{ id: 'r', name: 'r', substationId: 's', floors: 5, unitsPerFloor: 2 }],
      sensors: [
        { id: 'a', buildingId: 'r', floor: 1, column: 1, intervalS: 300 },
        { id: 'b', buildingId: 'r', floor: 3, column: 2, intervalS: 300 },
        { id: 'c', buildingId: 'r', floor: 5, column: 1, intervalS: 300 },
      ],
    });
    expect(samplingCoverage(narrow.sensorsByBuilding.get('r')!).missingClasses).toEqual([]);
    // The same block with no top-floor sensor still misses its top floor.
    expect(samplingCoverage(narrow.sensorsByBuilding.get('r')!.slice(0, 2)).missingClasses).toEqual(['top']);
  });
});
