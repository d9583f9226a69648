import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { checkPartition, checkPartitionSet, ownsSubstation } from '../../src/ops/partition.ts';

const { registry } = loadConfig(join(resolve(import.meta.dirname, '../..'), 'config'), {});
const ids = [...registry.substations.keys()];

describe('rules partitions by substation', () => {
  it('owns everything when no substations are listed, and exactly the listed ones otherwise', () => {
    expect(ids.every(ownsSubstation({ substations: [] }))).toBe(true);
    const owns = ownsSubstation({ substations: [ids[0]!] });
    expect(ids.filter(owns)).toEqual([ids[0]]);
  });

  it('names unknown substations as config issues', () => {
    expect(checkPartition({ substations: [ids[0]!, 'nope'] }, registry)).toEqual([
      { file: 'heatwatch.yaml', path: 'partition.substations[1]', message: "unknown substation 'nope'" },
    ]);
  });

  it('accepts a clean split of the network and reports gaps and overlaps', () => {
    const half = Math.ceil(ids.length / 2);
    const a = { substations: ids.slice(0, half) };
    const b = { substations: ids.slice(half) };
    expect(
      checkPartitionSet(
        new Map([
          ['rules-a', a],
          ['rules-b', b],
        ]),
        registry,
      ),
    ).toEqual([]);
    expect(checkPartitionSet(new Map([['rules-a', a]]), registry)).toEqual(
      ids.slice(half).map((id) => `substation ${id} is owned by no instance`),
    );
    expect(
      checkPartitionSet(
        new Map([
          ['rules-a', a],
          ['all', { substations: [] }],
        ]),
        registry,
      ),
    ).toContain(`substation ${ids[0]} is owned by rules-a and all`);
  });
});
