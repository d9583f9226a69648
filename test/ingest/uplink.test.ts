import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { networkSchema, toRegistry } from '../../src/config/network-schema.ts';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import type { DecodeContext } from '../../src/ingest/decode.ts';
import { decodeMessage, filterMatches, UplinkSources } from '../../src/ingest/sources.ts';
import { Topics } from '../../src/mqtt/topics.ts';
import { FIXTURE_NOW_MS } from './fixtures.ts';
import { loadUplinkFixtures, UPLINK_DEVICES, withUplinkDevices } from './uplink-fixtures.ts';

const config = loadConfig('config', {});
const registry = new RegistryIndex(toRegistry(withUplinkDevices(config.network)));
const ctx: DecodeContext = {
  registry,
  topics: new Topics('heat'),
  nowMs: FIXTURE_NOW_MS,
  limits: {
    maxPayloadBytes: config.service.mqtt.limits.maxPayloadBytes,
    maxJsonDepth: config.service.ingest.maxJsonDepth,
    maxReadingsPerMessage: config.service.ingest.maxReadingsPerMessage,
    futureToleranceMs: config.service.ingest.futureToleranceMs,
    maxReadingAgeMs: config.service.ingest.maxReadingAgeH * 3_600_000,
  },
};
const sources = new UplinkSources([
  { filter: 'application/+/device/+/event/up', format: 'chirpstack' },
  { filter: 'v3/+/devices/+/up', format: 'tts' },
]);
const TOPIC = {
  chirpstack: 'application/17c82e96-be03-4f38-aef3-f83d48582d97/device/a84041000181c061/event/up',
  tts: 'v3/heating@ttn/devices/flat-14/up',
};

describe('network-server uplinks: the same room reading and the same refusals as the contract', () => {
  const fixtures = loadUplinkFixtures();
  for (const f of fixtures)
    it(`${f.name} → ${f.expect}`, () => {
      const r = decodeMessage(TOPIC[f.format], f.payload, ctx, sources);
      if (f.expect !== 'accepted') {
        expect(r.ok ? 'accepted' : `${r.reason}: ${r.detail}`).toMatch(new RegExp(`^${f.expect}: .+`));
        return;
      }
      expect(r.ok, r.ok ? '' : `${r.reason}: ${r.detail}`).toBe(true);
      if (!r.ok || r.value.kind !== 'room') return;
      const [reading] = r.value.readings;
      interface Body {
        time?: string;
        fCnt?: number;
        deviceInfo?: { devEui: string };
        received_at?: string;
        end_device_ids?: { dev_eui: string };
        uplink_message?: { f_cnt?: number };
      }
      const body = JSON.parse(f.payload.toString()) as Body;
      const cs = f.format === 'chirpstack';
      const eui = (cs ? body.deviceInfo?.devEui : body.end_device_ids?.dev_eui) ?? '';
      const device = UPLINK_DEVICES.find((d) => d.devEui.toLowerCase() === eui.toLowerCase());
      expect(reading?.sensorId).toBe(device?.sensorId);
      expect(reading?.source).toBe('sensor');
      expect(reading?.buildingId).toBe('n01');
      expect(reading?.ts).toBe(Date.parse((cs ? body.time : body.received_at) ?? ''));
      expect(reading?.seq).toBe((cs ? body.fCnt : body.uplink_message?.f_cnt) ?? 0);
      expect(reading?.tempC).toBeGreaterThan(15);
      expect(reading?.tempC).toBeLessThan(25);
    });

  it('reads what the codec decoded, else the raw bytes by the sensor model', () => {
    const byName = (n: string) => fixtures.find((f) => f.name === n)!;
    const read = (n: string, format: 'chirpstack' | 'tts') => {
      const r = decodeMessage(TOPIC[format], byName(n).payload, ctx, sources);
      return r.ok && r.value.kind === 'room' ? r.value.readings[0] : undefined;
    };
    expect(read('chirpstack--codec-object', 'chirpstack')).toMatchObject({
      tempC: 21.4,
      humidityPct: 38,
      batteryV: 3.6,
      seq: 10,
    });
    expect(read('chirpstack--elsys-bytes', 'chirpstack')).toMatchObject({
      tempC: 21.4,
      humidityPct: 38,
      batteryV: 3.6,
    });
    // Milesight reports battery in %, which the reading's volts cannot hold: left out, not faked.
    const ms = read('tts--milesight-bytes', 'tts');
    expect(ms).toMatchObject({ tempC: 21, humidityPct: 40, seq: 43 });
    expect(ms?.batteryV).toBeUndefined();
    expect(read('chirpstack--codec-without-temperature-elsys-bytes', 'chirpstack')?.tempC).toBe(21.8);
  });

  it('keeps native topics with the native decoder whatever the source filters say', () => {
    const greedy = new UplinkSources([{ filter: '#', format: 'chirpstack' }]);
    const r = decodeMessage(
      'heat/sensors/n01-1-2/telemetry',
      Buffer.from(JSON.stringify({ ts: FIXTURE_NOW_MS - 1000, temp: 21 })),
      ctx,
      greedy,
    );
    expect(r.ok).toBe(true);
    const none = decodeMessage(TOPIC.chirpstack, fixtures[0]!.payload, ctx, new UplinkSources([]));
    expect(none.ok ? 'ok' : none.reason).toBe('bad_topic');
  });
});

describe('topic filters (MQTT 3.1.1 §4.7)', () => {
  const m = (f: string, t: string) => filterMatches(f.split('/'), t.split('/'));
  it('matches + as one level and # as the rest', () => {
    expect(m('application/+/device/+/event/up', TOPIC.chirpstack)).toBe(true);
    expect(m('application/+/device/+/event/up', `${TOPIC.chirpstack}/x`)).toBe(false);
    expect(m('application/+/device/+/event/up', 'application/1/device/2/event/join')).toBe(false);
    expect(m('v3/+/devices/+/up', TOPIC.tts)).toBe(true);
    expect(m('v3/#', TOPIC.tts)).toBe(true);
    expect(m('v3/heating@ttn/#', 'v3/heating@ttn')).toBe(true);
    expect(m('#', '$SYS/broker/load')).toBe(false);
  });
  it('subscribes in the same shared group as the contract topics', () => {
    expect(sources.filters()).toEqual(['application/+/device/+/event/up', 'v3/+/devices/+/up']);
    expect(sources.filters('hw')).toEqual([
      '$share/hw/application/+/device/+/event/up',
      '$share/hw/v3/+/devices/+/up',
    ]);
  });
  it('config refuses a filter with a wildcard inside a level or # before the end', () => {
    const parse = (filter: string) =>
      serviceSchema.safeParse({ ingest: { sources: [{ filter, format: 'tts' }] } }).success;
    expect(parse('v3/+/devices/+/up')).toBe(true);
    expect(parse('v3/#')).toBe(true);
    expect(parse('v3/a+/up')).toBe(false);
    expect(parse('v3/#/up')).toBe(false);
    expect(serviceSchema.safeParse({ ingest: { sources: [{ filter: 'x', format: 'ttn' }] } }).success).toBe(
      false,
    );
  });
});

describe('registry: a sensor is found by its DevEUI', () => {
  const base = {
    substations: [
      { id: 's', curve: { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 } },
    ],
  };
  const net = (sensors: object[]) => ({
    ...base,
    buildings: [{ id: 'b', substation: 's', floors: 3, unitsPerFloor: 3, sensors }],
  });
  it('normalises DevEUIs to lower case and indexes them', () => {
    const r = new RegistryIndex(
      toRegistry(
        networkSchema.parse(net([{ floor: 1, column: 1, devEui: 'A84041000181C061', model: 'elsys-ers' }])),
      ),
    );
    expect(r.sensorsByDevEui.get('a84041000181c061')?.sensor).toMatchObject({
      id: 'b-1-1',
      model: 'elsys-ers',
    });
  });
  it('refuses a DevEUI used twice (whatever the case), a malformed one and an unknown model', () => {
    const dup = networkSchema.safeParse(
      net([
        { floor: 1, column: 1, devEui: 'A84041000181C061' },
        { floor: 1, column: 2, devEui: 'a84041000181c061' },
      ]),
    );
    expect(dup.success).toBe(false);
    expect(JSON.stringify(dup.error?.issues)).toContain('duplicate devEui');
    expect(networkSchema.safeParse(net([{ floor: 1, column: 1, devEui: 'A84041000181C0' }])).success).toBe(
      false,
    );
    expect(networkSchema.safeParse(net([{ floor: 1, column: 1, model: 'acme-9000' }])).success).toBe(false);
  });
});
