import { afterEach, describe, expect, it } from 'vitest';
import { SimRunner } from '../../firmware-sim/runner.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { freePort, uniqueRoot } from '../support/servers.ts';
import { CountingSubscriber, quietScenario, RestartableAedes, smallRegistry, waitFor } from './helpers.ts';

const MIN = 60_000;

describe('simulator publishing through embedded aedes', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  async function setup(scenario = quietScenario()) {
    const port = await freePort();
    const broker = new RestartableAedes(port);
    await broker.start();
    cleanups.push(() => broker.stop());
    const url = `mqtt://127.0.0.1:${port}`;
    const root = uniqueRoot('simtest');
    const sub = new CountingSubscriber(url, root, `counter-${root}`);
    await sub.start();
    cleanups.push(() => sub.stop());
    const clock = new ManualClock();
    const registry = smallRegistry(3);
    const runner = new SimRunner({
      registry,
      scenario,
      clock,
      brokerUrl: url,
      topicRoot: root,
      log: silentLogger(),
    });
    await runner.start();
    cleanups.push(() => runner.stop());
    await waitFor(() => runner.stats().connected === runner.stats().connections, 'all connections');
    return { broker, sub, clock, runner, registry, url, root };
  }

  it('a subscriber receives every reading, status, meter and weather message that was sent', async () => {
    const { sub, clock, runner, registry } = await setup();
    await clock.advanceAsync(60 * MIN, MIN);
    const s = runner.stats();
    await waitFor(
      () => runner.stats().inFlight === 0 && sub.readingsReceived >= s.readingsPublished,
      'delivery',
    );
    // 12 sensors reporting every minute (±10 % jitter) for an hour.
    expect(s.readingsPublished).toBeGreaterThan(12 * 55);
    expect(sub.uniqueReadings).toBe(s.readingsPublished);
    expect(sub.readingsReceived).toBe(s.readingsPublished);
    expect(sub.malformed).toBe(0);
    expect(sub.outOfOrder).toBe(0);
    expect(sub.substation.length).toBe(s.substationMessages);
    expect(s.substationMessages).toBeGreaterThanOrEqual(2 * 60);
    expect(sub.observations + sub.forecasts.length).toBe(s.weatherMessages);
    expect(sub.forecasts[0]?.points).toHaveLength(72);
    for (const sensor of registry.sensors)
      expect(sub.status.get(sensor.id)).toEqual({ online: true, fw: '1.2.0' });
    const meter = sub.substation[0]!;
    for (const k of [
      'ts',
      'supplyTemp',
      'returnTemp',
      'flow',
      'heat',
      'valve',
      'outdoorTemp',
      'supplyOffset',
    ])
      expect(meter).toHaveProperty(k);
  });

  it('readings taken while the broker is down arrive as one array per sensor after it restarts', async () => {
    const { broker, sub, clock, runner } = await setup();
    await clock.advanceAsync(10 * MIN, MIN);
    await waitFor(() => runner.stats().inFlight === 0, 'acks before the outage');
    await waitFor(
      () => sub.readingsReceived === runner.stats().readingsPublished,
      'delivery before the outage',
    );
    const beforeOutage = new Set(sub.readingKeys.keys());
    await broker.stop();
    await waitFor(() => runner.stats().connected === 0, 'clients to notice the outage');
    await clock.advanceAsync(20 * MIN, MIN);
    const during = runner.stats();
    expect(during.buffered).toBeGreaterThanOrEqual(12 * 17);
    await broker.start();
    await waitFor(() => runner.stats().connected === runner.stats().connections, 'reconnect');
    await waitFor(() => runner.stats().buffered === 0 && runner.stats().inFlight === 0, 'backlog flushed');
    const after = runner.stats();
    // Count distinct readings and arrays: a redelivered reading must not let the wait end before
    // the last batch has arrived.
    await waitFor(
      () => sub.uniqueReadings >= after.readingsPublished && sub.arrays >= after.batchesPublished,
      'backlog delivered',
    );
    expect(after.batchesPublished).toBe(12);
    expect(after.batchReadings).toBe(during.buffered);
    expect(sub.arrays).toBe(after.batchesPublished);
    expect(sub.uniqueReadings).toBe(after.readingsPublished);
    // QoS 1 is at-least-once: the broker may redeliver what the subscriber got just before the
    // outage (its PUBACK was not yet processed). Nothing else may arrive twice.
    const twice = [...sub.readingKeys].filter(([, n]) => n > 1).map(([k]) => k);
    expect(twice.filter((k) => !beforeOutage.has(k))).toEqual([]);
    expect(after.bufferDropped).toBe(0);
  });

  it('injected faults arrive as sent: malformed, duplicates, out of order and dropout batches', async () => {
    const scenario = quietScenario({
      messageFaults: {
        malformedRate: 0.05,
        duplicateRate: 0.05,
        outOfOrderRate: 0.05,
        dropoutPerDay: 30,
        dropoutMinH: 0.1,
        dropoutMaxH: 0.3,
      },
    });
    const { sub, clock, runner } = await setup(scenario);
    await clock.advanceAsync(6 * 60 * MIN, 5 * MIN);
    await waitFor(() => runner.stats().inFlight === 0, 'acks');
    const s = runner.stats();
    await waitFor(() => sub.readingsReceived >= s.readingsPublished + s.duplicatesPublished, 'delivery');
    expect(s.malformedPublished).toBeGreaterThan(5);
    expect(s.duplicatesPublished).toBeGreaterThan(5);
    expect(s.outOfOrderPublished).toBeGreaterThan(5);
    expect(s.batchesPublished).toBeGreaterThan(3);
    expect(sub.malformed).toBe(s.malformedPublished);
    expect(sub.uniqueReadings).toBe(s.readingsPublished);
    expect(sub.duplicates).toBe(s.duplicatesPublished);
    expect(sub.outOfOrder).toBeGreaterThan(0);
  });

  it('gateway mode: few connections, every sensor still on its own topic, batches after a restart', async () => {
    const { broker, sub, clock, runner, registry } = await setup(
      quietScenario({ devices: { connection: 'gateway', sensorsPerGateway: 5 } }),
    );
    // 12 sensors in gateways of 5, two substation meters, one weather feed.
    expect(runner.stats().connections).toBe(3 + 2 + 1);
    await clock.advanceAsync(10 * MIN, MIN);
    await waitFor(() => runner.stats().inFlight === 0, 'acks');
    await waitFor(() => sub.readingsReceived === runner.stats().readingsPublished, 'delivery');
    for (const sensor of registry.sensors) expect(sub.status.get(sensor.id)?.online).toBe(true);
    expect(sub.readingKeys.size).toBe(runner.stats().readingsPublished);
    await broker.stop();
    await waitFor(() => runner.stats().connected === 0, 'outage noticed');
    await clock.advanceAsync(10 * MIN, MIN);
    await broker.start();
    await waitFor(() => runner.stats().buffered === 0 && runner.stats().inFlight === 0, 'backlog flushed');
    const s = runner.stats();
    await waitFor(() => sub.uniqueReadings >= s.readingsPublished, 'backlog delivered');
    expect(s.batchesPublished).toBe(12);
    expect(sub.uniqueReadings).toBe(s.readingsPublished);
  });

  it('applies a setpoint received on its topic, and a power cut publishes the sensor last will', async () => {
    const { sub, clock, runner, root } = await setup();
    await sub.client!.publishAsync(
      `${root}/substations/ss-a/setpoint`,
      JSON.stringify({
        ticketId: 't-1',
        setpointId: 'SP-t-1',
        supplyOffset: 3,
        slopeDelta: 0.1,
        buildingValves: { 'b-a1': 90 },
        ts: clock.now(),
      }),
      { qos: 1, retain: true },
    );
    await waitFor(() => runner.stats().setpointsApplied === 1, 'setpoint applied');
    expect(runner.network!.substationTelemetry('ss-a').supplyOffsetC).toBe(3);
    await sub.client!.publishAsync(`${root}/substations/ss-a/setpoint`, '{"supplyOffset":"hot"}', { qos: 1 });
    await waitFor(() => runner.stats().setpointsRejected === 1, 'bad setpoint refused');
    expect(runner.network!.substationTelemetry('ss-a').supplyOffsetC).toBe(3);
    await clock.advanceAsync(3 * MIN, MIN);
    await waitFor(
      () => sub.substation.some((m) => m.id === 'ss-a' && m.supplyOffset === 3 && m.setpointId === 'SP-t-1'),
      'telemetry with offset',
    );

    expect(runner.cutConnection('b-a1-1-2')).toBe(true);
    await waitFor(() => sub.status.get('b-a1-1-2')?.online === false, 'last will');
    await waitFor(() => sub.status.get('b-a1-1-2')?.online === true, 'back online after reconnect');
  });
});
