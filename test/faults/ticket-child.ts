/**
 * Child process of ticket-durability.test.ts: creates, approves and applies one ticket per target
 * b0…b{count-1} in ops.db, picking up where a killed predecessor stopped, and prints `applied <id>`
 * after each apply has committed. The parent SIGKILLs it at random points.
 */
import { writeSync } from 'node:fs';
import { rulesSchema } from '../../src/config/rules-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { Proposal } from '../../src/tickets/types.ts';

const [file, startTs, count] = [process.argv[2]!, Number(process.argv[3]), Number(process.argv[4])];
const db = openOpsDb(file, ticketMigrations);
const rules = rulesSchema.parse({ autoApprove: { enabled: false } });
const clock = new ManualClock(startTs);
const tickets = new TicketService(
  sqliteSql(db),
  clock,
  new EventBus<HeatEvents>(),
  { publish: async () => {} },
  () => rules,
  silentLogger(),
);

const proposal = (i: number): Proposal => ({
  problem: 'building_cold',
  targetKind: 'building',
  targetId: `b${i}`,
  substationId: `ss${i % 4}`,
  rules: ['building-under-temp'],
  summary: `building b${i} cold`,
  evidence: { i },
  action: { kind: 'valves', valves: { [`b${i}`]: 100 }, previous: { [`b${i}`]: 70 } },
  predicted: { deltaC: 1, expectedC: 19, afterH: 12, text: 'about +1 °C' },
  baseline: { valueC: 17.5, ts: startTs },
  autoApprovable: false,
});

for (let i = 0; i < count; i++) {
  let t = await tickets.openFor(`b${i}`, 'building_cold');
  if (!t) t = (await tickets.propose(proposal(i))).ticket;
  if (t.status === 'proposed') t = await tickets.approve(t.id, 'ops');
  if (t.status === 'approved') t = await tickets.apply(t.id, 'ops');
  writeSync(1, `applied ${t.id}\n`);
  clock.advance(1000);
}
db.close();
