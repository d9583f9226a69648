import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeatEvents } from '../../src/core/events.ts';
import type { Heatwatch } from '../../src/main.ts';
import {
  connectDevice,
  publishReadings,
  startIngest,
  storedRows,
  tempDir,
  waitFor,
} from '../main/support.ts';

const SENSORS = ['n01-1-2', 'n01-6-1', 'n02-1-4', 'n02-3-3'];

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

const counter = (h: Heatwatch, name: string): number => {
  const m = h.metrics.render().match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
};

describe('store outage: readings are spooled, replayed in order when the store is back, none lost or doubled', () => {
  it('survives the SQLite store being locked by another connection mid-stream', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    hw = await startIngest(t.dir, (c) => {
      // Fail fast instead of waiting for the lock: the outage is what is under test.
      c.service.store.sqlite.busyTimeoutMs = 0;
      c.service.spool.replayInitialBackoffMs = 20;
      c.service.spool.replayMaxBackoffMs = 100;
    });
    const h = hw;
    const alerts: Array<HeatEvents['alert']> = [];
    h.bus.on('alert', 'test', (a) => alerts.push(a));
    const locker = new Database(join(t.dir, 'readings.db'));
    const now = Date.now();
    const sent = new Set<string>();
    const add = (s: Set<string>) => {
      for (const k of s) sent.add(k);
    };

    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 20, now - 200_000, true));
    await waitFor(
      () => counter(h, 'heatwatch_readings_stored_total') === sent.size,
      5000,
      'first part stored',
    );

    // The outage: another process holds the write lock.
    locker.exec('BEGIN EXCLUSIVE');
    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 30, now - 100_000, true));
    await waitFor(() => counter(h, 'heatwatch_store_write_failures_total') > 0, 5000, 'a failed store write');
    expect(counter(h, 'heatwatch_spool_depth')).toBeGreaterThan(0);
    expect((await h.health()).status).toBe('degraded');
    expect(alerts.some((a) => a.key === 'store-down' && a.active)).toBe(true);

    locker.exec('COMMIT');
    locker.close();
    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 20, now, true));
    await waitFor(
      () => counter(h, 'heatwatch_readings_stored_total') === sent.size,
      10_000,
      'everything stored',
    );
    expect(counter(h, 'heatwatch_spool_depth')).toBe(0);
    expect((await h.health()).status).toBe('ok');
    expect(alerts.some((a) => a.key === 'store-down' && !a.active)).toBe(true);

    await h.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    expect(rows.length).toBe(sent.size);
    expect(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`))).toEqual(sent);
  });

  it('past spool.maxBytes stops acknowledging (the broker keeps the messages), alerts, and resumes', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    hw = await startIngest(t.dir, (c) => {
      c.service.store.sqlite.busyTimeoutMs = 0;
      c.service.spool.maxBytes = 1024 * 1024;
      c.service.spool.replayInitialBackoffMs = 20;
      c.service.spool.replayMaxBackoffMs = 100;
    });
    const h = hw;
    const alerts: Array<HeatEvents['alert']> = [];
    h.bus.on('alert', 'test', (a) => alerts.push(a));
    const locker = new Database(join(t.dir, 'readings.db'));
    locker.exec('BEGIN EXCLUSIVE');
    // Store-and-forward messages of 200 readings (~50 kB journalled each): 40 of them pass 1 MiB.
    const device = await connectDevice(h.mqttUrl, 'n01-1-2', true);
    const now = Date.now();
    const sent = new Set<string>();
    const pubs: Array<Promise<unknown>> = [];
    for (let m = 0; m < 40; m++) {
      const batch = Array.from({ length: 200 }, (_, i) => {
        const ts = now - 3_600_000 + (m * 200 + i) * 100;
        sent.add(`n01-1-2@${ts}`);
        return { ts, temp: 20.5 };
      });
      pubs.push(device.publishAsync('heat/sensors/n01-1-2/telemetry', JSON.stringify(batch), { qos: 1 }));
    }
    await waitFor(() => h.ingestor.holding, 10_000, 'ingestion to hold a message');
    expect(alerts.some((a) => a.key === 'spool-over-budget' && a.active)).toBe(true);
    expect(counter(h, 'heatwatch_spool_over_budget_total')).toBeGreaterThan(0);
    expect((await h.health()).status).toBe('down');
    const journalled = counter(h, 'heatwatch_readings_accepted_total');
    expect(journalled).toBeLessThan(sent.size);

    locker.exec('COMMIT');
    locker.close();
    await Promise.all(pubs);
    await device.endAsync();
    await waitFor(
      () => counter(h, 'heatwatch_readings_stored_total') === sent.size,
      15_000,
      'everything stored',
    );
    expect(alerts.some((a) => a.key === 'spool-over-budget' && !a.active)).toBe(true);
    await h.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    expect(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`))).toEqual(sent);
  });
  it('counts the messages of one event-loop turn against the spool budget before they are journalled', async () => {
    // A loaded machine hands mqtt.js many packets in one socket read: all of them join one journal
    // group. Without counting the open group, 40 messages of ~50 kB passed a 1 MiB budget together.
    const t = tempDir();
    cleanup = t.cleanup;
    const maxBytes = 1024 * 1024;
    hw = await startIngest(t.dir, (c) => {
      c.service.store.sqlite.busyTimeoutMs = 0;
      c.service.spool.maxBytes = maxBytes;
      c.service.spool.replayInitialBackoffMs = 20;
      c.service.spool.replayMaxBackoffMs = 100;
    });
    const h = hw;
    const locker = new Database(join(t.dir, 'readings.db'));
    locker.exec('BEGIN EXCLUSIVE');
    const now = Date.now();
    const sent = new Set<string>();
    let acked = 0;
    for (let m = 0; m < 40; m++) {
      const batch = Array.from({ length: 200 }, (_, i) => {
        const ts = now - 3_600_000 + (m * 200 + i) * 100;
        sent.add(`n01-1-2@${ts}`);
        return { ts, temp: 20.5 };
      });
      const payload = Buffer.from(JSON.stringify(batch));
      // One synchronous loop: every message arrives in the same turn, before any group commits.
      h.ingestor.handle('heat/sensors/n01-1-2/telemetry', payload, () => acked++);
    }
    expect(h.ingestor.holding).toBe(true);
    await waitFor(() => acked > 0, 10_000, 'the first group journalled and acknowledged');
    expect(acked).toBeLessThan(40);
    // The journal stops at the budget: past it by less than one message, not by the whole turn.
    const journalled = h.journal.stats().bytes;
    expect(journalled).toBeGreaterThanOrEqual(maxBytes);
    expect(journalled).toBeLessThan(maxBytes + 100_000);

    locker.exec('COMMIT');
    locker.close();
    await waitFor(() => acked === 40, 15_000, 'every held message journalled and acknowledged');
    await waitFor(
      () => counter(h, 'heatwatch_readings_stored_total') === sent.size,
      15_000,
      'everything stored',
    );
    await h.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    expect(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`))).toEqual(sent);
  });
});
