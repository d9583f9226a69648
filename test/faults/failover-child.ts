/**
 * Child of failover.test.ts: one rules instance of a city on the machine's PostgreSQL. It competes
 * for the lease of partition `p1` (the real PartitionRunner, lease keeper and fence); holding it, it
 * runs the partition's due re-checks with the real TicketService and RecheckScheduler on the fenced
 * database. The judgement itself is a stand-in (the rules engine's is not the subject here): it takes
 * `judgeMs` of wall time, so the parent can kill the holder in the middle of a re-check window.
 *
 * argv: url instanceId startTs judgeMs timings(JSON) rules(JSON) substations(comma-separated)
 * stdout, one line each: `acquired p1 <token> <epoch ms>`, `started <partitions held | standby>`,
 * `judging <ticket>`, `recorded <ticket>`, `lost p1`.
 */
import { writeSync } from 'node:fs';
import { pino } from 'pino';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ScaledClock, systemClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { PartitionRunner } from '../../src/ops/partition-runner.ts';
import { openPostgres } from '../../src/storage/sql.ts';
import { RecheckScheduler } from '../../src/tickets/recheck-scheduler.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { SetpointPublisher, Ticket } from '../../src/tickets/types.ts';

const [url, instanceId, startTs, judgeMs, timingsJson, rulesJson, subs] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
  string,
];
const say = (line: string) => writeSync(1, `${line}\n`);
const clock = new ScaledClock(1, Number(startTs));
const rules = rulesSchema.parse(JSON.parse(rulesJson));
const log = silentLogger();
const db = await openPostgres(url, {
  poolSize: 4,
  connectTimeoutMs: 5000,
  statementTimeoutMs: 30_000,
  idleTimeoutMs: 10_000,
});
const publisher: SetpointPublisher = { publish: async () => {} };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const runner = new PartitionRunner({
  db,
  partitions: { p1: subs.split(',') },
  holder: instanceId,
  timings: () => JSON.parse(timingsJson),
  wallClock: systemClock(),
  log,
  start: async ({ name, substations, token, db: fenced }) => {
    say(`acquired ${name} ${token} ${Date.now()}`);
    const tickets = new TicketService(
      fenced,
      clock,
      new EventBus<HeatEvents>(),
      publisher,
      () => rules,
      log,
      {
        instance: instanceId,
      },
    );
    // The scheduler logs each re-check as it records it: one stdout line per re-check, at once.
    const recheckLog = pino(
      { level: 'info' },
      {
        write: (line: string) => {
          const o = JSON.parse(line) as { msg?: string; ticketId?: string };
          if (o.msg === 're-check recorded') say(`recorded ${o.ticketId}`);
        },
      },
    );
    const rechecks = new RecheckScheduler(
      clock,
      tickets,
      {
        evaluateRecheck: async (t: Ticket) => {
          say(`judging ${t.id}`);
          await sleep(Number(judgeMs));
          return {
            outcome: {
              ts: clock.now(),
              resolved: true,
              measuredC: 20,
              baselineC: t.baseline.valueC,
              correctedDeltaC: 1,
              predictedDeltaC: t.predicted.deltaC,
              text: `judged by ${instanceId}`,
            },
          };
        },
        proposeNext: async () => undefined,
      },
      () => rules,
      recheckLog,
      (sid) => substations.includes(sid),
    );
    const run = () => rechecks.runDue();
    const failed = (err: unknown) => process.stderr.write(`re-check run failed: ${String(err)}\n`);
    const timer = setInterval(() => void run().catch(failed), rules.recheck.pollS * 1000);
    void run().catch(failed);
    return {
      stop: async () => {
        clearInterval(timer);
        say(`lost ${name}`);
      },
    };
  },
});
await runner.start();
say(`started ${runner.running().join(',') || 'standby'}`);
process.once('SIGTERM', () => void runner.stop().then(() => db.close()));
