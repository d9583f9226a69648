import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { HeatwatchConfig } from '../../src/config/loader.ts';
import type { NetworkConfig } from '../../src/config/network-schema.ts';

/**
 * Network-server uplinks and vendor payloads, one file per variant, written from ChirpStack's and
 * The Things Stack's documented message shapes and Elsys' / Milesight's published payload formats.
 * Uplinks are named `{format}[-reject-{reason}]--{variant}.json`; their times are written against
 * FIXTURE_NOW_MS (test/ingest/fixtures.ts).
 */
const DIR = join(import.meta.dirname, '..', 'fixtures');

export interface UplinkFixture {
  name: string;
  format: 'chirpstack' | 'tts';
  /** `accepted` or the RejectReason expected. */
  expect: string;
  payload: Buffer;
}

export function loadUplinkFixtures(): UplinkFixture[] {
  return readdirSync(join(DIR, 'uplinks'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => {
      const name = file.slice(0, -'.json'.length);
      const [head = ''] = name.split('--');
      const [format, marker, ...reason] = head.split('-');
      return {
        name,
        format: format as UplinkFixture['format'],
        expect: marker === 'reject' ? reason.join('-') : 'accepted',
        payload: readFileSync(join(DIR, 'uplinks', file)),
      };
    });
}

export interface VendorFixture {
  name: string;
  model: string;
  hex: string;
  expect:
    | { refused: string }
    | { tempC: number; humidityPct?: number; batteryV?: number; batteryPct?: number };
}

export function loadVendorFixtures(): VendorFixture[] {
  return readdirSync(join(DIR, 'vendor'))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((file) => ({
      name: file.slice(0, -'.json'.length),
      ...(JSON.parse(readFileSync(join(DIR, 'vendor', file), 'utf8')) as Omit<VendorFixture, 'name'>),
    }));
}

/** The devices the uplink fixtures name, placed on sensors of the shipped demo network (building n01). */
export const UPLINK_DEVICES = [
  { sensorId: 'n01-1-2', devEui: 'A84041000181C061', model: 'elsys-ers' },
  { sensorId: 'n01-1-4', devEui: '24E124136B502217', model: 'milesight-em300-th' },
  // A device whose network server decodes with a codec: no model, so raw bytes alone are refused.
  { sensorId: 'n01-2-3', devEui: '0004A30B001C0530' },
] as const;

/** A copy of `net` whose fixture sensors carry the fixture devices' DevEUIs and models. */
export function withUplinkDevices(net: NetworkConfig): NetworkConfig {
  const copy = structuredClone(net);
  for (const b of copy.buildings)
    for (const s of b.sensors) {
      const id = s.id ?? `${b.id}-${s.floor}-${s.column}`;
      const dev = UPLINK_DEVICES.find((d) => d.sensorId === id);
      delete s.devEui;
      delete s.model;
      if (dev) Object.assign(s, { devEui: dev.devEui, ...('model' in dev ? { model: dev.model } : {}) });
    }
  return copy;
}

/**
 * heatwatch on the machine's Mosquitto under `root`, subscribed to network-server uplinks under
 * `{root}/` too, so tests sharing that broker stay apart.
 */
export function onMachineMosquittoWithSources(c: HeatwatchConfig, root: string): void {
  c.service.mqtt.mode = 'external';
  c.service.mqtt.url = 'mqtt://127.0.0.1:1883';
  c.service.mqtt.topicRoot = root;
  c.service.mqtt.clientId = `${root}-ingest`;
  c.service.mqtt.sessionExpiryS = 30;
  c.service.ingest.sources = [
    { filter: `${root}/application/+/device/+/event/up`, format: 'chirpstack' },
    { filter: `${root}/v3/+/devices/+/up`, format: 'tts' },
  ];
}
