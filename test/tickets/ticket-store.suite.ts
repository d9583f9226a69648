import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type RulesConfig, rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents, TicketChange } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import type { SqlDb } from '../../src/storage/sql.ts';
import { RecheckScheduler } from '../../src/tickets/recheck-scheduler.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal, SetpointPayload, Ticket } from '../../src/tickets/types.ts';

export interface TicketDbHarness {
  /** An empty ops database with the ticket and rules migrations applied. */
  sql: SqlDb;
  /** What a second instance on the same database uses: SQLite's one connection, another pool on PostgreSQL. */
  peer(): Promise<SqlDb>;
  /** Whether several processes share this backend (PostgreSQL); SQLite is one process's file. */
  shared: boolean;
  close(): Promise<void>;
}

const T0 = Date.UTC(2026, 0, 15, 6);
const HOUR = 3_600_000;

export const proposal = (targetId: string, over: Partial<Proposal> = {}): Proposal => ({
  problem: 'building_cold',
  targetKind: 'building',
  targetId,
  substationId: `ss-${targetId}`,
  rules: ['building-under-temp'],
  summary: `${targetId} is cold`,
  evidence: { meanC: 17.1 },
  action: { kind: 'valves', valves: { [targetId]: 80 }, previous: { [targetId]: 60 } },
  predicted: { text: '+1 °C in 24 h', deltaC: 1, expectedC: 18.1, afterH: 24 },
  baseline: { valueC: 17.1, ts: T0 },
  autoApprovable: false,
  ...over,
});

const resolved = (ts: number) => ({
  ts,
  resolved: true,
  measuredC: 19.5,
  baselineC: 17.1,
  correctedDeltaC: 2.4,
  predictedDeltaC: 1,
  text: 'back in band',
});

/**
 * The ticket store's contract (like the reading store's and the households store's): every
 * ops-database backend passes it. `make` opens an empty, migrated database each time.
 */
export function ticketStoreSuite(name: string, make: () => Promise<TicketDbHarness>): void {
  describe(`ticket store contract: ${name}`, () => {
    let h: TicketDbHarness;
    let clock: ManualClock;
    const rules: RulesConfig = rulesSchema.parse({
      autoApprove: { enabled: false },
      recheck: { refreshS: 0 },
    });
    const services: TicketService[] = [];
    const service = (
      sql: SqlDb,
      instance: string,
      published: SetpointPayload[] = [],
      bus = new EventBus<HeatEvents>(),
    ) => {
      const publish = async (_sid: string, p: SetpointPayload) => void published.push(p);
      const s = new TicketService(sql, clock, bus, { publish }, () => rules, silentLogger(), { instance });
      services.push(s);
      return s;
    };
    beforeEach(async () => {
      h = await make();
      clock = new ManualClock(T0);
    });
    afterEach(async () => {
      for (const s of services.splice(0)) s.outbox.stop();
      await h.close();
    });

    it('lifecycle: proposed → approved → applied → resolved, one event row per change, announced after commit', async () => {
      const bus = new EventBus<HeatEvents>();
      const seen: TicketChange[] = [];
      bus.on('ticketChanged', 'test', (c) => seen.push(c));
      const published: SetpointPayload[] = [];
      const t = service(h.sql, 'a', published, bus);
      const created = await t.propose(proposal('b1'));
      expect(created.outcome).toBe('created');
      const id = created.ticket.id;
      await expect(t.apply(id, 'otto')).rejects.toMatchObject({ statusCode: 409 });
      await expect(t.approve('T-99999', 'otto')).rejects.toMatchObject({ statusCode: 404 });
      await t.approve(id, 'otto', 'looks right');
      const applied = await t.apply(id, 'otto', 'valve opened');
      expect(applied.status).toBe('applied');
      // The transition, the setpoint in force, the re-check row and the command committed together.
      expect((await t.setpointOf('ss-b1')).buildingValves).toEqual({ b1: 80 });
      expect(await t.pendingRechecks()).toEqual([{ ticketId: id, dueTs: T0 + rules.recheckAfterH * HOUR }]);
      expect((await t.commandsOf(id)).map((c) => c.commandId)).toEqual([`${id}-apply`]);
      await t.outbox.drainOnce();
      expect(published.map((p) => p.setpointId)).toEqual([`${id}-apply`]);
      clock.advance(rules.recheckAfterH * HOUR);
      expect(await t.recordRecheck(id, resolved(clock.now()))).toBe(true);
      expect(await t.recordRecheck(id, resolved(clock.now()))).toBe(false);
      const got = (await t.get(id))!;
      expect(got.ticket.status).toBe('resolved');
      expect(got.events.map((e) => e.kind)).toEqual([
        'created',
        'approved',
        'applied',
        'setpoint-published',
        'rechecking',
        'resolved',
      ]);
      expect(seen.map((c) => c.status)).toEqual([
        'proposed',
        'approved',
        'applied',
        'rechecking',
        'resolved',
      ]);
      await expect(t.reject(id, 'otto')).rejects.toMatchObject({ statusCode: 409 });
      expect(await t.counts()).toEqual({ resolved: 1 });
    });

    it('one open ticket per (target, problem) under concurrent proposals from two instances', async () => {
      const a = service(h.sql, 'a');
      const b = service(await h.peer(), 'b');
      const targets = ['b1', 'b2', 'b3', 'b4', 'b5'];
      const results = await Promise.all(
        Array.from({ length: 60 }, (_, i) => {
          const s = i % 2 === 0 ? a : b;
          clock.advance(1);
          return s.propose(proposal(targets[i % targets.length]!));
        }),
      );
      const open = await a.list({ status: 'open' });
      expect(open.map((t) => t.targetId).sort()).toEqual(targets);
      // Every proposal of a target ended on that target's one ticket.
      for (const r of results) expect(open.some((t) => t.id === r.ticket.id)).toBe(true);
      expect(results.filter((r) => r.outcome === 'created')).toHaveLength(targets.length);
      // The database itself refuses a second open row, whoever writes it.
      const t1 = open[0]!;
      await expect(
        h.sql.run(
          `INSERT INTO tickets (id, seq, status, problem, target_kind, target_id, substation_id, body, created_ts, updated_ts)
             VALUES ('T-X', 999999, 'approved', ?, 'building', ?, 'ss', '{}', 0, 0)`,
          [t1.problem, t1.targetId],
        ),
      ).rejects.toThrow();
      // Once it is closed, the next condition opens a new one.
      await a.reject(t1.id, 'otto');
      expect((await b.propose(proposal(t1.targetId))).outcome).toBe('created');
    });

    it('a due re-check is claimed by exactly one of two racing instances, and judged once', async () => {
      const a = service(h.sql, 'a');
      const b = service(await h.peer(), 'b');
      const ids: string[] = [];
      for (const target of ['b1', 'b2', 'b3', 'b4', 'b5', 'b6']) {
        const id = (await a.propose(proposal(target))).ticket.id;
        await a.approve(id, 'otto');
        await a.apply(id, 'otto');
        ids.push(id);
      }
      clock.advance(rules.recheckAfterH * HOUR + 1);
      const claims = await Promise.all(ids.flatMap((id) => [a.claimRecheck(id), b.claimRecheck(id)]));
      for (let i = 0; i < ids.length; i++)
        expect([claims[2 * i], claims[2 * i + 1]].filter(Boolean)).toHaveLength(1);
      // Claimed rows are not due for anyone until the claim lapses (its claimer died).
      expect(await b.dueRechecks(clock.now())).toEqual([]);
      clock.advance(rules.recheck.claimS * 1000 + 1);
      expect(await b.dueRechecks(clock.now())).toHaveLength(ids.length);
      // Two schedulers racing over the lapsed claims: every re-check judged and recorded once.
      const judged = new Map<string, number>();
      const evaluator = (who: string) => ({
        evaluateRecheck: async (t: Ticket) => {
          judged.set(t.id, (judged.get(t.id) ?? 0) + 1);
          void who;
          return { outcome: resolved(clock.now()) };
        },
        proposeNext: async () => undefined,
      });
      const log = silentLogger();
      const ra = new RecheckScheduler(clock, a, evaluator('a'), () => rules, log);
      const rb = new RecheckScheduler(clock, b, evaluator('b'), () => rules, log);
      const [da, db] = await Promise.all([ra.runDue(), rb.runDue()]);
      expect([...da, ...db].sort()).toEqual([...ids].sort());
      expect([...judged.values()].every((n) => n === 1)).toBe(true);
      expect(judged.size).toBe(ids.length);
      expect(await a.list({ status: 'resolved' })).toHaveLength(ids.length);
    });

    it('the outbox delivers each command once: racing drains, a restart, and (shared) two instances', async () => {
      const published: SetpointPayload[] = [];
      // The applying instance's own drainer is stopped, so the commands wait for the racing drainers.
      const applier = service(h.sql, 'applier');
      applier.outbox.stop();
      const ids: string[] = [];
      for (const target of ['b1', 'b2', 'b3', 'b4', 'b5']) {
        const id = (await applier.propose(proposal(target))).ticket.id;
        await applier.approve(id, 'otto');
        await applier.apply(id, 'otto');
        ids.push(id);
      }
      expect(await applier.outbox.pending()).toHaveLength(ids.length);
      const drainers = [service(h.sql, 'x', published).outbox];
      if (h.shared) drainers.push(service(await h.peer(), 'y', published).outbox);
      await Promise.all(drainers.flatMap((o) => [o.drainOnce(), o.drainOnce()]));
      // Whoever was held back by the other's claim goes round again; nothing is left, nothing twice.
      await Promise.all(drainers.map((o) => o.drainOnce()));
      // A restart of an instance: a new outbox on the same database finds nothing to send.
      expect(await service(h.sql, 'x', published).outbox.drainOnce()).toBe(0);
      expect(published.map((p) => p.setpointId).sort()).toEqual(ids.map((id) => `${id}-apply`).sort());
      expect(await applier.outbox.pending()).toEqual([]);
      for (const id of ids)
        expect((await applier.get(id))!.events.filter((e) => e.kind === 'setpoint-published')).toHaveLength(
          1,
        );
    });
  });
}
