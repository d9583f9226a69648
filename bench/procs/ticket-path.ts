/**
 * One heatwatch instance of a city on PostgreSQL, for the ticket-path bench (bench/scenarios/tickets-pg.ts):
 * a TicketService on its own connection pool, as each API or rules process holds one. Of `n`
 * substations it proposes its own half (a rules partition), approves the other instance's half
 * (an API instance serves the whole city), applies its own half, then runs every due re-check
 * against the other instance (claim, judge, record: each recorded once). Between the phases it waits
 * until the database shows the other instance done too, so each phase is timed with both writing.
 *
 *   node --import tsx bench/procs/ticket-path.ts <pg-url> <instance 0|1> <n> <concurrency> <poolSize>
 *
 * Prints one JSON line: per phase, its wall-clock start and end (epoch ms) and the latencies'
 * p50/p99/max and its CPU time; for the re-checks also how many this instance claimed and recorded.
 */
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openPostgres } from '../../src/storage/sql.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal } from '../../src/tickets/types.ts';
import { sayResult, sleep } from '../lib.ts';
import { percentiles } from './percentiles.ts';

const [url, meArg, nArg, concurrencyArg, poolArg] = process.argv.slice(2);
const me = Number(meArg);
const n = Number(nArg);
const concurrency = Number(concurrencyArg);
const HOUR_MS = 3_600_000;
const T0 = Date.UTC(2026, 0, 15, 6);

const proposal = (i: number): Proposal => ({
  problem: 'substation_cold',
  targetKind: 'substation',
  targetId: `ss-${i}`,
  substationId: `ss-${i}`,
  rules: ['substation-under-temp'],
  summary: `ss-${i} cold`,
  evidence: {},
  action: { kind: 'supply-offset', deltaC: 2 },
  predicted: { deltaC: 0.7, expectedC: 18.5, afterH: 12, text: 'about +0.7 °C' },
  baseline: { valueC: 17.2, ts: T0 },
  autoApprovable: false,
});

export interface PhaseFigures {
  ops: number;
  startMs: number;
  endMs: number;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
  /** CPU time this process used over the phase (the rest of the machine's went to PostgreSQL and others). */
  cpuMs: number;
}

/** Runs `fn` over `items` with `concurrency` in flight; times each call that returns true. */
async function phase<T>(items: readonly T[], fn: (x: T) => Promise<boolean>): Promise<PhaseFigures> {
  const lat: number[] = [];
  let next = 0;
  const startMs = Date.now();
  const cpu = process.cpuUsage();
  const worker = async () => {
    while (next < items.length) {
      const x = items[next++]!;
      const t = performance.now();
      if (await fn(x)) lat.push(performance.now() - t);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  const used = process.cpuUsage(cpu);
  const cpuMs = Math.round((used.user + used.system) / 1000);
  return { ops: lat.length, startMs, endMs: Date.now(), cpuMs, ...percentiles(lat) };
}

const clock = new ManualClock(T0);
const sql = await openPostgres(url!, {
  poolSize: Number(poolArg),
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  idleTimeoutMs: 30_000,
});
const rules = rulesSchema.parse({ autoApprove: { enabled: false } });
const tickets = new TicketService(
  sql,
  clock,
  new EventBus<HeatEvents>(),
  { publish: async () => {} },
  () => rules,
  silentLogger(),
  { instance: `bench-${me}` },
);

/**
 * Waits until the database holds `n` tickets, none of them still in `before` (the other instance
 * finished the phase; it may already be at the next one, so later statuses count as done).
 */
async function barrier(...before: string[]): Promise<void> {
  for (;;) {
    const counts = await tickets.counts();
    const total = Object.values(counts).reduce((a, b) => a + b, 0);
    if (total >= n && before.every((s) => !counts[s])) return;
    await sleep(20);
  }
}

const mine = Array.from({ length: n }, (_, i) => i).filter((i) => i % 2 === me);
const propose = await phase(mine, async (i) => {
  await tickets.propose(proposal(i));
  return true;
});
await barrier();
const theirs = (await tickets.list({ status: 'proposed' })).filter(
  (t) => Number(t.targetId.slice(3)) % 2 !== me,
);
const approve = await phase(theirs, async (t) => {
  await tickets.approve(t.id, 'otto', 'bench');
  return true;
});
await barrier('proposed');
const own = (await tickets.list({ status: 'approved' })).filter(
  (t) => Number(t.targetId.slice(3)) % 2 === me,
);
const apply = await phase(own, async (t) => {
  await tickets.apply(t.id, 'otto', 'bench');
  return true;
});
await barrier('proposed', 'approved');
// Re-check time: both instances see every re-check due and race for each, as two rules instances'
// schedulers would; the claim gives each to one.
clock.advance((rules.recheckAfterH + 1) * HOUR_MS);
const due = await tickets.dueRechecks(clock.now());
let lost = 0;
const recheck = await phase(due, async ({ ticketId }) => {
  if (!(await tickets.claimRecheck(ticketId))) {
    lost++;
    return false;
  }
  return tickets.recordRecheck(ticketId, {
    ts: clock.now(),
    resolved: true,
    measuredC: 18.6,
    baselineC: 17.2,
    correctedDeltaC: 1.4,
    predictedDeltaC: 0.7,
    text: 'bench: warm again',
  });
});
tickets.outbox.stop();
await sql.close();
sayResult({ propose, approve, apply, recheck: { ...recheck, due: due.length, lost } });
