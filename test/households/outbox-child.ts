/**
 * Child process of outbox.test.ts: files one equipment complaint (its routing message goes into the
 * outbox in the same transaction), prints `enqueued`, then tries to deliver to a receiver that never
 * answers. The parent SIGKILLs it while that POST is in flight.
 */
import { writeSync } from 'node:fs';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { householdsMigrations } from '../../src/households/module.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { households } from './support.ts';

const [file, url] = [process.argv[2]!, process.argv[3]!];
const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
const hh = households({
  clock,
  bus: new EventBus<HeatEvents>(),
  index: loadConfig('config', {}).registry,
  db: openOpsDb(file, sqliteMigrations(householdsMigrations)),
  webhookSecret: 'test-secret',
  cfg: { outbox: { webhookUrl: url, timeoutMs: 120_000, claimMs: 180_000 } },
});
await hh.svc.fileComplaint(
  { unit: 'n01/1-2', channel: 'online', cls: 'equipment', caller: 'Mr Sun', text: 'radiator leaks' },
  'otto',
);
writeSync(1, 'enqueued\n');
await hh.mod.outbox.drainOnce();
