import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { toRegistry } from '../../src/config/network-schema.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import type { Heatwatch } from '../../src/main.ts';
import { startIngest, storedRows, tempDir, waitFor } from '../main/support.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { FIXTURE_NOW_MS } from './fixtures.ts';
import {
  loadUplinkFixtures,
  onMachineMosquittoWithSources,
  UPLINK_DEVICES,
  withUplinkDevices,
} from './uplink-fixtures.ts';

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

const ISO = /20\d\d-\d\d-\d\dT[\d:.]+(?:Z|[+-]\d\d:\d\d)/g;
/** Moves the fixtures' times (written against FIXTURE_NOW_MS) to the present. */
const retime = (payload: Buffer, shiftMs: number): string =>
  payload.toString().replace(ISO, (iso) => new Date(Date.parse(iso) + shiftMs).toISOString());

interface Envelope {
  time?: string;
  deviceInfo?: { devEui: string };
  received_at?: string;
  end_device_ids?: { dev_eui: string };
}

describe('ChirpStack and The Things Stack uplinks through a real broker into the store', () => {
  it("every fixture through the machine's Mosquitto: good ones stored, bad ones dead-lettered with their reason", async (ctx) => {
    if (!serverAvailable('mosquitto', await portOpen(1883), 'nothing listens on 127.0.0.1:1883'))
      return ctx.skip();
    const t = tempDir();
    cleanup = t.cleanup;
    const root = uniqueRoot();
    hw = await startIngest(t.dir, (c) => {
      onMachineMosquittoWithSources(c, root);
      c.network = withUplinkDevices(c.network);
      c.registry = new RegistryIndex(toRegistry(c.network));
    });
    const h = hw;
    const shift = Date.now() - FIXTURE_NOW_MS;
    const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      clientId: `${root}-ns`,
      protocolVersion: 5,
    });
    const expectedReasons: string[] = [];
    const storedWanted = new Set<string>();
    for (const f of loadUplinkFixtures()) {
      const text = retime(f.payload, shift);
      const topic =
        f.format === 'chirpstack'
          ? `${root}/application/17c82e96/device/a84041000181c061/event/up`
          : `${root}/v3/heating@ttn/devices/flat-14/up`;
      await pub.publishAsync(topic, text, { qos: 1 });
      if (f.expect !== 'accepted') {
        expectedReasons.push(f.expect);
        continue;
      }
      const env = JSON.parse(text) as Envelope;
      const eui = (env.deviceInfo?.devEui ?? env.end_device_ids?.dev_eui ?? '').toLowerCase();
      const sensor = UPLINK_DEVICES.find((d) => d.devEui.toLowerCase() === eui)?.sensorId;
      storedWanted.add(`${sensor}@${Date.parse(env.time ?? env.received_at ?? '')}`);
    }
    // A topic no source names is not subscribed at all: it never reaches heatwatch.
    await pub.publishAsync(`${root}/application/1/device/2/event/join`, '{}', { qos: 1 });
    await pub.endAsync();

    await waitFor(
      () => h.deadLetters.recent(1000).length >= expectedReasons.length,
      15_000,
      'every refused uplink dead-lettered',
    );
    await h.ingestor.flush();
    const letters = h.deadLetters.recent(1000).reverse();
    expect(letters.map((l) => l.reason)).toEqual(expectedReasons);
    for (const l of letters) expect(l.detail.length).toBeGreaterThan(5);
    const metrics = h.metrics.render();
    for (const reason of new Set(expectedReasons))
      expect(metrics).toContain(`heatwatch_readings_rejected_total{reason="${reason}"}`);

    await h.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    expect(new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`))).toEqual(storedWanted);
    expect(new Set(rows.map((r) => r.building_id))).toEqual(new Set(['n01']));
  });
});
