import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDevicePassword, hashPassword } from '../../src/mqtt/auth.ts';
import type { EmbeddedBroker } from '../../src/mqtt/broker.ts';
import {
  connackCode,
  connectDevice,
  connectService,
  DEVICE_KEY,
  ROOT,
  SERVICE,
  startTrustedBroker,
  testRegistry,
} from './support.ts';

const SENSORS = ['a1-1-1', 'a1-2-2', 'a1-3-3', 'b1-1-2', 'b1-3-1'];
const SUBSTATIONS = ['ss-a', 'ss-b'];
const HASHED = { id: 'a1-hashed', password: 'correct horse battery staple' };

/** The SUBACK return codes; mqtt.js rejects a 0x80 answer, which is what we are looking for. */
async function subackCodes(c: MqttClient, filter: string): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filter, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

describe('embedded broker trust: identities and ACL over real sockets', () => {
  let broker: EmbeddedBroker;
  let url: string;
  let service: MqttClient;
  const devices = new Map<string, MqttClient>();
  /** Every message the service account saw, as `topic payload`. */
  const seen: string[] = [];

  beforeAll(async () => {
    const passwordHash = await hashPassword(HASHED.password, { N: 1024, r: 8, p: 1 });
    ({ broker, url } = await startTrustedBroker({
      registry: testRegistry({ id: HASHED.id, passwordHash }),
      limits: { devicePublishesPerMin: 100_000, connectAttemptsPerMin: 10_000 },
    }));
    service = await connectService(url);
    await service.subscribeAsync('#', { qos: 1 });
    service.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
    for (const id of [...SENSORS, ...SUBSTATIONS, 'city']) devices.set(id, await connectDevice(url, id));
  });

  afterAll(async () => {
    for (const c of devices.values()) await c.endAsync();
    await service?.endAsync();
    await broker?.stop();
  });

  it('refuses anonymous, unknown, wrong-password and cross-device client-id logins', async () => {
    const before = broker.stats().authFailures;
    expect(await connackCode(url, { clientId: 'anon' })).toBe(5);
    expect(await connackCode(url, { clientId: 'x', username: 'nobody', password: 'x' })).toBe(4);
    expect(
      await connackCode(url, {
        clientId: 'a1-1-1',
        username: 'a1-1-1',
        password: deriveDevicePassword('other-key', 'a1-1-1'),
      }),
    ).toBe(4);
    // Someone else's derived password does not open this account.
    expect(
      await connackCode(url, {
        clientId: 'a1-1-1',
        username: 'a1-1-1',
        password: deriveDevicePassword(DEVICE_KEY, 'a1-2-2'),
      }),
    ).toBe(4);
    // A device may not take over another device's session by using its client id.
    expect(
      await connackCode(url, {
        clientId: 'a1-2-2',
        username: 'a1-1-1',
        password: deriveDevicePassword(DEVICE_KEY, 'a1-1-1'),
      }),
    ).toBe(2);
    expect(await connackCode(url, { clientId: 'svc', username: SERVICE.username, password: 'wrong' })).toBe(
      4,
    );
    expect(broker.stats().authFailures).toBe(before + 6);
  });

  it('accepts a sensor with its own scrypt hash only with that password, and a client-id suffix', async () => {
    expect(
      await connackCode(url, { clientId: HASHED.id, username: HASHED.id, password: HASHED.password }),
    ).toBe(0);
    // Cached success: the second login is checked against the cache, still exactly.
    expect(
      await connackCode(url, { clientId: HASHED.id, username: HASHED.id, password: HASHED.password }),
    ).toBe(0);
    expect(
      await connackCode(url, { clientId: HASHED.id, username: HASHED.id, password: `${HASHED.password}!` }),
    ).toBe(4);
    // Its own hash replaces the derived password.
    expect(
      await connackCode(url, {
        clientId: HASHED.id,
        username: HASHED.id,
        password: deriveDevicePassword(DEVICE_KEY, HASHED.id),
      }),
    ).toBe(4);
    expect(
      await connackCode(url, {
        clientId: 'a1-1-1-sim',
        username: 'a1-1-1',
        password: deriveDevicePassword(DEVICE_KEY, 'a1-1-1'),
      }),
    ).toBe(0);
  });

  /** Publishes `marker` on the device's own topic and waits until the service has it. */
  async function flushThrough(id: string, marker: string): Promise<void> {
    const c = devices.get(id)!;
    const own = SENSORS.includes(id)
      ? `${ROOT}/sensors/${id}/telemetry`
      : SUBSTATIONS.includes(id)
        ? `${ROOT}/substations/${id}/telemetry`
        : `${ROOT}/weather/${id}/observation`;
    await c.publishAsync(own, marker, { qos: 1 });
    await expect.poll(() => seen.includes(`${own} ${marker}`), { timeout: 15_000 }).toBe(true);
  }

  it('property: no device publish outside its own topics is ever delivered', async () => {
    const ids = [...SENSORS, ...SUBSTATIONS, 'city'];
    const leaves = ['telemetry', 'status', 'setpoint', 'observation', 'forecast', 'x'];
    const collections = ['sensors', 'substations', 'weather'];
    let run = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...ids),
        fc.oneof(
          // Another identity's topics of every kind.
          fc
            .tuple(fc.constantFrom(...collections), fc.constantFrom(...ids), fc.constantFrom(...leaves))
            .map(([c, id, leaf]) => `${ROOT}/${c}/${id}/${leaf}`),
          // Odd shapes (within maxTopicLevels; deeper topics close the connection, tested in faults): extra levels, other roots, $SYS, empty levels.
          fc.constantFrom(
            '$SYS/broker/x',
            'heat',
            'heat/',
            'other/sensors/a1-1-1/telemetry',
            '/heat/sensors/a1-1-1/telemetry',
          ),
          fc
            .tuple(fc.constantFrom(...ids), fc.stringMatching(/^[a-z]{1,6}(\/[a-z]{0,6}){0,2}$/))
            .map(([id, tail]) => `${ROOT}/sensors/${id}/${tail}`),
        ),
        async (id, topic) => {
          const own = new Set(
            SENSORS.includes(id)
              ? [`${ROOT}/sensors/${id}/telemetry`, `${ROOT}/sensors/${id}/status`]
              : SUBSTATIONS.includes(id)
                ? [`${ROOT}/substations/${id}/telemetry`]
                : [`${ROOT}/weather/${id}/observation`, `${ROOT}/weather/${id}/forecast`],
          );
          fc.pre(!own.has(topic));
          const payload = `attack-${run++}`;
          await devices.get(id)!.publishAsync(topic, payload, { qos: 1 });
          // Same publisher, same subscriber, QoS 1: the marker arrives after anything sent before it.
          await flushThrough(id, `marker-${payload}`);
          return !seen.some((line) => line.endsWith(` ${payload}`));
        },
      ),
      { numRuns: 60 },
    );
    expect(broker.stats().aclDeniedPublish).toBeGreaterThan(0);
  });

  it('property: devices get no wildcard, $SYS or foreign subscription; a substation gets its setpoint', async () => {
    const filters = fc.oneof(
      fc.constantFrom(
        '#',
        '+',
        '+/#',
        '$SYS/#',
        '$SYS/+/heartbeat',
        '$heatwatch/#',
        `${ROOT}/#`,
        `${ROOT}/+/+/+`,
      ),
      fc
        .tuple(
          fc.constantFrom('sensors', 'substations', 'weather'),
          fc.constantFrom('+', 'ss-a', 'ss-b', 'a1-1-1', 'city'),
          fc.constantFrom('setpoint', 'telemetry', '#', '+'),
        )
        .map(([c, id, leaf]) => `${ROOT}/${c}/${id}/${leaf}`),
    );
    await fc.assert(
      fc.asyncProperty(fc.constantFrom(...SENSORS, ...SUBSTATIONS, 'city'), filters, async (id, filter) => {
        fc.pre(filter !== `${ROOT}/substations/${id}/setpoint`);
        return (await subackCodes(devices.get(id)!, filter)).every((code) => code === 128);
      }),
      { numRuns: 80 },
    );
    // Positive control: the one subscription a substation may hold works end to end.
    const ss = devices.get('ss-a')!;
    const granted = await ss.subscribeAsync(`${ROOT}/substations/ss-a/setpoint`, { qos: 1 });
    expect(granted[0]?.qos).toBe(1);
    const got: string[] = [];
    ss.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await service.publishAsync(`${ROOT}/substations/ss-b/setpoint`, 'for-b', { qos: 1 });
    await service.publishAsync(`${ROOT}/substations/ss-a/setpoint`, 'for-a', { qos: 1 });
    await expect.poll(() => got, { timeout: 15_000 }).toEqual([`${ROOT}/substations/ss-a/setpoint for-a`]);
  });

  it('the service account may publish setpoints but never speak for a device', async () => {
    await service.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, 'forged', { qos: 1 });
    await service.publishAsync(`${ROOT}/substations/ss-a/setpoint`, 'setpoint-ok', { qos: 1 });
    await expect
      .poll(() => seen.includes(`${ROOT}/substations/ss-a/setpoint setpoint-ok`), { timeout: 15_000 })
      .toBe(true);
    expect(seen.some((l) => l.endsWith(' forged'))).toBe(false);
  });
});
