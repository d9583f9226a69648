import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import { HwError } from '../../src/core/errors.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { HOUR, harness, MIN } from '../rules/fixture.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('diagnosis → proposal', () => {
  it('whole substation cold → raise the supply offset, sized from deficit and gain, clamped to the step', async () => {
    const h = harness({ rules: { autoApprove: { enabled: false } } });
    await h.run(70 * MIN, () => 16.5);
    const [t, ...rest] = await h.tickets.list({ status: 'open' });
    expect(rest.filter((x) => x.problem !== 'exposed_cold')).toHaveLength(0);
    expect(t).toMatchObject({ problem: 'substation_cold', targetId: 'ss', status: 'proposed' });
    // deficit 19 − 16.5 = 2.5 °C at 0.35 °C/°C → 7.1 °C, clamped to limits.maxOffsetStepC = 4.
    expect(t!.action).toEqual({ kind: 'supply-offset', deltaC: 4 });
    expect(t!.predicted.deltaC).toBeCloseTo(1.4, 1);
    expect(t!.evidence).toHaveProperty('coldBuildings');
  });

  it('one cold building with fine neighbours → open its entry valve (auto-approved and applied)', async () => {
    const h = harness();
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const t = (await h.tickets.list({ problem: 'building_cold' }))[0]!;
    expect(t.status).toBe('applied');
    expect(t.action).toMatchObject({ kind: 'valves', valves: { b2: 100 }, previous: { b2: 70 } });
    expect(h.published).toEqual([
      {
        substationId: 'ss',
        payload: expect.objectContaining({ ticketId: t.id, buildingValves: { b2: 100 }, supplyOffset: 0 }),
      },
    ]);
    expect(t.evidence.coldUnits).toBeInstanceOf(Array);
  });

  it('over-temperature across the estate → lower the supply', async () => {
    const h = harness({ rules: { autoApprove: { enabled: false } } });
    await h.run(2.5 * HOUR, () => 24.5);
    const t = (await h.tickets.list({ problem: 'overheat' }))[0]!;
    expect(t.action.kind).toBe('supply-offset');
    expect((t.action as { deltaC: number }).deltaC).toBeLessThan(0);
  });
});

describe('ticket lifecycle', () => {
  it('one open ticket per (target, problem): a repeat updates it, never a twin', async () => {
    const h = harness({ rules: { autoApprove: { enabled: false }, recheck: { refreshS: 0 } } });
    await h.run(3 * HOUR, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const all = await h.tickets.list({ targetId: 'b2', problem: 'building_cold' });
    expect(all).toHaveLength(1);
    expect(all[0]!.occurrences).toBeGreaterThan(1);
  });

  it('operator actions: coded errors for illegal transitions, an event row per transition, ticketChanged', async () => {
    const h = harness({ rules: { autoApprove: { enabled: false } } });
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const id = (await h.tickets.list({ problem: 'building_cold' }))[0]!.id;
    await expect(h.tickets.close(id, 'ops', 'x')).rejects.toThrow(
      expect.objectContaining({ code: 'HW_ERR_CONFLICT', statusCode: 409 }),
    );
    await expect(h.tickets.approve('T-99999', 'ops')).rejects.toThrow(HwError);
    // Apply needs an approved ticket: the approval step cannot be skipped (issue #13 item 3).
    await expect(h.tickets.apply(id, 'alice')).rejects.toThrow(
      expect.objectContaining({ code: 'HW_ERR_CONFLICT', statusCode: 409 }),
    );
    await h.tickets.approve(id, 'alice', 'looks right');
    // A broker that refuses: the ticket is applied with its command in the outbox, retried until acknowledged.
    h.setFailPublish(true);
    await h.tickets.apply(id, 'alice', 'valve opened');
    expect((await h.tickets.get(id))!.ticket.status).toBe('applied');
    await h.tickets.outbox.drainOnce();
    expect(await h.tickets.setpointStatus(id)).toMatchObject({ delivery: 'pending', attempts: 2 });
    expect(h.published).toHaveLength(0);
    h.setFailPublish(false);
    expect(await h.tickets.outbox.drainOnce()).toBe(1);
    expect(h.published).toHaveLength(1);
    expect(await h.tickets.outbox.drainOnce()).toBe(0);
    await expect(h.tickets.reject(id, 'bob')).rejects.toThrow(expect.objectContaining({ statusCode: 409 }));
    const ev = (await h.tickets.get(id))!.events;
    expect(ev.map((e) => e.kind)).toEqual([
      'created',
      'approved',
      'applied',
      'setpoint-retry',
      'setpoint-published',
    ]);
    expect(ev[1]).toMatchObject({
      actor: 'alice',
      reason: 'looks right',
      fromStatus: 'proposed',
      toStatus: 'approved',
    });
    await Promise.resolve();
    expect(h.changes.map((c) => c.status)).toEqual(['proposed', 'approved', 'applied']);
  });

  it('suppression while settling: the same condition on the same target is counted, visibly, not re-raised', async () => {
    const h = harness();
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    await h.run(5 * HOUR, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const all = await h.tickets.list({ targetId: 'b2' });
    expect(all).toHaveLength(1);
    expect(all[0]!.status).toBe('applied');
    expect(all[0]!.suppressedCount).toBeGreaterThan(0);
    expect(all[0]!.suppressedReason).toMatch(/settling until the re-check/);
    expect((await h.tickets.get(all[0]!.id))!.events.filter((e) => e.kind === 'suppressed')).toHaveLength(1);
  });

  it('a flapping condition marks its ticket instead of raising new ones', async () => {
    const h = harness({
      rules: { autoApprove: { enabled: false }, buildingCold: { minDurationS: 0 }, recheck: { refreshS: 0 } },
    });
    for (let i = 0; i < 4; i++) {
      await h.run(20 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
      await h.run(20 * MIN, (b, f, c) => (b === 'b2' ? 18.5 : h.healthy(f, c)));
    }
    await h.run(10 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    expect(h.engine.status().findings.find((f) => f.rule === 'building-under-temp')?.state).toBe('flapping');
    const t = await h.tickets.list({ targetId: 'b2', problem: 'building_cold' });
    expect(t).toHaveLength(1);
    expect(t[0]!.flapping).toBe(true);
    expect((await h.tickets.get(t[0]!.id))!.events.map((e) => e.kind)).toContain('flapping');
  });
});

describe('re-checks', () => {
  it('due 48 h after apply: resolves when back in band, runs once, and learns the valve gain', async () => {
    const h = harness();
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const t = (await h.tickets.list({ problem: 'building_cold' }))[0]!;
    expect(t.recheckDueTs).toBe(t.appliedTs! + 48 * HOUR);
    await h.run(47 * HOUR, (b, f, c) => (b === 'b2' ? 18.8 : h.healthy(f, c)));
    expect(await h.scheduler.runDue()).toEqual([]);
    await h.run(1 * HOUR, (b, f, c) => (b === 'b2' ? 18.8 : h.healthy(f, c)));
    expect(await h.scheduler.runDue()).toEqual([t.id]);
    const done = (await h.tickets.get(t.id))!;
    expect(done.ticket.status).toBe('resolved');
    expect(done.events.map((e) => e.toStatus).slice(-2)).toEqual(['rechecking', 'resolved']);
    expect(done.ticket.outcome?.correctedDeltaC).toBeCloseTo(2, 0);
    expect(await h.scheduler.runDue()).toEqual([]);
    // The engine's learner moved the valve gain off its prior with what this re-check observed.
    expect(h.engine.response('b2').valveGainCPerPct).not.toBe(h.engine.rules.response.priorValveGainCPerPct);
  });

  it('escalates when still cold, with the next proposal linked to it', async () => {
    const h = harness();
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : b === 'b3' ? 22 : h.healthy(f, c)));
    const t = (await h.tickets.list({ problem: 'building_cold' }))[0]!;
    await h.run(48 * HOUR, (b, f, c) => (b === 'b2' ? 16.9 : b === 'b3' ? 22 : h.healthy(f, c)));
    await h.scheduler.runDue();
    expect((await h.tickets.get(t.id))!.ticket.status).toBe('escalated');
    const next = (await h.tickets.list({ problem: 'building_cold', status: 'open' }))[0]!;
    expect(next.parentId).toBe(t.id);
    // The valve is fully open now: the next step throttles the over-heated neighbour b3.
    expect(next.action).toMatchObject({ kind: 'valves', valves: { b3: expect.any(Number) } });
  });

  it('restart mid-window: tickets and the schedule survive; a re-check that fell due while down runs once', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'hw-tickets-'));
    dirs.push(dir);
    const file = join(dir, 'ops.db');
    const clock = new ManualClock(Date.UTC(2026, 0, 15));
    const a = harness({ clock, db: openDb(file, { synchronous: 'FULL', migrations: ticketMigrations }) });
    await a.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : a.healthy(f, c)));
    const t = (await a.tickets.list({ problem: 'building_cold' }))[0]!;
    expect(t.status).toBe('applied');
    await a.run(20 * HOUR, (b, f, c) => (b === 'b2' ? 18.9 : a.healthy(f, c)));
    a.db.close(); // heatwatch stops 20 h into the 48 h window
    clock.set(clock.now() + 40 * HOUR); // ... and comes back after the re-check fell due
    const b = harness({ clock, db: openDb(file, { synchronous: 'FULL', migrations: ticketMigrations }) });
    expect((await b.tickets.get(t.id))!.ticket.status).toBe('applied');
    expect(await b.tickets.pendingRechecks()).toEqual([{ ticketId: t.id, dueTs: t.recheckDueTs }]);
    b.setAll((bid, f, c) => (bid === 'b2' ? 18.9 : b.healthy(f, c)));
    await b.scheduler.start(); // runs what fell due while down
    b.scheduler.stop();
    expect((await b.tickets.get(t.id))!.ticket.status).toBe('resolved');
    expect((await b.tickets.get(t.id))!.events.filter((e) => e.toStatus === 'resolved')).toHaveLength(1);
    b.db.close();
    // A second restart finds nothing left to run.
    const c = harness({ clock, db: openDb(file, { synchronous: 'FULL', migrations: ticketMigrations }) });
    await c.scheduler.start();
    c.scheduler.stop();
    expect((await c.tickets.get(t.id))!.events.filter((e) => e.kind === 'resolved')).toHaveLength(1);
    expect((await c.tickets.setpointOf('ss')).buildingValves).toEqual({ b2: 100 });
    c.db.close();
  });
});

describe('rules reload', () => {
  it('reports what changed; a broken edit is refused precisely and the last good rules stay', () => {
    const h = harness();
    const r = h.engine.applyRules({ requiredTempC: 18.5, buildingCold: { minDurationS: 600 } });
    expect(r).toEqual({ ok: true, changed: ['requiredTempC', 'buildingCold.minDurationS'] });
    const bad = h.engine.applyRules({ buildingCold: { clearOffsetC: -1 }, tick: { intervalS: 'x' } });
    expect(bad.ok).toBe(false);
    if (!bad.ok) {
      expect(bad.issues).toContain(
        'rules.yaml: tick.intervalS: Invalid input: expected number, received string',
      );
    }
    expect(h.engine.rules.requiredTempC).toBe(18.5);
    const order = h.engine.applyRules({ unitHot: { raiseAboveC: 24, clearBelowC: 25 } });
    expect(order).toEqual({
      ok: false,
      issues: ['rules.yaml: unitHot.clearBelowC: must be below raiseAboveC'],
    });
  });
});

describe('HTTP contract', () => {
  it("the API's ticket adapter reads and acts through TicketService as is", async () => {
    const { TicketServiceAdapter } = await import('../../src/http/ticket-adapter.ts');
    const h = harness({ rules: { autoApprove: { enabled: false } } });
    await h.run(70 * MIN, (b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)));
    const api = new TicketServiceAdapter(h.tickets, () => h.index);
    const [v] = await api.list({ status: 'proposed' });
    expect(v).toMatchObject({
      problem: 'building_cold',
      targetId: 'b2',
      actions: ['approve', 'reject'],
    });
    await expect(api.act(v!.id, 'apply', 'carol')).rejects.toMatchObject({ statusCode: 409 });
    await api.act(v!.id, 'approve', 'carol', 'checked');
    const applied = await api.act(v!.id, 'apply', 'carol', 'on site');
    expect(applied.status).toBe('applied');
    expect(applied.recheckDueTs).toBeGreaterThan(h.clock.now());
    await expect(api.act(v!.id, 'approve', 'carol')).rejects.toMatchObject({ statusCode: 409 });
  });
});
