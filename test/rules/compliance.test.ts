import { describe, expect, it } from 'vitest';
import { ComplianceAccumulator, complianceFromHistory } from '../../src/rules/compliance.ts';
import { HOUR, rules, smallRegistry } from './fixture.ts';

describe('compliance figures', () => {
  it('accumulates degree-hours below 18 °C, share in band and the 14–16 / below-14 bands from live samples', () => {
    const index = smallRegistry(1);
    const cfg = rules();
    const acc = new ComplianceAccumulator(
      () => index,
      () => cfg,
    );
    // b1-1-1: 1 h at 19 °C, 1 h at 15 °C, 1 h at 13 °C; the 2 h silence after is not counted.
    acc.sample('b1-1-1', 0, 19);
    acc.sample('b1-1-1', HOUR, 15);
    acc.sample('b1-1-1', 2 * HOUR, 13);
    acc.sample('b1-1-1', 3 * HOUR, 18);
    acc.sample('b1-1-1', 5 * HOUR, 18);
    const u = acc.unit('b1-1-1');
    expect(u).toEqual({
      hours: 3,
      inBandHours: 1,
      atOrAboveRequiredHours: 1,
      degreeHoursBelow: 3 + 5,
      lowBandHours: 1,
      veryLowBandHours: 1,
    });
    expect(acc.building('b1')).toEqual(u);
  });

  it('computes the same figures from stored history buckets', () => {
    const f = complianceFromHistory(
      [
        { ts: 0, meanC: 19, minC: 19, maxC: 19, count: 12 },
        { ts: HOUR, meanC: 15, minC: 15, maxC: 15, count: 12 },
      ],
      HOUR,
      rules(),
    );
    expect(f).toMatchObject({ hours: 2, inBandHours: 1, degreeHoursBelow: 3, lowBandHours: 1 });
  });
});
