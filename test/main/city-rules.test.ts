import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Heatwatch } from '../../src/main.ts';
import { leases } from '../../src/ops/lease.ts';
import { pgAvailable, pgSchema } from '../support/postgres.ts';
import { postgresConfig, startOnPostgres, tempDir, waitFor } from './support.ts';

const hasPg = await pgAvailable();
const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** A rules instance of a city, in-process on its own ports and data directory. */
function rulesInstance(configDir: string, dataDir: string, url: string, name: string): Promise<Heatwatch> {
  return startOnPostgres({
    configDir,
    dataDir,
    url,
    env: { HEATWATCH_ROLE: 'rules', HEATWATCH_INSTANCE_ID: name },
    configure: (c) => {
      c.service.partition.leases = {
        ...c.service.partition.leases,
        renewMs: 200,
        durationMs: 1000,
        takeoverMs: 100,
      };
    },
  });
}

describe.skipIf(!hasPg)('rules instances of a city (role rules, ops.kind postgres)', () => {
  it('run the whole network as one leased partition: one holds it, the other takes it when the first stops', async () => {
    const t = tempDir('hw-city-rules-');
    cleanup.push(t.cleanup);
    const schema = await pgSchema();
    cleanup.push(() => schema.drop());
    const configDir = postgresConfig(t.dir);
    const r1 = await rulesInstance(configDir, join(t.dir, 'r1'), schema.url, 'rules-1');
    let r1Stopped = false;
    cleanup.push(() => (r1Stopped ? undefined : r1.stop()));
    const r2 = await rulesInstance(configDir, join(t.dir, 'r2'), schema.url, 'rules-2');
    cleanup.push(() => r2.stop());
    const rows = async () => (await leases(r1.opsSql)).map((l) => `${l.partition}:${l.holder}:${l.token}`);
    expect(await rows()).toEqual(['city:rules-1:1']);
    // The holder keeps it while it renews (several lease durations).
    await new Promise((r) => setTimeout(r, 2500));
    expect(await rows()).toEqual(['city:rules-1:1']);
    // A clean stop gives the lease back; the standby takes the partition with the next token.
    const probe = r2.opsSql;
    await r1.stop();
    r1Stopped = true;
    await waitFor(
      async () => (await leases(probe)).some((l) => l.holder === 'rules-2'),
      20_000,
      'the takeover',
    );
    expect((await leases(probe)).map((l) => `${l.partition}:${l.holder}:${l.token}`)).toEqual([
      'city:rules-2:2',
    ]);
    // Its rules checkpoint is the partition's (resumed by whoever holds it next).
    await r2.stop();
    cleanup.pop();
    const { default: pg } = await import('pg');
    const c = new pg.Client({ connectionString: schema.url });
    await c.connect();
    try {
      const cp = await c.query('SELECT partition FROM rules_checkpoints ORDER BY partition');
      expect(cp.rows).toEqual([{ partition: 'city' }]);
    } finally {
      await c.end();
    }
  }, 90_000);
});
