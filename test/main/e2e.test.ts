import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import type { Heatwatch } from '../../src/main.ts';
import { classMask } from '../../src/storage/sqlite-store.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { publishReadings, startIngest, storedRows, tempDir, waitFor } from './support.ts';

const registry = loadConfig('config', {}).registry;
// One sensor of each position class mix, from different buildings and substations.
const SENSORS = ['n01-1-2', 'n01-6-1', 'n01-3-3', 'n02-1-4', ...[...registry.sensors.keys()].slice(-4)];
const PER_SENSOR = 60;

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
  cleanup = undefined;
});

async function expectExactlyStored(h: Heatwatch, dataDir: string, sent: Set<string>): Promise<void> {
  await waitFor(
    () => h.metrics.render().includes(`heatwatch_readings_stored_total ${sent.size}`),
    10_000,
    'all stored',
  );
  await h.stop();
  const rows = storedRows(join(dataDir, 'readings.db'));
  expect(rows.length).toBe(sent.size);
  expect(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`))).toEqual(sent);
  for (const r of rows) {
    const info = registry.sensors.get(r.sensor_id);
    expect(r.building_id).toBe(info?.building.id);
    expect(r.classes).toBe(classMask(info?.classes ?? []));
    expect(r.source).toBe('sensor');
  }
}

describe('end to end: N readings published → exactly N stored, enriched', () => {
  it('through the embedded aedes broker (device credentials, MQTT 3.1.1)', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    hw = await startIngest(t.dir);
    const sent = await publishReadings(hw.mqttUrl, 'heat', SENSORS, PER_SENSOR, Date.now(), true);
    expect(sent.size).toBe(SENSORS.length * PER_SENSOR);
    await expectExactlyStored(hw, t.dir, sent);
  });

  it("through the machine's Mosquitto (MQTT 5, persistent session, shared subscription)", async (ctx) => {
    if (!serverAvailable('mosquitto', await portOpen(1883), 'nothing listens on 127.0.0.1:1883'))
      return ctx.skip();
    const t = tempDir();
    cleanup = t.cleanup;
    const root = uniqueRoot();
    hw = await startIngest(t.dir, (c) => {
      c.service.mqtt.mode = 'external';
      c.service.mqtt.url = 'mqtt://127.0.0.1:1883';
      c.service.mqtt.topicRoot = root;
      c.service.mqtt.clientId = `${root}-ingest`;
      c.service.mqtt.sharedGroup = `${root}grp`;
      // Short expiry: this test's session must not outlive it on the shared Mosquitto.
      c.service.mqtt.sessionExpiryS = 30;
    });
    const sent = await publishReadings(hw.mqttUrl, root, SENSORS, PER_SENSOR, Date.now(), false);
    await expectExactlyStored(hw, t.dir, sent);
  });
});
