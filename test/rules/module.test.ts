import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RulesModule, rulesMigrations } from '../../src/rules/module.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { harness, MIN } from './fixture.ts';

const dir = mkdtempSync(join(tmpdir(), 'hw-rules-module-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('RulesModule checkpoint', () => {
  it('a restart keeps a condition’s minimum-duration clock: it fires at the hour, not an hour after restart', async () => {
    const file = join(dir, 'ops.db');
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const open = () =>
      openDb(file, { synchronous: 'FULL', migrations: [...ticketMigrations, ...rulesMigrations] });
    const boot = async () => {
      const h = harness({ clock, db: open() });
      const mod = new RulesModule({
        clock,
        bus: h.bus,
        live: h.live,
        ops: sqliteSql(h.db),
        rules: h.engine.rules,
        publishRetained: async () => {},
        setpointTopic: (id) => `heat/substations/${id}/setpoint`,
        log: silentLogger(),
      });
      await mod.start();
      return { h, mod };
    };
    const feed = async (h: ReturnType<typeof harness>, minutes: number) => {
      for (let m = 0; m < minutes; m += 5) {
        h.setAll((b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)) + ((m / 5) % 2) * 0.1);
        await clock.advanceAsync(5 * MIN);
      }
    };
    const cold = (mod: RulesModule) =>
      mod.engine.status().findings.some((f) => f.rule === 'building-under-temp' && f.targetId === 'b2');
    const a = await boot();
    await feed(a.h, 45);
    expect(cold(a.mod)).toBe(false);
    await a.mod.stop();
    a.h.db.close();
    const b = await boot();
    await feed(b.h, 25);
    expect(cold(b.mod)).toBe(true);
    await b.mod.stop();
    b.h.db.close();
  });
});

describe('partition', () => {
  it('an instance judges only the substations of its partition', async () => {
    const { partitionedView } = await import('../../src/ops/partition.ts');
    const { LiveState } = await import('../../src/state/live-state.ts');
    const { RegistryIndex } = await import('../../src/core/registry.ts');
    const base = harness().index.registry;
    const two = new RegistryIndex({
      substations: [...base.substations, { ...base.substations[0]!, id: 'ss2' }],
      buildings: [...base.buildings, { ...base.buildings[0]!, id: 'x1', substationId: 'ss2' }],
      sensors: [...base.sensors, { ...base.sensors[0]!, id: 'x1-1-1', buildingId: 'x1' }],
    });
    const view = partitionedView(new LiveState(two), { substations: ['ss2'] });
    expect([...view.index.substations.keys()]).toEqual(['ss2']);
    expect([...view.index.buildings.keys()]).toEqual(['x1']);
    expect([...view.index.sensors.keys()]).toEqual(['x1-1-1']);
  });
});
