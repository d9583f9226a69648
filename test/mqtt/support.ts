import mqtt, { type IClientOptions, type MqttClient } from 'mqtt';
import { networkSchema, toRegistry } from '../../src/config/network-schema.ts';
import { serviceSchema } from '../../src/config/service-schema.ts';
import type { Clock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import { DeviceAuth, deriveDevicePassword } from '../../src/mqtt/auth.ts';
import { type BrokerLimits, EmbeddedBroker } from '../../src/mqtt/broker.ts';

export const DEVICE_KEY = 'test-device-key-0123456789';
export const SERVICE = { username: 'heatwatch', password: 'service-secret' };
export const ROOT = 'heat';

/** A small network: 2 substations, 2 buildings, 6 sensors (one with its own scrypt hash), 1 weather feed. */
export function testRegistry(hashedSensor?: { id: string; passwordHash: string }): RegistryIndex {
  const curve = { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 };
  const net = networkSchema.parse({
    weatherStation: 'city',
    substations: [
      { id: 'ss-a', curve },
      { id: 'ss-b', curve },
    ],
    buildings: [
      {
        id: 'a1',
        substation: 'ss-a',
        floors: 3,
        unitsPerFloor: 3,
        sensors: [
          { floor: 1, column: 1 },
          { floor: 2, column: 2 },
          { floor: 3, column: 3 },
          ...(hashedSensor
            ? [{ id: hashedSensor.id, floor: 2, column: 1, passwordHash: hashedSensor.passwordHash }]
            : []),
        ],
      },
      {
        id: 'b1',
        substation: 'ss-b',
        floors: 3,
        unitsPerFloor: 3,
        sensors: [
          { floor: 1, column: 2 },
          { floor: 3, column: 1 },
        ],
      },
    ],
  });
  return new RegistryIndex(toRegistry(net));
}

export const defaultLimits = (over: Partial<BrokerLimits> = {}): BrokerLimits => ({
  ...serviceSchema.parse({}).mqtt.limits,
  ...over,
});

export async function startTrustedBroker(opts: {
  limits?: Partial<BrokerLimits>;
  clock?: Clock;
  registry?: RegistryIndex;
}): Promise<{ broker: EmbeddedBroker; url: string; auth: DeviceAuth }> {
  const limits = defaultLimits(opts.limits);
  const auth = new DeviceAuth({
    registry: opts.registry ?? testRegistry(),
    weatherStationIds: ['city'],
    topicRoot: ROOT,
    deviceKey: DEVICE_KEY,
    service: SERVICE,
    passwordCheckConcurrency: limits.passwordCheckConcurrency,
    passwordCheckQueue: limits.passwordCheckQueue,
    log: silentLogger(),
  });
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    limits,
    auth,
    log: silentLogger(),
    ...(opts.clock ? { clock: opts.clock } : {}),
  });
  const { port } = await broker.start();
  return { broker, url: `mqtt://127.0.0.1:${port}`, auth };
}

/** Connects as a registry device with its derived password (client id = device id). */
export function connectDevice(url: string, id: string, extra: IClientOptions = {}): Promise<MqttClient> {
  return mqtt.connectAsync(url, {
    clientId: id,
    username: id,
    password: deriveDevicePassword(DEVICE_KEY, id),
    reconnectPeriod: 0,
    connectTimeout: 3000,
    ...extra,
  });
}

export function connectService(url: string, clientId = 'heatwatch-test'): Promise<MqttClient> {
  return mqtt.connectAsync(url, { clientId, ...SERVICE, reconnectPeriod: 0, connectTimeout: 3000 });
}

/** Resolves with the CONNACK return code a login gets (0 = accepted). */
export function connackCode(url: string, opts: IClientOptions): Promise<number> {
  return new Promise((resolve) => {
    const c = mqtt.connect(url, { reconnectPeriod: 0, connectTimeout: 3000, ...opts });
    c.once('connect', () => {
      c.end(true);
      resolve(0);
    });
    c.once('error', (err: Error & { code?: number }) => {
      c.end(true);
      resolve(typeof err.code === 'number' ? err.code : -1);
    });
    c.once('close', () => resolve(-2));
  });
}
