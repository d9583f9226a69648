import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, tryLoadConfig } from '../../src/config/loader.ts';
import {
  checkPartition,
  checkPartitionSet,
  ownsSubstation,
  partitionedView,
} from '../../src/ops/partition.ts';
import { LiveState } from '../../src/state/live-state.ts';

const { registry } = loadConfig(join(resolve(import.meta.dirname, '../..'), 'config'), {});
const [firstSensor] = registry.sensors.values();
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

  it('shows a rules instance only its substations, over the full live state', () => {
    const live = new LiveState(registry);
    const half = Math.ceil(ids.length / 2);
    const a = partitionedView(live, { substations: ids.slice(0, half) });
    const b = partitionedView(live, { substations: ids.slice(half) });
    expect([...a.index.substations.keys()]).toEqual(ids.slice(0, half));
    for (const bl of a.index.buildings.values()) expect(ids.slice(0, half)).toContain(bl.substationId);
    for (const s of a.index.sensors.values()) expect(a.index.buildings.has(s.building.id)).toBe(true);
    // Together the two partitions see every building and sensor once.
    expect(a.index.buildings.size + b.index.buildings.size).toBe(registry.buildings.size);
    expect(a.index.sensors.size + b.index.sensors.size).toBe(registry.sensors.size);
    // Readings land in the one live state; the view reads them through.
    const s = firstSensor!;
    live.applyRoom([
      {
        sensorId: s.sensor.id,
        source: 'sensor',
        ts: 1000,
        tempC: 19.5,
        buildingId: s.building.id,
        substationId: s.substation.id,
        floor: s.sensor.floor,
        column: s.sensor.column,
        classes: s.classes,
      },
    ]);
    const owner = a.index.buildings.has(s.building.id) ? a : b;
    expect(owner.buildingSensors(s.building.id).find((x) => x.info.sensor.id === s.sensor.id)?.tempC).toBe(
      19.5,
    );
    // No partition: the live state itself.
    expect(partitionedView(live, { substations: [] })).toBe(live);
  });

  it('is refused by the config loader when it names a substation the registry lacks', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-partition-'));
    try {
      copyFileSync(
        join(resolve(import.meta.dirname, '../..'), 'config/network.yaml'),
        join(dir, 'network.yaml'),
      );
      writeFileSync(join(dir, 'heatwatch.yaml'), `partition:\n  substations: [${ids[0]}, ss-nowhere]\n`);
      const r = tryLoadConfig(dir, {});
      expect(r.ok).toBe(false);
      if (!r.ok)
        expect(r.issues).toEqual([
          expect.objectContaining({ file: 'heatwatch.yaml', path: 'partition.substations[1]' }),
        ]);
      writeFileSync(join(dir, 'heatwatch.yaml'), `partition:\n  substations: [${ids[0]}]\n`);
      expect(tryLoadConfig(dir, {}).ok).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('lease partitions in the config', () => {
  const withLeases = (leases: string): ReturnType<typeof tryLoadConfig> => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-leases-'));
    try {
      for (const f of ['network.yaml', 'rules.yaml', 'sim.yaml'])
        copyFileSync(join(resolve(import.meta.dirname, '../..'), 'config', f), join(dir, f));
      writeFileSync(join(dir, 'heatwatch.yaml'), `partition:\n  leases:\n${leases}`);
      return tryLoadConfig(dir, {});
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };

  it('accepts a split of known substations and refuses unknown ids, overlaps and a renewal too slow for the lease', () => {
    const ok = withLeases(`    partitions: { north: [${ids[0]}], south: [${ids[1]}] }\n`);
    expect(ok.ok).toBe(true);
    const bad = withLeases(
      `    partitions: { north: [${ids[0]}, nope], south: [${ids[0]}] }\n    renewMs: 6000\n    durationMs: 10000\n`,
    );
    expect(bad.ok).toBe(false);
    const messages = bad.ok ? [] : bad.issues.map((i) => `${i.path}: ${i.message}`);
    expect(messages).toEqual(
      expect.arrayContaining([
        expect.stringMatching(/^partition\.leases\.renewMs: renewMs must be at most half/),
      ]),
    );
    const second = withLeases(`    partitions: { north: [${ids[0]}, nope], south: [${ids[0]}] }\n`);
    expect(second.ok ? [] : second.issues.map((i) => `${i.path}: ${i.message}`)).toEqual([
      "partition.leases.partitions.north[1]: unknown substation 'nope'",
      `partition.leases.partitions.south[0]: substation '${ids[0]}' is also in partition 'north'`,
    ]);
  });

  it('takes the instance name from HEATWATCH_INSTANCE_ID', () => {
    const c = loadConfig(join(resolve(import.meta.dirname, '../..'), 'config'), {
      HEATWATCH_INSTANCE_ID: 'rules-2',
    });
    expect(c.service.partition.leases.instanceId).toBe('rules-2');
  });
});
