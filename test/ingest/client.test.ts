import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { silentLogger } from '../../src/core/log.ts';
import { EmbeddedBroker, openAuth } from '../../src/mqtt/broker.ts';
import { type ServiceClientOptions, ServiceMqttClient } from '../../src/mqtt/client.ts';
import { Topics } from '../../src/mqtt/topics.ts';
import { waitFor } from '../main/support.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';

const limits = loadConfig('config', {}).service.mqtt.limits;
const stops: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const s of stops.reverse()) await s();
  stops.length = 0;
});

const options = (
  url: string,
  root: string,
  over: Partial<ServiceClientOptions> = {},
): ServiceClientOptions => ({
  url,
  clientId: `${root}-svc`,
  protocolVersion: 'auto',
  sessionExpiryS: 30,
  receiveMaximum: 100,
  keepaliveS: 30,
  reconnectPeriodMs: 1000,
  connectTimeoutMs: 5000,
  filters: new Topics(root).ingestFilters(),
  ...over,
});

/** An embedded aedes on an OS-picked port, stopped after the test; returns its URL. */
async function startAedes(): Promise<string> {
  const broker = new EmbeddedBroker({
    host: '127.0.0.1',
    port: 0,
    limits,
    auth: openAuth(),
    log: silentLogger(),
  });
  const { port } = await broker.start();
  stops.push(() => broker.stop());
  return `mqtt://127.0.0.1:${port}`;
}

describe("heatwatch's MQTT client", () => {
  it('falls back to MQTT 3.1.1 against aedes, receives the contract topics and publishes retained setpoints', async () => {
    const url = await startAedes();
    const got: string[] = [];
    const client = new ServiceMqttClient(
      options(url, 'heat'),
      (topic, _payload, done) => {
        got.push(topic);
        done();
      },
      silentLogger(),
    );
    await client.start();
    stops.push(() => client.stop());
    expect(client.protocolVersion).toBe(4);
    expect(client.connected).toBe(true);

    const dev = await mqtt.connectAsync(url, { clientId: 'dev', protocolVersion: 4 });
    stops.push(() => dev.endAsync());
    for (const t of [
      'heat/sensors/a/telemetry',
      'heat/sensors/a/status',
      'heat/substations/s/telemetry',
      'heat/weather/w/observation',
      'heat/weather/w/forecast',
      'heat/substations/s/setpoint',
      'other/sensors/a/telemetry',
      // A last subscribed topic: one publisher's messages arrive in order, so once this one is in,
      // anything of the others that was going to arrive has arrived (no wall-clock wait).
      'heat/sensors/last/telemetry',
    ])
      await dev.publishAsync(t, '{}', { qos: 1 });
    await waitFor(() => got.includes('heat/sensors/last/telemetry'), 30_000, 'the last message');
    // The setpoint topic and foreign roots are not subscribed.
    expect(got.slice(0, -1)).toEqual([
      'heat/sensors/a/telemetry',
      'heat/sensors/a/status',
      'heat/substations/s/telemetry',
      'heat/weather/w/observation',
      'heat/weather/w/forecast',
    ]);

    await client.publishRetained('heat/substations/s/setpoint', { ticketId: 't1', supplyOffset: 2, ts: 1 });
    const late = await mqtt.connectAsync(url, { clientId: 'late', protocolVersion: 4 });
    stops.push(() => late.endAsync());
    const retained = new Promise<string>((r) => late.once('message', (_t, p) => r(p.toString())));
    await late.subscribeAsync('heat/substations/s/setpoint', { qos: 1 });
    expect(JSON.parse(await retained)).toEqual({ ticketId: 't1', supplyOffset: 2, ts: 1 });
  });

  it('reads on while a handler that returned true holds its messages, and acknowledges each only when its done comes', async () => {
    const url = await startAedes();
    const waiting: Array<{ body: string; done: () => void }> = [];
    const client = new ServiceMqttClient(
      options(url, 'heat'),
      (_t, payload, done) => {
        waiting.push({ body: payload.toString(), done });
        return true;
      },
      silentLogger(),
    );
    await client.start();
    stops.push(() => client.stop());
    const dev = await mqtt.connectAsync(url, { clientId: 'dev-pipelined', protocolVersion: 4 });
    stops.push(() => dev.endAsync());
    for (const body of ['m1', 'm2', 'm3'])
      await dev.publishAsync('heat/sensors/a/telemetry', body, { qos: 1 });
    // Without reading on, mqtt.js would hand over m2 only after m1's done.
    await waitFor(() => waiting.length === 3, 30_000, 'all three messages before any done');
    expect(waiting.map((w) => w.body)).toEqual(['m1', 'm2', 'm3']);
    // m2 is never made durable: only m1 and m3 are acknowledged.
    waiting[0]?.done();
    waiting[2]?.done();
    // The same session again: the broker redelivers exactly the message without a PUBACK.
    await client.stop();
    stops.pop();
    const redelivered: string[] = [];
    const again = new ServiceMqttClient(
      options(url, 'heat'),
      (_t, payload, done) => {
        redelivered.push(payload.toString());
        done();
      },
      silentLogger(),
    );
    await again.start();
    stops.push(() => again.stop());
    await dev.publishAsync('heat/sensors/a/telemetry', 'last', { qos: 1 });
    await waitFor(() => redelivered.includes('last'), 30_000, 'the marker message');
    expect(redelivered).toEqual(['m2', 'last']);
  });

  it('withholds the PUBACK until the handler calls back: an unacknowledged message is redelivered to the session', async (ctx) => {
    if (!serverAvailable('mosquitto', await portOpen(1883), 'nothing listens on 127.0.0.1:1883'))
      return ctx.skip();
    const root = uniqueRoot();
    const url = 'mqtt://127.0.0.1:1883';
    const seen: string[] = [];
    // First session: takes the message but never calls back (as if it crashed before durability).
    const first = new ServiceMqttClient(
      options(url, root),
      (_t, payload) => {
        seen.push(`first:${payload.toString()}`);
      },
      silentLogger(),
    );
    await first.start();
    expect(first.protocolVersion).toBe(5);
    const pub = await mqtt.connectAsync(url, { clientId: `${root}-pub`, protocolVersion: 5 });
    stops.push(() => pub.endAsync());
    await pub.publishAsync(`${root}/sensors/x/telemetry`, 'm1', { qos: 1 });
    await waitFor(() => seen.length > 0, 30_000, 'the first session to take m1');
    await first.stop();
    const second = new ServiceMqttClient(
      options(url, root, { sessionExpiryS: 0 }),
      (_t, payload, done) => {
        seen.push(`second:${payload.toString()}`);
        done();
      },
      silentLogger(),
    );
    await second.start();
    stops.push(() => second.stop());
    await waitFor(() => seen.length > 1, 30_000, 'the redelivery to the second session');
    expect(seen).toEqual(['first:m1', 'second:m1']);
  });
});
