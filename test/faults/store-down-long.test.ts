import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { MqttClient } from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeatEvents } from '../../src/core/events.ts';
import type { Heatwatch } from '../../src/main.ts';
import { connectDevice, startIngest, storedRows, tempDir, waitFor } from '../main/support.ts';

const long = process.env.HEATWATCH_FAULTS === 'long';
/** Wall time the reading store stays down while the devices keep publishing. */
const OUTAGE_MS = long ? 180_000 : 10_000;
const BEFORE_MS = 1000;
const AFTER_MS = 2000;
/** One reading per device every this many ms: 8 devices at 20 ms ≈ 400 readings a second. */
const PERIOD_MS = 20;
const SENSORS = ['n01-1-2', 'n01-1-4', 'n01-6-1', 'n02-1-4', 'n02-2-3', 'n02-3-3', 'n01-3-2', 'n02-5-3'];

let hw: Heatwatch | undefined;
let locker: Database.Database | undefined;
let devices: MqttClient[] = [];
let cleanup: (() => void) | undefined;
afterEach(async () => {
  if (locker?.inTransaction) locker.exec('ROLLBACK');
  locker?.close();
  locker = undefined;
  await Promise.all(devices.map((d) => d.endAsync()));
  devices = [];
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

const gauge = (h: Heatwatch, name: string): number => {
  const m = h.metrics.render().match(new RegExp(`^${name} (\\d+)$`, 'm'));
  return m ? Number(m[1]) : 0;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('reading store down for a long stretch under load', () => {
  it(
    `loses nothing acknowledged across a ${OUTAGE_MS / 1000} s store outage, drains the spool and alerts`,
    async () => {
      const t0 = Date.now();
      const t = tempDir('hw-store-down-');
      cleanup = t.cleanup;
      hw = await startIngest(t.dir, (c) => {
        // Fail at once instead of waiting for the lock: the outage is what is under test.
        c.service.store.sqlite.busyTimeoutMs = 0;
        c.service.spool.replayInitialBackoffMs = 50;
        c.service.spool.replayMaxBackoffMs = 500;
      });
      const h = hw;
      const alerts: Array<HeatEvents['alert']> = [];
      h.bus.on('alert', 'test', (a) => alerts.push(a));
      const storeDown = (active: boolean) =>
        alerts.some((a) => a.key === 'store-down' && a.active === active);

      devices = await Promise.all(SENSORS.map((id) => connectDevice(h.mqttUrl, id, true)));
      // The publishers' ledger: a reading counts once the broker answered its QoS 1 publish with PUBACK.
      const ledger = new Set<string>();
      let outage = false;
      let ackedDuringOutage = 0;
      let streaming = true;
      const base = Date.now() - 3_600_000;
      const stream = (async () => {
        for (let i = 0; streaming; i++) {
          await Promise.all(
            devices.map(async (d, k) => {
              const sensor = SENSORS[k] as string;
              const ts = base + i * 10;
              await d.publishAsync(`heat/sensors/${sensor}/telemetry`, JSON.stringify({ ts, temp: 21 }), {
                qos: 1,
              });
              ledger.add(`${sensor}@${ts}`);
              if (outage) ackedDuringOutage++;
            }),
          );
          await sleep(PERIOD_MS);
        }
      })();

      await sleep(BEFORE_MS);
      // The outage: a second connection holds the readings DB's write lock, as a backup tool or a
      // runaway query would; every batch write fails with SQLITE_BUSY until it lets go.
      locker = new Database(join(t.dir, 'readings.db'));
      locker.exec('BEGIN EXCLUSIVE');
      outage = true;
      const outageEndMs = Date.now() + OUTAGE_MS;
      let maxDepth = 0;
      let degradedSeen = false;
      while (Date.now() < outageEndMs) {
        await sleep(Math.min(500, Math.max(0, outageEndMs - Date.now())));
        maxDepth = Math.max(maxDepth, gauge(h, 'heatwatch_spool_depth'));
        if ((await h.health()).status === 'degraded') degradedSeen = true;
      }
      const depthAtRecovery = gauge(h, 'heatwatch_spool_depth');
      const failures = gauge(h, 'heatwatch_store_write_failures_total');
      expect(storeDown(true)).toBe(true);
      expect(storeDown(false)).toBe(false);
      expect(degradedSeen).toBe(true);
      locker.exec('COMMIT');
      locker.close();
      locker = undefined;
      outage = false;

      // The store is back while the devices keep publishing; then they stop. The backlog counts as
      // drained once the spool is down to what the live stream alone keeps in it (under 1 %).
      const recoveredMs = Date.now();
      let backlogDrainedMs: number | undefined;
      while (Date.now() < recoveredMs + AFTER_MS) {
        await sleep(25);
        if (backlogDrainedMs === undefined && gauge(h, 'heatwatch_spool_depth') < depthAtRecovery / 100)
          backlogDrainedMs = Date.now() - recoveredMs;
      }
      streaming = false;
      await stream;
      // Every acknowledged reading was journalled before its PUBACK, so an empty spool means all stored.
      await waitFor(
        () => gauge(h, 'heatwatch_spool_depth') === 0 && storeDown(false),
        30_000,
        'the spool to drain and the store-down alert to clear',
      );
      expect((await h.health()).status).toBe('ok');
      await h.stop();
      hw = undefined;

      const rows = storedRows(join(t.dir, 'readings.db'));
      const stored = new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`));
      const missing = [...ledger].filter((k) => !stored.has(k));
      console.info(
        `store-down-long: ${OUTAGE_MS / 1000} s outage, ${failures} failed store writes; ledger ${ledger.size} ` +
          `(${ackedDuringOutage} acknowledged during the outage); spool depth max ${maxDepth}, ` +
          `${depthAtRecovery} at recovery, backlog drained in ${backlogDrainedMs ?? `>${AFTER_MS}`} ms; ` +
          `stored ${rows.length}, missing ${missing.length}; ${((Date.now() - t0) / 1000).toFixed(1)} s`,
      );
      // The spool held the outage's readings: nothing of it reached the store while it was down.
      expect(ackedDuringOutage).toBeGreaterThan(0);
      expect(depthAtRecovery).toBeGreaterThanOrEqual(ackedDuringOutage);
      expect(backlogDrainedMs).toBeDefined();
      expect(missing).toEqual([]);
      expect(rows.length).toBe(ledger.size);
    },
    OUTAGE_MS + 60_000,
  );
});
