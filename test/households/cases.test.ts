import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { HwError } from '../../src/core/errors.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents, UnitFinding } from '../../src/core/events.ts';
import { householdsMigrations } from '../../src/households/module.ts';
import { sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { harness, MIN } from '../rules/fixture.ts';
import { HOUR, households } from './support.ts';

const complaint = (unit: string, over: Record<string, unknown> = {}) => ({
  unit,
  channel: 'hotline' as const,
  cls: 'temperature' as const,
  caller: 'Mrs Li',
  text: 'The bedroom is cold',
  ...over,
});

const measure = (unit: string, tempC: number, ts: number, names = ['Wang Wei', 'Zhao Min']) => ({
  unit,
  ts,
  rooms: [
    { room: 'living', tempC },
    { room: 'bedroom', tempC },
  ],
  measuredBy: names,
});

describe('households: cases', () => {
  it('a flat cold for the rule duration opens exactly one case; a second finding and a complaint join it', async () => {
    const h = harness();
    const hh = households({ clock: h.clock, bus: h.bus, index: h.index });
    await hh.mod.start();
    const seen: UnitFinding[] = [];
    h.bus.on('unitFinding', 'test', (f) => seen.push(f));
    const cold = (b: string, f: number, c: number) =>
      b === 'b2' && f === 2 && c === 2 ? 16 : h.healthy(f, c);
    // Below the rule's minimum duration (1 h): no finding, no case.
    await h.run(40 * MIN, cold);
    await hh.svc.idle();
    expect(await hh.store.listCases({})).toHaveLength(0);
    await h.run(2 * HOUR, cold);
    await hh.svc.idle();
    expect(seen.map((f) => `${f.kind}:${f.sensorId}`)).toEqual(['cold:b2-2-2']);
    const cases = await hh.store.listCases({});
    expect(cases).toHaveLength(1);
    expect(cases[0]).toMatchObject({
      unitKey: 'b2/2-2',
      origin: 'sensor',
      state: 'open',
      sensorId: 'b2-2-2',
    });
    // The engine announces the flat again (e.g. after a restart): it joins, no twin.
    h.bus.emit('unitFinding', { ...seen[0]!, ts: h.clock.now() });
    await hh.svc.idle();
    const r = await hh.svc.fileComplaint(complaint('b2/2-2'), 'otto');
    expect(r.case?.id).toBe(cases[0]!.id);
    expect(r.case?.complaints).toBe(1);
    expect(await hh.store.listCases({})).toHaveLength(1);
    // The database itself refuses a second open case for the unit.
    expect(() =>
      hh.db
        .prepare(
          `INSERT INTO hh_cases (id, unit_key, state, substation_id, building_id, opened_ts, updated_ts, due_ts, body)
           VALUES ('twin', 'b2/2-2', 'open', 'ss', 'b2', 0, 0, 0, '{}')`,
        )
        .run(),
    ).toThrow(/UNIQUE/);
    // Warm again: the engine announces the flat cleared (after the test's own repeat above).
    await h.run(30 * MIN, (_b, f, c) => h.healthy(f, c));
    await hh.svc.idle();
    expect(seen.map((f) => f.kind)).toEqual(['cold', 'cold', 'cleared']);
    expect((await hh.store.caseEvents(cases[0]!.id)).map((e) => e.kind)).toEqual([
      'opened',
      'joined:sensor',
      'joined:complaint',
      'task',
      'state',
      'sensor_cleared',
    ]);
    await hh.mod.stop();
  });

  it('a temperature complaint creates a 24 h measurement task that becomes overdue and escalates on time', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({ clock, bus: h.bus, index: h.index });
    await hh.mod.start();
    const r = await hh.svc.fileComplaint(complaint('b1/3-1'), 'otto');
    expect(r.task).toMatchObject({ state: 'pending', dueTs: clock.now() + 24 * HOUR });
    expect(r.case).toMatchObject({ state: 'measuring', owner: 'otto', origin: 'complaint' });
    // Repeated complaints join and are counted; still one task.
    const again = await hh.svc.fileComplaint(complaint('b1/3-1', { channel: 'app' }), 'olga');
    expect(again.case?.complaints).toBe(2);
    expect(again.task?.id).toBe(r.task?.id);
    clock.advance(23 * HOUR + 59 * MIN);
    await hh.svc.idle();
    expect((await hh.store.getTask(r.task!.id))?.state).toBe('pending');
    clock.advance(2 * MIN);
    await hh.svc.idle();
    expect((await hh.store.getTask(r.task!.id))?.state).toBe('overdue');
    const k = await hh.store.getCase(r.case!.id);
    expect(k).toMatchObject({ state: 'escalated', escalationLevel: 1, owner: 'shift-leader' });
    // The case itself is due after 72 h; 12 h later it climbs to the next level.
    clock.advance(48 * HOUR + 12 * HOUR);
    await hh.svc.idle();
    expect(await hh.store.getCase(r.case!.id)).toMatchObject({ escalationLevel: 2, owner: 'dispatch-head' });
    await hh.mod.stop();
  });

  it('a two-person measurement at or above 18 °C closes the task and, after the watch period, the case', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({ clock, bus: h.bus, index: h.index, cfg: { cases: { watchH: 6 } } });
    await hh.mod.start();
    const r = await hh.svc.fileComplaint(complaint('b1/3-1'), 'otto');
    clock.advance(3 * HOUR);
    const m = await hh.svc.recordMeasurement(measure('b1/3-1', 18.4, clock.now() - 10 * MIN), 'otto');
    expect(m.task).toMatchObject({ id: r.task!.id, state: 'done' });
    expect(m.case).toMatchObject({ state: 'watching' });
    clock.advance(5 * HOUR);
    await hh.svc.idle();
    expect((await hh.store.getCase(r.case!.id))?.state).toBe('watching');
    clock.advance(1 * HOUR);
    await hh.svc.idle();
    const k = await hh.store.getCase(r.case!.id);
    expect(k?.state).toBe('closed');
    expect((await hh.store.complaints({ caseId: k!.id }))[0]?.closedTs).toBeDefined();
    const kinds = (await hh.store.caseEvents(k!.id)).map((e) => e.toState ?? e.kind);
    expect(kinds).toEqual(['open', 'task', 'measuring', 'measurement', 'watching', 'closed']);
    await hh.mod.stop();
  });

  it('a measurement below 18 °C closes nothing, escalates and sends a repair order', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({ clock, bus: h.bus, index: h.index });
    await hh.mod.start();
    const r = await hh.svc.fileComplaint(complaint('b1/3-1'), 'otto');
    const m = await hh.svc.recordMeasurement(measure('b1/3-1', 16.2, clock.now()), 'otto');
    expect(m.task?.state).toBe('escalated');
    const k = await hh.store.getCase(r.case!.id);
    expect(k).toMatchObject({ escalationLevel: 1, owner: 'shift-leader', state: 'fixing' });
    const orders = await hh.store.workOrders({ caseId: k!.id });
    expect(orders).toMatchObject([{ type: 'repair', state: 'sent' }]);
    expect(orders[0]!.onSiteDueTs - orders[0]!.createdTs).toBe(20 * MIN);
    clock.advance(100 * HOUR);
    await hh.svc.idle();
    expect((await hh.store.getCase(r.case!.id))?.state).not.toBe('closed');
    await hh.mod.stop();
  });

  it('refuses one name, the same name twice, a future time, an unknown unit', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({ clock, bus: h.bus, index: h.index });
    const err = (p: Promise<unknown>) =>
      p.then(
        () => undefined,
        (e: unknown) => e as HwError,
      );
    expect(
      (await err(hh.svc.recordMeasurement(measure('b1/3-1', 19, clock.now(), ['Wang Wei']), 'o')))?.field,
    ).toBe('body.measuredBy');
    expect(
      (
        await err(
          hh.svc.recordMeasurement(measure('b1/3-1', 19, clock.now(), ['Wang Wei', ' wang  WEI ']), 'o'),
        )
      )?.field,
    ).toBe('body.measuredBy');
    expect((await err(hh.svc.recordMeasurement(measure('b1/3-1', 19, clock.now() + HOUR), 'o')))?.field).toBe(
      'body.ts',
    );
    expect(
      (await err(hh.svc.recordMeasurement(measure('b1/3-1', 19, clock.now() - 100 * HOUR), 'o')))?.field,
    ).toBe('body.ts');
    expect((await err(hh.svc.fileComplaint(complaint('b1/9-1'), 'o')))?.code).toBe('HW_ERR_UNKNOWN_UNIT');
    expect((await err(hh.svc.fileComplaint(complaint('zz/1-1'), 'o')))?.statusCode).toBe(404);
    expect(await hh.store.listCases({})).toHaveLength(0);
  });

  it('a persistent difference between sensor and measurements is that sensor’s bias', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({ clock, bus: h.bus, index: h.index, sensorTempC: () => 20.5 });
    const alerts: string[] = [];
    h.bus.on('alert', 'test', (a) => alerts.push(a.key));
    await hh.svc.recordMeasurement(measure('b1/2-2', 18.6, clock.now()), 'otto');
    expect(await hh.svc.sensorBias('b1-2-2')).toBeUndefined();
    clock.advance(HOUR);
    await hh.svc.recordMeasurement(measure('b1/2-2', 18.9, clock.now()), 'otto');
    expect(await hh.svc.sensorBias('b1-2-2')).toEqual({ sensorId: 'b1-2-2', biasC: 1.8, measurements: 2 });
    expect(alerts).toEqual(['sensor-bias:b1-2-2']);
  });

  it('cases, tasks and escalations survive a restart', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const file = `${(await import('node:os')).tmpdir()}/hw-hh-${process.pid}-${Date.now()}.db`;
    const bus = new EventBus<HeatEvents>();
    const h = harness({ clock });
    let hh = households({ clock, bus, index: h.index, file });
    await hh.mod.start();
    const r = await hh.svc.fileComplaint(complaint('b1/3-1'), 'otto');
    await hh.mod.stop();
    hh.db.close();
    clock.advance(25 * HOUR);
    hh = households({
      clock,
      bus,
      index: h.index,
      db: openDb(file, { synchronous: 'FULL', migrations: sqliteMigrations(householdsMigrations) }),
    });
    await hh.mod.start();
    await hh.svc.checkDue();
    expect(await hh.store.getCase(r.case!.id)).toMatchObject({ state: 'escalated', complaints: 1 });
    expect((await hh.store.getTask(r.task!.id))?.state).toBe('overdue');
    await hh.mod.stop();
    hh.db.close();
  });

  it('a new case starts linked to the open tickets of its building; an applied field-task ticket sends one work order', async () => {
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const h = harness({ clock });
    const hh = households({
      clock,
      bus: h.bus,
      index: h.index,
      tickets: () => [
        {
          id: 'T-1',
          status: 'applied',
          problem: 'building_cold',
          targetId: 'b1',
          substationId: 'ss',
          createdTs: 0,
        },
        {
          id: 'T-2',
          status: 'resolved',
          problem: 'building_cold',
          targetId: 'b1',
          substationId: 'ss',
          createdTs: 0,
        },
        {
          id: 'T-3',
          status: 'proposed',
          problem: 'substation_cold',
          targetId: 'ss',
          substationId: 'ss',
          createdTs: 0,
        },
      ],
      fieldTask: (id) =>
        id === 'T-7'
          ? { targetId: 'b1', substationId: 'ss', summary: 'balance the risers of b1' }
          : undefined,
    });
    await hh.mod.start();
    const r = await hh.svc.fileComplaint(complaint('b1/3-1'), 'otto');
    const change = { ticketId: 'T-7', target: 'b1', problem: 'exposed_cold', actor: 'otto', ts: clock.now() };
    h.bus.emit('ticketChanged', { ...change, status: 'approved', previousStatus: 'proposed' });
    h.bus.emit('ticketChanged', { ...change, status: 'applied', previousStatus: 'approved' });
    h.bus.emit('ticketChanged', { ...change, status: 'applied', previousStatus: 'applied' });
    h.bus.emit('ticketChanged', {
      ...change,
      ticketId: 'T-8',
      status: 'applied',
      previousStatus: 'approved',
    });
    await hh.svc.idle();
    const orders = await hh.store.workOrders({});
    expect(orders).toMatchObject([
      { type: 'balancing', ticketId: 'T-7', buildingId: 'b1', summary: 'balance the risers of b1' },
    ]);
    expect((await hh.store.getCase(r.case!.id))?.ticketIds).toEqual(['T-1', 'T-3', 'T-7', 'T-8']);
    await hh.mod.stop();
  });
});
