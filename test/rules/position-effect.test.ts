import { describe, expect, it } from 'vitest';
import { rulesMigrations } from '../../src/rules/module.ts';
import type { ResponseStore } from '../../src/rules/ports.ts';
import { ResponseLearner } from '../../src/rules/response-learner.ts';
import { MemoryResponseStore, SqlResponseStore } from '../../src/rules/response-store.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { HOUR, harness, rules } from './fixture.ts';

const NETWORK = 1.5;

function learner(over: Record<string, unknown> = {}, store: ResponseStore = new MemoryResponseStore()) {
  const cfg = rules({ imbalanceInside: over });
  return { l: new ResponseLearner(store, () => cfg), cfg, store };
}

describe('position effect per building (issue #11 §2)', () => {
  it('starts at the network value and blends its own gaps in by samples', () => {
    const { l, cfg } = learner();
    expect(l.positionGap('b1', NETWORK)).toEqual({ gapC: NETWORK, samples: 0 });
    for (let i = 0; i < 24; i++) l.learnPosition('b1', 1.0);
    const w0 = cfg.imbalanceInside.buildingPriorWeightH;
    const p = l.positionGap('b1', NETWORK);
    expect(p.samples).toBe(24);
    expect(p.ownC).toBeCloseTo(1.0, 6);
    expect(p.gapC).toBeCloseTo((NETWORK * w0 + 1.0 * 24) / (w0 + 24), 6);
    // More of its own history: closer to its own value than to the network's.
    for (let i = 0; i < 200; i++) l.learnPosition('b1', 1.0);
    expect(Math.abs(l.positionGap('b1', NETWORK).gapC - 1.0)).toBeLessThan(0.1);
    // Other buildings keep the network value.
    expect(l.positionGap('b2', NETWORK).gapC).toBe(NETWORK);
  });

  it('never moves further than buildingMaxDeviationC from the network value', () => {
    const { l } = learner({ buildingMaxDeviationC: 0.7 });
    for (let i = 0; i < 500; i++) {
      l.learnPosition('hi', 4);
      l.learnPosition('lo', -2);
    }
    expect(l.positionGap('hi', NETWORK).gapC).toBeCloseTo(NETWORK + 0.7, 6);
    expect(l.positionGap('lo', NETWORK).gapC).toBeCloseTo(NETWORK - 0.7, 6);
  });

  it('follows the season: at most buildingMemoryH hours weigh in', () => {
    const { l } = learner({ buildingMemoryH: 48 });
    for (let i = 0; i < 500; i++) l.learnPosition('b1', 1.0);
    for (let i = 0; i < 96; i++) l.learnPosition('b1', 2.0);
    const p = l.positionGap('b1', NETWORK);
    expect(p.samples).toBe(48);
    // With an unbounded mean it would still be near 1.16; two memories later it is near 2.
    expect(p.ownC!).toBeGreaterThan(1.8);
  });

  it('is stored: a new learner on the same ops database reads it back, and gains do not overwrite it', async () => {
    const db = openDb(':memory:', {
      synchronous: 'FULL',
      migrations: [...ticketMigrations, ...rulesMigrations],
    });
    const written = new SqlResponseStore(sqliteSql(db), () => 0);
    const { l } = learner({}, written);
    for (let i = 0; i < 30; i++) l.learnPosition('b1', 0.8);
    l.flushPositions();
    written.save('b1', { valveGainCPerPct: 0.04 });
    await written.flush();
    // A new store on the same database (a restart) reads back what was written.
    const store = new SqlResponseStore(sqliteSql(db), () => 0);
    await store.load();
    const again = new ResponseLearner(store, () => rules());
    const p = again.positionGap('b1', NETWORK);
    expect(p.samples).toBe(30);
    expect(p.ownC).toBeCloseTo(0.8, 6);
    expect(store.get('b1').valveGainCPerPct).toBe(0.04);
    // The response sample count counts responses, not hourly gaps.
    expect(store.get('b1').samples).toBe(1);
    db.close();
  });

  it('the engine learns a building hourly while it is healthy, and judges its imbalance against its own normal', async () => {
    const h = harness();
    // b1's exposed units run only 0.3 °C below its middle units (well insulated corners); the others 1.5 °C.
    const b1Low = (f: number, c: number) => (f === 3 || f === 1 || c === 1 || c === 4 ? 20.7 : 21);
    await h.run(3 * 24 * HOUR, (b, f, c) => (b === 'b1' ? b1Low(f, c) : h.healthy(f, c)));
    const p = h.engine.positionEffect('b1');
    expect(p.samples).toBeGreaterThanOrEqual(70);
    expect(p.samples).toBeLessThanOrEqual(73);
    expect(p.ownC!).toBeCloseTo(0.3, 1);
    expect(p.gapC).toBeLessThan(0.7);
    expect(h.engine.positionEffect('b2').gapC).toBeCloseTo(1.5, 1);
    // Now b1's exposed units fall to 2.4 °C below its middle: 0.9 °C over the network's normal gap
    // (never raised on the network value) but 2 °C over b1's own.
    await h.run(3 * HOUR, (b, f, c) =>
      b === 'b1' ? (f === 3 || f === 1 || c === 1 || c === 4 ? 18.6 : 21) : h.healthy(f, c),
    );
    const f = h.engine.status().findings.find((x) => x.rule === 'imbalance-inside' && x.targetId === 'b1');
    expect(f?.evidence.networkGapC).toBeCloseTo(1.5, 1);
    expect(Number(f?.evidence.normalGapC)).toBeLessThan(0.7);
    // While the condition is pending or active, b1 learns nothing of it.
    expect(h.engine.positionEffect('b1').samples).toBeLessThanOrEqual(73);
  });
});
