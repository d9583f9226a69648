import { spawn } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { householdsMigrations } from '../../src/households/module.ts';
import { openOpsDb } from '../../src/storage/ops-db.ts';
import { sqliteMigrations } from '../../src/storage/sql-migrate.ts';
import { receiver, SECRET } from './receiver.ts';
import { households } from './support.ts';

const index = loadConfig('config', {}).registry;

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

describe('households webhook outbox', () => {
  it('delivers work orders and routed complaints signed, with a delivery id, once', async () => {
    const rx = await receiver();
    closers.push(rx.close);
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const hh = households({
      clock,
      bus: new EventBus<HeatEvents>(),
      index,
      webhookSecret: SECRET,
      cfg: { outbox: { webhookUrl: rx.url } },
    });
    await hh.svc.fileComplaint(
      { unit: 'n01/6-1', channel: 'hotline', cls: 'temperature', caller: 'Mrs Li', text: 'cold' },
      'otto',
    );
    await hh.svc.recordMeasurement(
      {
        unit: 'n01/6-1',
        ts: clock.now(),
        rooms: [{ room: 'bedroom', tempC: 16 }],
        measuredBy: ['Wang Wei', 'Zhao Min'],
      },
      'otto',
    );
    expect(await hh.mod.outbox.drainOnce()).toBe(3);
    expect(await hh.mod.outbox.drainOnce()).toBe(0);
    expect(rx.all.map((d) => d.kind)).toEqual(['complaint', 'case_escalated', 'work_order']);
    expect(rx.all.every((d) => d.signatureOk && d.id === d.body.deliveryId)).toBe(true);
    const wo = rx.all.find((d) => d.kind === 'work_order')!.body.data;
    expect(wo).toMatchObject({ type: 'repair', unit: 'n01/6-1', buildingId: 'n01' });
    expect(Date.parse(String(wo.onSiteBy)) - Date.parse(String(wo.createdAt))).toBe(20 * 60_000);
  });

  it('a receiver that is down gets retries with backoff, then a dead letter', async () => {
    const rx = await receiver();
    await rx.close(); // nothing listens on this port any more
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 8));
    const hh = households({
      clock,
      bus: new EventBus<HeatEvents>(),
      index,
      webhookSecret: SECRET,
      cfg: { outbox: { webhookUrl: rx.url, initialBackoffMs: 1000, maxBackoffMs: 4000, maxAttempts: 4 } },
    });
    await hh.svc.fileComplaint(
      { unit: 'n01/1-2', channel: 'app', cls: 'fees', caller: 'Mr Sun', text: 'bill too high' },
      'otto',
    );
    const waits: number[] = [];
    for (let i = 0; i < 4; i++) {
      expect(await hh.mod.outbox.drainOnce()).toBe(0);
      // Not due again before its backoff.
      const [item] = await hh.store.outboxItems({ limit: 1 });
      waits.push(item!.nextTs - clock.now());
      expect(await hh.store.outboxClaim(clock.now(), 10, clock.now() + 60_000)).toHaveLength(0);
      clock.advance(item!.nextTs - clock.now());
    }
    expect(waits).toEqual([1000, 2000, 4000, 4000]);
    const [dead] = await hh.store.outboxItems({ state: 'dead', limit: 10 });
    expect(dead).toMatchObject({ attempts: 4, kind: 'complaint' });
    expect(dead?.lastError).toBeTruthy();
    expect(await hh.store.outboxItems({ state: 'pending', limit: 10 })).toHaveLength(0);
  });

  it('survives a SIGKILL between enqueue and delivery: delivered after restart, once after dedupe', async () => {
    const hang = await receiver({ hang: true });
    closers.push(hang.close);
    const file = join(mkdtempSync(join(tmpdir(), 'hw-outbox-')), 'ops.db');
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', 'test/households/outbox-child.ts', file, hang.url],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    // Killed while its POST is in flight: the receiver has the delivery, the outbox does not know.
    await hang.seen;
    expect(out).toContain('enqueued');
    const exited = new Promise((r) => child.once('exit', r));
    child.kill('SIGKILL');
    await exited;
    const rx = await receiver();
    closers.push(rx.close);
    const clock = new ManualClock(Date.UTC(2026, 0, 15, 9));
    const hh = households({
      clock,
      bus: new EventBus<HeatEvents>(),
      index,
      db: openOpsDb(file, sqliteMigrations(householdsMigrations)),
      webhookSecret: SECRET,
      cfg: { outbox: { webhookUrl: rx.url } },
    });
    expect(await hh.mod.outbox.drainOnce()).toBe(1);
    expect(await hh.mod.outbox.drainOnce()).toBe(0);
    expect(rx.all).toHaveLength(1);
    // The same delivery id both times: a receiver that dedupes by it acts once.
    expect(rx.all[0]!.id).toBe(hang.all[0]!.id);
    expect(new Set([...hang.unique.keys(), ...rx.unique.keys()]).size).toBe(1);
    hh.db.close();
  }, 60_000);
});
