import { cpus, loadavg } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { FencedError, fencedDb, fenceFor, leases } from '../../src/ops/lease.ts';
import { openPostgres, type SqlDb } from '../../src/storage/sql.ts';
import type { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal } from '../../src/tickets/types.ts';
import { postgresConfig, publishReadings, tempDir } from '../main/support.ts';
import { PG_URL, pgAvailable, pgOptions, pgSchema } from '../support/postgres.ts';
import { type RulesProcess, spawnRulesInstance } from '../support/rules-process.ts';
import { TcpProxy } from '../support/tcp-proxy.ts';
import { substationProposal, ticketsAt } from '../tickets/proposals.ts';

const hasPg = await pgAvailable();
const HOUR_MS = 3_600_000;
/** Short, so the test takes seconds; the same code runs with the defaults in production. */
const LEASES = { renewMs: 500, durationMs: 4000, takeoverMs: 300 };
/**
 * A claim outlives the lease by far here, so a standby that waited for the dead holder's claim to
 * lapse would judge that re-check visibly late; the takeover frees it instead (docs/deploy.md).
 */
const RECHECK = { pollS: 1, claimS: 30 };
/** The holder is stopped at its third claim: two re-checks done, the third in its hands. */
const KILL_AT_CLAIM = 3;
/**
 * Timers run late on a busy machine: the takeover may come this much after durationMs + takeoverMs
 * (one more takeover period, and half a second per unit of load per core).
 */
const slackMs = () => LEASES.takeoverMs + 500 * Math.max(1, loadavg()[0]! / cpus().length);

const registry = loadConfig('config', {}).registry;
const SUBSTATIONS = [...registry.substations.keys()];
/** The first building of each substation; its sensors get readings, and it gets a ticket. */
const BUILDINGS = SUBSTATIONS.map((sid) => registry.buildingsBySubstation.get(sid)![0]!.id);
const SENSORS = BUILDINGS.flatMap((b) => registry.sensorsByBuilding.get(b)!.map((s) => s.sensor.id));

const buildingProposal = (buildingId: string, substationId: string, ts: number): Proposal => ({
  ...substationProposal(substationId, 1, ts),
  problem: 'building_cold',
  targetKind: 'building',
  targetId: buildingId,
  rules: ['building-under-temp'],
  summary: `${buildingId} cold`,
  action: { kind: 'valves', valves: { [buildingId]: 80 }, previous: { [buildingId]: 60 } },
});

const cleanup: Array<() => unknown> = [];
afterEach(async () => {
  for (const c of cleanup.splice(0).reverse()) await c();
});

/** The real TicketService on `db` at `now` (the rules config of the instances). */
function ticketsOf(db: SqlDb, now: number, instance: string): TicketService {
  const t = ticketsAt(db, now, rulesSchema.parse({ recheck: RECHECK }), instance);
  cleanup.push(() => t.outbox.stop());
  return t;
}

/** Adjustments applied 48 h and a minute ago, by the operator's path: their re-checks are due now. */
async function seedDueRechecks(db: SqlDb): Promise<string[]> {
  const appliedAt = Date.now() - 48 * HOUR_MS - 60_000;
  const seed = ticketsOf(db, appliedAt, 'seed');
  const ids: string[] = [];
  const proposals = SUBSTATIONS.flatMap((sid, i) => [
    substationProposal(sid, 1, appliedAt),
    buildingProposal(BUILDINGS[i]!, sid, appliedAt),
  ]);
  for (const p of proposals) {
    const { ticket } = await seed.propose(p);
    await seed.approve(ticket.id, 'ops');
    await seed.apply(ticket.id, 'ops');
    ids.push(ticket.id);
  }
  return ids;
}

interface RecheckRow {
  ticket_id: string;
  done: boolean;
  claimed_by: string | null;
  claimed_until: number | null;
}
const recheckRows = async (db: SqlDb) =>
  (
    await db.all<RecheckRow>(
      `SELECT ticket_id, done_ts IS NOT NULL AS done, claimed_by, claimed_until FROM ticket_rechecks ORDER BY ticket_id`,
    )
  ).map((r) => ({ ...r, claimed_until: r.claimed_until === null ? null : Number(r.claimed_until) }));

function dump(...ps: Array<[string, RulesProcess]>): void {
  for (const [name, p] of ps) process.stdout.write(`${name}: ${p.lines.join(' | ')}\n${p.stderr()}\n`);
}

describe.skipIf(!hasPg)('partition failover: two heatwatch rules processes on PostgreSQL', () => {
  it('the holder SIGKILLed with a re-check in hand: the standby takes over within the lease time, judges every due re-check once, no twin, the dead token writes nothing', async () => {
    const t = tempDir('hw-failover-');
    cleanup.push(t.cleanup);
    const schema = await pgSchema();
    cleanup.push(() => schema.drop());
    const configDir = postgresConfig(t.dir);
    const root = loadConfig('config', {}).service.mqtt.topicRoot;
    // The holder reaches PostgreSQL through a proxy the test controls, so its death can be pinned
    // to one moment: the proxy stops forwarding in the same turn the test reads its claim line.
    const proxy = await TcpProxy.start('127.0.0.1', Number(new URL(PG_URL).port || 5432));
    cleanup.push(() => proxy.close());
    const viaProxy = new URL(schema.url);
    viaProxy.host = proxy.hostPort;
    const instance = (id: string, url: string) => {
      const p = spawnRulesInstance({
        configDir,
        dataDir: join(t.dir, id),
        url,
        instanceId: id,
        leases: LEASES,
        recheck: RECHECK,
      });
      cleanup.push(async () => {
        p.child.kill('SIGKILL');
        await p.exited;
      });
      return p;
    };

    const a = instance('rules-a', viaProxy.toString());
    await a.until((ls) => ls.some((l) => l.startsWith('ready ')));
    expect(a.words('acquired').map((w) => w.split(' ').slice(0, 2).join(' '))).toEqual(['city 1']);
    const b = instance('rules-b', schema.url);
    await b.until((ls) => ls.some((l) => l.startsWith('ready ')));
    const db = await openPostgres(schema.url, pgOptions(4));
    cleanup.push(() => db.close());
    try {
      // b is the standby: a holds the city's one partition.
      expect(b.words('acquired')).toEqual([]);
      expect((await leases(db)).map((l) => [l.partition, l.holder, l.token])).toEqual([
        ['city', 'rules-a', 1],
      ]);

      // Both live states get warm readings of the buildings the tickets are about: a re-check is
      // judged on fresh readings (without them it is deferred, not judged).
      for (const p of [a, b]) {
        const port = p.words('ready')[0];
        await publishReadings(`mqtt://127.0.0.1:${port}`, root, SENSORS, 1, Date.now(), true);
        await p.until((ls) => ls.includes(`live ${SENSORS.length}`));
      }

      let frozenAt: number | undefined;
      a.onLine((line) => {
        if (line.startsWith('claimed ') && a.words('claimed').length === KILL_AT_CLAIM && !frozenAt) {
          // The holder writes the line before its next database call, and that call's answer
          // passes through this process after the line: frozen here, the holder gets no further
          // answer, so it dies with exactly this re-check claimed and not judged.
          proxy.freeze();
          frozenAt = Date.now();
        }
      });
      const ticketIds = await seedDueRechecks(db);
      const N = ticketIds.length;
      await a.until((ls) => ls.filter((l) => l.startsWith('claimed ')).length >= KILL_AT_CLAIM);
      expect(frozenAt).toBeDefined();
      a.child.kill('SIGKILL');
      const killedAt = Date.now();
      expect(await a.exited).toBe('SIGKILL');
      // The host closes a dead process's connections (and PostgreSQL rolls back what they had open).
      proxy.cut('refuse');

      // The re-check window at the kill: two judged by the holder, one in its hands, the rest due.
      const byA = a.words('recorded');
      const inHand = a.words('claimed').at(-1)!;
      expect(byA).toEqual(a.words('claimed').slice(0, KILL_AT_CLAIM - 1));
      const atKill = await recheckRows(db);
      expect(atKill.filter((r) => r.done).map((r) => r.ticket_id)).toEqual([...byA].sort());
      const held = atKill.find((r) => r.ticket_id === inHand)!;
      expect(held).toMatchObject({ done: false, claimed_by: 'rules-a' });
      expect(atKill.filter((r) => !r.done && r.claimed_by === null)).toHaveLength(N - KILL_AT_CLAIM);
      const [dead] = await leases(db);
      expect(dead).toMatchObject({ partition: 'city', holder: 'rules-a', token: 1 });

      // The standby takes the partition once the lease expired, within a takeover period of it.
      await b.until((ls) => ls.some((l) => l.startsWith('acquired city 2 ')));
      const [taken] = await leases(db);
      expect(taken).toMatchObject({ partition: 'city', holder: 'rules-b', token: 2 });
      const takeoverMs = taken!.acquiredMs - dead!.renewedMs;
      const sinceKillMs = Number(b.words('acquired')[0]!.split(' ')[2]) - killedAt;
      const slack = slackMs();
      process.stdout.write(
        `failover: partition taken ${takeoverMs} ms after the dead holder's last renewal, ${sinceKillMs} ms after the SIGKILL ` +
          `(lease ${LEASES.durationMs} ms, takeover period ${LEASES.takeoverMs} ms, slack ${Math.round(slack)} ms, ` +
          `load ${loadavg()[0]!.toFixed(1)})\n`,
      );
      expect(takeoverMs).toBeGreaterThanOrEqual(LEASES.durationMs);
      expect(takeoverMs).toBeLessThanOrEqual(LEASES.durationMs + LEASES.takeoverMs + slack);

      // The standby judges the rest, the one in the dead holder's hands included: the takeover freed
      // its claim, so it is judged once, after the takeover, without waiting for the claim to lapse.
      await b.until((ls) => ls.filter((l) => l.startsWith('recorded ')).length >= N - byA.length);
      const byB = b.words('recorded');
      expect([...byA, ...byB].sort()).toEqual([...ticketIds].sort());
      expect(byB.filter((id) => id === inHand)).toHaveLength(1);
      expect(b.words('claimed').filter((id) => id === inHand)).toHaveLength(1);
      const acquiredAt = Number(b.words('acquired')[0]!.split(' ')[2]);
      const view = ticketsOf(db, Date.now(), 'test');
      for (const id of ticketIds) {
        const { ticket, events } = (await view.get(id))!;
        const outcome = ticket.outcome!;
        // Judged by the rules engine on the readings: a measured value, no deferral.
        expect(outcome.deferredUntilTs, id).toBeUndefined();
        expect(Number.isFinite(outcome.measuredC), `${id}: ${outcome.text}`).toBe(true);
        expect(outcome.text).toMatch(/^(back|not) in band: /);
        // Exactly one outcome per re-check.
        expect(
          events.filter((e) => e.toStatus === 'resolved' || e.toStatus === 'escalated'),
          id,
        ).toHaveLength(1);
        if (id === inHand) {
          process.stdout.write(
            `failover: the re-check in the dead holder's hands judged ${outcome.ts - acquiredAt} ms after the takeover, ` +
              `${held.claimed_until! - outcome.ts} ms before its claim would have lapsed\n`,
          );
          expect(outcome.ts).toBeGreaterThanOrEqual(acquiredAt);
          expect(outcome.ts).toBeLessThan(held.claimed_until!);
        }
      }
      expect((await recheckRows(db)).filter((r) => !r.done)).toEqual([]);

      // No twin: at most one open ticket per target and problem (follow-ups of escalations included).
      const twins = await db.all(
        `SELECT target_id, problem, COUNT(*) AS n FROM tickets
          WHERE status IN ('proposed', 'approved', 'applied', 'rechecking')
          GROUP BY target_id, problem HAVING COUNT(*) > 1`,
      );
      expect(twins).toEqual([]);

      // A write with the dead holder's token (a paused twin of it, say) is refused.
      const before = await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tickets');
      const ghost = ticketsOf(fencedDb(db, fenceFor('city', 1)), Date.now(), 'rules-a');
      await expect(ghost.propose(substationProposal(SUBSTATIONS[0]!, 1, Date.now()))).rejects.toBeInstanceOf(
        FencedError,
      );
      await expect(ghost.claimRecheck(inHand)).rejects.toBeInstanceOf(FencedError);
      expect(await db.get<{ n: number }>('SELECT COUNT(*) AS n FROM tickets')).toEqual(before);
      expect((await leases(db)).map((l) => [l.partition, l.holder, l.token])).toEqual([
        ['city', 'rules-b', 2],
      ]);
    } catch (err) {
      dump(['a', a], ['b', b]);
      throw err;
    }
  }, 180_000);
});
