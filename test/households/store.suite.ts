import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { SqlHouseholdsStore } from '../../src/households/sql-store.ts';
import { type HouseholdsStore, StaleRecord } from '../../src/households/store.ts';
import { noChanges } from '../../src/households/types.ts';
import type { SqlDb } from '../../src/storage/sql.ts';
import { crossing } from './crossing.ts';
import { receiver, SECRET } from './receiver.ts';
import { HOUR, householdsOn, manualCron, sensorReading } from './support.ts';

export interface OpsDbHarness {
  /** An empty ops database with the households migrations applied. */
  sql: SqlDb;
  /** What a second instance on the same database uses: SQLite's one connection, another pool on PostgreSQL. */
  peer(): Promise<SqlDb>;
  close(): Promise<void>;
}

const index = loadConfig('config', {}).registry;
const T0 = Date.UTC(2026, 0, 15, 8);
const complaint = (unit: string, cls: 'temperature' | 'equipment' | 'fees' = 'temperature') => ({
  unit,
  channel: 'hotline' as const,
  cls,
  caller: 'Mrs Li',
  text: 'The bedroom is cold',
});

const measurement = (unit: string, ts: number) => ({
  unit,
  ts,
  rooms: [
    { room: 'living', tempC: 16.5 },
    { room: 'bedroom', tempC: 16.1 },
  ],
  measuredBy: ['Wang Wei', 'Zhao Min'],
});

const count = async (store: HouseholdsStore) => ({
  cases: (await store.listCases({})).length,
  complaints: (await store.complaints({})).length,
  outbox: (await store.outboxItems({ limit: 1000 })).length,
});

/**
 * The households store's contract (CONTRIBUTING.md convention 5): every ops-database backend passes
 * it. `make` opens an empty, migrated database each time.
 */
export function householdsStoreSuite(name: string, make: () => Promise<OpsDbHarness>): void {
  describe(`households store contract: ${name}`, () => {
    let h: OpsDbHarness;
    let clock: ManualClock;
    const closers: Array<() => Promise<void>> = [];
    beforeEach(async () => {
      h = await make();
      clock = new ManualClock(T0);
    });
    afterEach(async () => {
      for (const c of closers.splice(0)) await c();
      await h.close();
    });
    const on = (
      sql: SqlDb,
      cfg: Record<string, unknown> = {},
      more: Pick<Parameters<typeof householdsOn>[1], 'schedule' | 'wallClock'> = {},
    ) =>
      householdsOn(sql, {
        clock,
        bus: new EventBus<HeatEvents>(),
        index,
        webhookSecret: SECRET,
        cfg,
        ...more,
      });

    it('stores what the service decided and reads it back by every filter', async () => {
      const hh = on(h.sql);
      const r = await hh.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      clock.advance(HOUR);
      await hh.svc.fileComplaint(complaint('n01/2-1', 'fees'), 'otto');
      const m = await hh.svc.recordMeasurement(measurement('n01/1-2', clock.now() - 60_000), 'otto');
      const wo = await hh.svc.createWorkOrder(r.case!.id, 'radiator', 'bleed the radiators', 'otto');
      const caseId = r.case!.id;
      const stored = await hh.store.getCase(caseId);
      expect(stored).toMatchObject({ id: caseId, unitKey: 'n01/1-2', complaints: 1 });
      expect(await hh.store.openCaseByUnit('n01/1-2')).toEqual(stored);
      expect(await hh.store.openCaseByUnit('n01/2-1')).toBeUndefined();
      expect(await hh.store.listCases({ states: [stored!.state] })).toEqual([stored]);
      expect(await hh.store.listCases({ states: ['closed'] })).toEqual([]);
      expect(await hh.store.listCases({ states: [] })).toEqual([]);
      expect(await hh.store.listCases({ openedFromTs: T0 + 1 })).toEqual([]);
      const events = await hh.store.caseEvents(caseId);
      expect(events[0]).toMatchObject({ caseId, kind: 'opened', actor: 'otto' });
      // Absent fields stay absent (no nulls leak out of the database).
      for (const e of events) for (const v of Object.values(e)) expect(v).not.toBeNull();
      expect((await hh.store.complaints({ caseId })).map((c) => c.id)).toEqual([r.complaint.id]);
      expect(await hh.store.complaints({ fromTs: T0, toTs: T0 + HOUR })).toHaveLength(1);
      expect(await hh.store.complaints({})).toHaveLength(2);
      expect((await hh.store.tasks({ caseId })).map((t) => t.id)).toEqual([r.task!.id]);
      expect(await hh.store.getTask(r.task!.id)).toMatchObject({ caseId, measurementId: m.measurement.id });
      expect(await hh.store.tasks({ states: [] })).toEqual([]);
      expect((await hh.store.measurements({ unitKey: 'n01/1-2' })).map((x) => x.id)).toEqual([
        m.measurement.id,
      ]);
      expect(await hh.store.measurements({ caseId })).toHaveLength(1);
      expect(await hh.store.getWorkOrder(wo.id)).toEqual(wo);
      expect(await hh.store.workOrders({ caseId })).toContainEqual(wo);
      expect(await hh.store.workOrders({ fromTs: clock.now() + 1 })).toEqual([]);
    });

    it('stores a decision whole or not at all', async () => {
      const hh = on(h.sql);
      const r = await hh.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      const m = await hh.svc.recordMeasurement(measurement('n01/1-2', clock.now() - 60_000), 'otto');
      const before = await count(hh.store);
      // A decision whose measurement row is refused (its id is taken) after its case, event and
      // complaint rows were written: those go with it, and so does its outbox message.
      const ch = noChanges();
      const other = { ...r.case!, id: 'case-other', unitKey: 'n01/2-1', column: 1, floor: 2 };
      ch.cases.push(other);
      ch.events.push({ caseId: other.id, ts: clock.now(), actor: 'otto', kind: 'opened' });
      ch.complaints.push({ ...r.complaint, id: 'cmp-other', caseId: other.id, unitKey: other.unitKey });
      ch.measurements.push({ ...m.measurement, caseId: other.id });
      ch.outbox.push({ kind: 'complaint', body: { id: 'cmp-other' } });
      await expect(hh.store.commit(ch, clock.now())).rejects.toThrow();
      expect(await count(hh.store)).toEqual(before);
      expect(await hh.store.getCase(other.id)).toBeUndefined();
      expect(await hh.store.caseEvents(other.id)).toEqual([]);
      // The one-open-case index refuses a twin of an open case the same way.
      const twin = noChanges();
      twin.cases.push({ ...r.case!, id: 'case-twin' });
      await expect(hh.store.commit(twin, clock.now())).rejects.toThrow();
      // The store goes on working after the refusals.
      await hh.svc.fileComplaint(complaint('n01/2-1'), 'otto');
      expect((await count(hh.store)).cases).toBe(before.cases + 1);
    });

    it('delivers each outbox row exactly once when two instances drain it at the same time', async () => {
      const rx = await receiver();
      closers.push(rx.close);
      const cfg = { outbox: { webhookUrl: rx.url, batchSize: 4 } };
      const a = on(h.sql, cfg);
      const b = on(await h.peer(), cfg);
      const N = 24;
      for (let i = 0; i < N; i++) await a.svc.fileComplaint(complaint('n01/1-2', 'fees'), 'otto');
      let rounds = 0;
      let delivered = 0;
      while ((await a.store.outboxItems({ state: 'pending', limit: 1 })).length > 0) {
        const [da, db] = await Promise.all([a.mod.outbox.drainOnce(), b.mod.outbox.drainOnce()]);
        delivered += da + db;
        expect(++rounds).toBeLessThan(N);
      }
      expect(delivered).toBe(N);
      expect(rx.all).toHaveLength(N);
      expect(rx.unique.size).toBe(N);
      expect(rx.all.every((d) => d.signatureOk)).toBe(true);
      expect(await a.store.outboxItems({ state: 'delivered', limit: 100 })).toHaveLength(N);
    });

    it('two instances taking complaints for one unit at once open one case, and keep both complaints', async () => {
      const a = on(h.sql);
      const b = on(await h.peer());
      const [ra, rb] = await Promise.all([
        a.svc.fileComplaint(complaint('n01/1-2'), 'otto'),
        b.svc.fileComplaint({ ...complaint('n01/1-2'), caller: 'Mr Li' }, 'anna'),
      ]);
      expect(ra.case!.id).toBe(rb.case!.id);
      const cases = await a.store.listCases({});
      expect(cases).toHaveLength(1);
      expect(cases[0]).toMatchObject({ complaints: 2 });
      expect((await a.store.complaints({ caseId: cases[0]!.id })).map((c) => c.caller).sort()).toEqual([
        'Mr Li',
        'Mrs Li',
      ]);
    });

    it('two instances with every timer running do each due check, digest and bulletin once', async () => {
      const rx = await receiver();
      closers.push(rx.close);
      const cron = manualCron();
      const cfg = {
        cases: { checkIntervalMs: HOUR },
        digest: { enabled: true },
        bulletin: { enabled: true },
        outbox: { webhookUrl: rx.url },
      };
      // Deliveries take wall time, not the hours the test moves heating time by.
      const more = { schedule: cron.schedule, wallClock: new ManualClock(T0) };
      const a = on(h.sql, cfg, more);
      const b = on(await h.peer(), cfg, more);
      for (const x of [a, b]) {
        await x.mod.start();
        closers.push(() => x.mod.stop());
      }
      const { case: k, task } = await a.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      // Both instances' hourly due checks fire at the same moments, as on two hosts. The task falls
      // due after 24 h (level 1 at once); the case after 72 h, climbing to level 2 at 72 + 12 h.
      for (let hour = 1; hour <= 90; hour++) {
        clock.advance(HOUR);
        await Promise.all([a.svc.idle(), b.svc.idle()]);
      }
      const events = await a.store.caseEvents(k!.id);
      expect(events.filter((e) => e.toState === 'escalated')).toHaveLength(1);
      expect(events.filter((e) => e.kind === 'escalated')).toHaveLength(1);
      expect(await a.store.getCase(k!.id)).toMatchObject({ state: 'escalated', escalationLevel: 2 });
      expect(await a.store.getTask(task!.id)).toMatchObject({ state: 'overdue' });
      const sent = async (kind: string) =>
        (await a.store.outboxItems({ limit: 1000 })).filter((o) => o.kind === kind);
      expect((await sent('case_escalated')).map((o) => (o.body as { level: number }).level).sort()).toEqual([
        1, 2,
      ]);

      // Each instance's cron fires the digest and the bulletin at the same minute.
      const digestAt = Date.UTC(2026, 0, 19, 2);
      expect(await cron.fire('0 */2 * * *', digestAt)).toBe(2);
      expect(await cron.fire('0 8 * * *', Date.UTC(2026, 0, 19, 8))).toBe(2);
      expect(await a.store.reports('digest', 10)).toHaveLength(1);
      expect(await a.store.reports('bulletin', 10)).toHaveLength(1);
      expect(await sent('digest')).toHaveLength(1);
      expect(await sent('bulletin')).toHaveLength(1);
      // The next run is a run of its own.
      await cron.fire('0 */2 * * *', digestAt + 2 * HOUR);
      expect(await sent('digest')).toHaveLength(2);

      // Both deliverers drain together: every message reaches the receiver once. Their wall clock
      // stands still, so a failed delivery would wait for ever: a few rounds must empty the outbox.
      const all = await a.store.outboxItems({ limit: 1000 });
      const pending = async () => (await a.store.outboxItems({ state: 'pending', limit: 1000 })).length;
      for (let round = 0; round < 5 && (await pending()) > 0; round++)
        await Promise.all([a.mod.outbox.drainOnce(), b.mod.outbox.drainOnce()]);
      expect(await pending()).toBe(0);
      expect(rx.all.map((d) => d.id).sort()).toEqual(all.map((o) => o.id).sort());
    });

    it('follows the sensors of cases another instance opened, from its next due check', async () => {
      const cfg = { cases: { checkIntervalMs: HOUR } };
      const a = on(h.sql, cfg);
      const b = on(await h.peer(), cfg);
      for (const x of [a, b]) {
        await x.mod.start();
        closers.push(() => x.mod.stop());
      }
      const info = [...index.sensors.values()][0]!;
      const { sensor, building, substation } = info;
      await a.svc.onUnitFinding({
        kind: 'cold',
        sensorId: sensor.id,
        buildingId: building.id,
        substationId: substation.id,
        floor: sensor.floor,
        column: sensor.column,
        tempC: 16,
        sinceTs: clock.now() - HOUR,
        ts: clock.now(),
        rule: 'unit-under-temp',
      });
      const [k] = await a.store.listCases({});
      expect(k).toMatchObject({ state: 'open', sensorId: sensor.id });
      clock.advance(HOUR);
      await Promise.all([a.svc.idle(), b.svc.idle()]);
      // Only b hears the flat's sensor now (say, the rules instance that took over its partition).
      await b.svc.onRoomReadings([sensorReading(info, 19.5, clock.now())]);
      expect(await b.store.getCase(k!.id)).toMatchObject({ state: 'watching', lastTempC: 19.5 });
    });

    it('two instances writing the same cases in opposite orders: one waits, the other decides again', async () => {
      const hh = on(h.sql);
      const { case: x } = await hh.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      const { case: y } = await hh.svc.fileComplaint(complaint('n01/2-1'), 'otto');
      // On PostgreSQL each instance's transaction is held after its first case row until the other
      // has written its own (or waits for this one): rows locked in the order given would cross.
      // SQLite runs one transaction at a time.
      const gate = crossing();
      const via = (db: SqlDb) => (db.dialect === 'postgres' ? gate.side(db) : db);
      const a = new SqlHouseholdsStore(via(h.sql));
      const b = new SqlHouseholdsStore(via(await h.peer()));
      // A due check touches the case of an overdue task first; a ticket link goes in list order.
      const decide = async (s: HouseholdsStore, ids: string[], actor: string) => {
        const ch = noChanges();
        for (const id of ids) {
          const k = (await s.getCase(id))!;
          k.ticketIds.push(`T-${actor}`);
          ch.cases.push(k);
          ch.events.push({ caseId: id, ts: clock.now(), actor, kind: 'ticket' });
        }
        return () => s.commit(ch, clock.now());
      };
      const commits = [await decide(a, [x!.id, y!.id], 'anna'), await decide(b, [y!.id, x!.id], 'otto')];
      const settled = await Promise.allSettled(commits.map((c) => c()));
      const refused = settled.flatMap((r) => (r.status === 'rejected' ? [r.reason] : []));
      expect(refused).toHaveLength(1);
      expect(refused[0]).toBeInstanceOf(StaleRecord);
      // Decided again on what the other wrote, the refused one goes through.
      const again =
        settled[0]!.status === 'rejected'
          ? decide(a, [x!.id, y!.id], 'anna')
          : decide(b, [y!.id, x!.id], 'otto');
      await (await again)();
      for (const k of [x!, y!]) {
        expect((await hh.store.getCase(k.id))?.ticketIds.sort()).toEqual(['T-anna', 'T-otto']);
        expect((await hh.store.caseEvents(k.id)).filter((e) => e.kind === 'ticket')).toHaveLength(2);
      }
    });

    it('makes a decision again when PostgreSQL aborts it for a deadlock with another writer', async () => {
      if (h.sql.dialect !== 'postgres') return; // SQLite runs one transaction at a time.
      const peer = await h.peer();
      const setup = on(h.sql);
      const { case: x } = await setup.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      const { case: y } = await setup.svc.fileComplaint(complaint('n01/2-1'), 'otto');
      const [first, second] = [x!.id, y!.id].sort() as [string, string];
      // Another writer holds the second case, and takes the first once the decision holds it.
      let holds!: () => void;
      const decisionHolds = new Promise<void>((r) => {
        holds = r;
      });
      const a = on(crossing(() => holds()).side(h.sql));
      let locked!: () => void;
      const writerLocked = new Promise<void>((r) => {
        locked = r;
      });
      const writer = peer.tx(async (q) => {
        // Far above the server's default (1 s), so the decision's backend finds the deadlock first
        // and is the one aborted.
        await q.run("SET LOCAL deadlock_timeout = '60s'");
        await q.run('UPDATE hh_cases SET updated_ts = updated_ts WHERE id = ?', [second]);
        locked();
        await decisionHolds;
        await q.run('UPDATE hh_cases SET updated_ts = updated_ts WHERE id = ?', [first]);
      });
      await writerLocked;
      const ticket = { ticketId: 'T-9', target: 'n01', problem: 'building_cold', actor: 'otto' };
      await a.svc.onTicket({ ...ticket, status: 'approved', ts: clock.now() });
      await writer;
      for (const id of [first, second]) {
        expect((await a.store.getCase(id))?.ticketIds).toEqual(['T-9']);
        expect((await a.store.caseEvents(id)).filter((e) => e.kind === 'ticket')).toHaveLength(1);
      }
    });

    it('raises a bias alert once for a measurement stored after a retry, none for one refused', async () => {
      const info = [...index.sensors.values()][0]!;
      const unit = { buildingId: info.building.id, floor: info.sensor.floor, column: info.sensor.column };
      const alerts: string[] = [];
      const hh = (sql: SqlDb, cfg: Record<string, unknown> = {}) => {
        const bus = new EventBus<HeatEvents>();
        bus.on('alert', 'test', (x) => alerts.push(x.key));
        return householdsOn(sql, { clock, bus, index, cfg, sensorTempC: () => 20 });
      };
      const b = hh(await h.peer());
      // Before this instance's next commit, another one changes the unit's case (a complaint joins it).
      let before: (() => Promise<unknown>) | undefined;
      const conflict = () => {
        before = () => b.svc.fileComplaint({ ...complaint(''), ...unit, unit: undefined }, 'anna');
      };
      const racing = (db: SqlDb): SqlDb => ({
        ...db,
        tx: async (fn) => {
          const f = before;
          before = undefined;
          await f?.();
          return db.tx(fn);
        },
      });
      const a = hh(racing(h.sql));
      const m = (ts: number) => ({
        ...unit,
        ts,
        rooms: [{ room: 'living', tempC: 16 }],
        measuredBy: ['Wang Wei', 'Zhao Min'],
      });
      await a.svc.recordMeasurement(m(clock.now()), 'otto');
      expect(alerts).toEqual([]);
      clock.advance(HOUR);
      conflict();
      await a.svc.recordMeasurement(m(clock.now()), 'otto');
      expect(alerts).toEqual([`sensor-bias:${info.sensor.id}`]);
      // With one attempt only, the same conflict refuses the measurement: no alert for it.
      const once = hh(racing(h.sql), { cases: { decideAttempts: 1 } });
      clock.advance(HOUR);
      conflict();
      await expect(once.svc.recordMeasurement(m(clock.now()), 'otto')).rejects.toBeInstanceOf(StaleRecord);
      expect(alerts).toHaveLength(1);
      expect(await a.store.measurements({ sensorId: info.sensor.id })).toHaveLength(2);
    });

    it('refuses a decision on a record another instance changed after it was read', async () => {
      const a = on(h.sql);
      const b = on(await h.peer());
      const { case: k } = await a.svc.fileComplaint(complaint('n01/1-2'), 'otto');
      const wo = await a.svc.createWorkOrder(k!.id, 'repair', 'bleed the radiators', 'otto');
      const stale = (await a.store.getWorkOrder(wo.id))!;
      // The crew arrives (instance b) after instance a read the order for a decision of its own.
      await b.svc.fieldStatus(wo.id, 'on_site', {}, 'crew');
      const events = (await a.store.caseEvents(k!.id)).length;
      stale.late = true;
      const ch = noChanges();
      ch.workOrders.push(stale);
      ch.events.push({ caseId: k!.id, ts: clock.now(), actor: 'households', kind: 'note' });
      // Refused whole: the crew's status stands, and the decision's event is not written either.
      await expect(a.store.commit(ch, clock.now())).rejects.toBeInstanceOf(StaleRecord);
      expect(await a.store.getWorkOrder(wo.id)).toMatchObject({ state: 'on_site', late: false });
      expect(await a.store.caseEvents(k!.id)).toHaveLength(events);
      // Read again, the same change goes through.
      const fresh = (await a.store.getWorkOrder(wo.id))!;
      fresh.late = true;
      const again = noChanges();
      again.workOrders.push(fresh);
      await a.store.commit(again, clock.now());
      expect(await b.store.getWorkOrder(wo.id)).toMatchObject({ state: 'on_site', late: true });
    });

    it('withholds a claimed delivery from other instances until the claim runs out', async () => {
      const a = on(h.sql);
      const b = on(await h.peer());
      await a.svc.fileComplaint(complaint('n01/1-2', 'fees'), 'otto');
      await a.svc.fileComplaint(complaint('n01/1-2', 'equipment'), 'otto');
      const now = clock.now();
      const [first] = await a.store.outboxClaim(now, 1, now + 1000);
      expect(first).toMatchObject({ kind: 'complaint', attempts: 0 });
      // The other instance gets the second row only, however many it asks for.
      const other = await b.store.outboxClaim(now, 10, now + 1000);
      expect(other.map((o) => o.id)).not.toContain(first!.id);
      expect(other).toHaveLength(1);
      expect(await b.store.outboxClaim(now + 999, 10, now + 2000)).toEqual([]);
      // The first instance died mid-attempt: after its claim, the row goes out again, same id.
      const again = await b.store.outboxClaim(now + 1000, 10, now + 2000);
      expect(again.map((o) => o.id).sort()).toEqual([first!.id, other[0]!.id].sort());
      await b.store.outboxFailed(first!.id, 1, now + 5000, 'receiver answered 503', false);
      await b.store.outboxDelivered(other[0]!.id, now + 1500);
      expect(await a.store.outboxItems({ state: 'delivered', limit: 10 })).toMatchObject([
        { id: other[0]!.id, deliveredTs: now + 1500, attempts: 1 },
      ]);
      expect(await a.store.outboxItems({ state: 'pending', limit: 10 })).toMatchObject([
        { id: first!.id, attempts: 1, nextTs: now + 5000, lastError: 'receiver answered 503' },
      ]);
      await a.store.outboxFailed(first!.id, 2, now + 6000, 'gave up', true);
      expect(await a.store.outboxItems({ state: 'dead', limit: 10 })).toMatchObject([
        { id: first!.id, deadTs: now + 6000 },
      ]);
      expect(await a.store.outboxClaim(now + 10_000, 10, now + 20_000)).toEqual([]);
    });

    it('keeps the newest reports of a kind and replaces one saved again', async () => {
      const hh = on(h.sql);
      for (const [id, ts] of [
        ['b1', 1],
        ['b2', 2],
        ['b3', 3],
      ] as const)
        await hh.store.saveReport({ id, kind: 'bulletin', ts, body: { n: ts } }, 2);
      await hh.store.saveReport({ id: 'd1', kind: 'digest', ts: 1, body: {} }, 2);
      expect((await hh.store.reports('bulletin', 10)).map((r) => r.id)).toEqual(['b3', 'b2']);
      expect(await hh.store.getReport('b1')).toBeUndefined();
      await hh.store.saveReport({ id: 'b2', kind: 'bulletin', ts: 2, body: { n: 22 } }, 2);
      expect(await hh.store.getReport('b2')).toEqual({ id: 'b2', kind: 'bulletin', ts: 2, body: { n: 22 } });
      expect(await hh.store.reports('digest', 10)).toHaveLength(1);
    });
  });
}
