import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { buildApp } from '../../src/http/app.ts';
import { httpMigrations } from '../../src/http/audit.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { harness, MIN } from '../rules/fixture.ts';
import { makeHarness, TOKENS, USERS } from './harness.ts';

/** The API over the rules harness's live state, reading building states from the engine itself. */
async function apiOverEngine() {
  const h = harness();
  const built = await buildApp({
    http: serviceSchema.parse({ http: { buildDashboard: false } }).http,
    rules: h.engine.rules,
    users: USERS,
    db: openDb(':memory:', { synchronous: 'NORMAL', migrations: httpMigrations }),
    deps: { clock: h.clock, wallClock: h.clock, bus: h.bus, live: h.live, buildingState: h.engine },
    log: silentLogger(),
    announceAdminToken: () => {},
    dashboardDir: mkdtempSync(join(tmpdir(), 'hw-dash-')),
  });
  await built.app.ready();
  const states = async () => {
    const res = await built.app.inject({
      url: '/api/buildings',
      headers: { authorization: `Bearer ${TOKENS.viewer}` },
    });
    expect(res.statusCode).toBe(200);
    return Object.fromEntries(
      (res.json().buildings as Array<{ id: string; state: string }>).map((b) => [b.id, b.state]),
    );
  };
  return { h, app: built.app, states };
}

describe('building states in the API', () => {
  it("are the rules' judgement: cold once building-under-temp holds, ok again once it clears", async () => {
    const { h, app, states } = await apiOverEngine();
    const b1Cold = (b: string, f: number, c: number) => (b === 'b1' ? 17 : h.healthy(f, c));
    // Cold for half an hour: below the rule's minimum duration, so not judged cold yet.
    await h.run(30 * MIN, b1Cold);
    expect((await states()).b1).toBe('ok');
    await h.run(40 * MIN, b1Cold);
    expect(h.engine.stateOf('b1')).toBe('cold');
    expect(await states()).toEqual({ b1: 'cold', b2: 'ok', b3: 'ok', b4: 'ok' });
    await h.run(30 * MIN, (_b, f, c) => h.healthy(f, c));
    expect((await states()).b1).toBe('ok');
    await app.close();
  });

  it('without the engine at hand, show what the rules announced on the bus', async () => {
    const h = await makeHarness();
    await h.http.app.ready();
    const stateOf = async (id: string) =>
      (
        await h.http.app.inject({
          url: `/api/buildings/${id}`,
          headers: { authorization: `Bearer ${TOKENS.viewer}` },
        })
      ).json().state;
    // A building the rules never judged is ok, as RulesEngine.stateOf says; readings alone change nothing.
    h.live.applyRoom([h.reading('n01-6-1', 12)]);
    expect(await stateOf('n01')).toBe('ok');
    h.bus.emit('buildingStatus', { buildingId: 'n01', state: 'cold', ts: h.clock.now() });
    expect(await stateOf('n01')).toBe('cold');
    await h.http.app.close();
  });
});
