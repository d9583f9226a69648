/**
 * Child process of setpoint-kill.test.ts, one heatwatch life on ops.db:
 * - `apply`: approves and applies one ticket per substation ss0…ss{count-1}, publishing to the real
 *   broker; the process SIGKILLs itself when command number `killAt` is handed over for publishing —
 *   after its ticket's transition to `applied` committed, before it reached the broker.
 * - `drain`: a restart: publishes what the outbox holds to the real broker, prints `drained <n>`.
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
import type { SetpointPublisher } from '../../src/tickets/types.ts';
import { mqttPublisher } from '../tickets/broker.ts';
import { substationProposal } from '../tickets/proposals.ts';

const [mode, file, url, root, count, killAt] = process.argv.slice(2) as [
  string,
  string,
  string,
  string,
  string,
  string,
];
const START_TS = Date.UTC(2026, 0, 15, 6);
const db = openOpsDb(file, ticketMigrations);
const rules = rulesSchema.parse({ autoApprove: { enabled: false } });

const proposal = (i: number) => substationProposal(`ss${i}`, 1 + i / 10, START_TS);

const broker = await mqttPublisher(url, root);
let handedOver = 0;
const publisher: SetpointPublisher = {
  publish: async (substationId, payload) => {
    if (mode === 'apply' && ++handedOver === Number(killAt)) {
      writeSync(1, `killed at ${payload.setpointId}\n`);
      process.kill(process.pid, 'SIGKILL');
    }
    await broker.publish(substationId, payload);
  },
};
const service = new TicketService(
  sqliteSql(db),
  new ManualClock(START_TS),
  new EventBus<HeatEvents>(),
  publisher,
  () => rules,
  silentLogger(),
);

if (mode === 'apply') {
  for (let i = 0; i < Number(count); i++) {
    const t = (await service.propose(proposal(i))).ticket;
    await service.approve(t.id, 'ops');
    await service.apply(t.id, 'ops');
    writeSync(1, `committed ${t.id}\n`);
  }
  // The drain the applies started publishes in the background until the kill.
  await service.outbox.drainOnce();
  writeSync(1, 'not killed\n');
} else {
  const n = await service.outbox.drainOnce();
  writeSync(1, `drained ${n}\n`);
  await broker.client.endAsync();
  db.close();
}
