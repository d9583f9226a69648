import { afterEach, describe, expect, it } from 'vitest';
import { SimRunner } from '../../firmware-sim/runner.ts';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import { DeviceAuth } from '../../src/mqtt/auth.ts';
import { EmbeddedBroker } from '../../src/mqtt/broker.ts';
import { CountingSubscriber, quietScenario, smallRegistry, waitFor } from './helpers.ts';

const MIN = 60_000;

describe('simulator against heatwatch embedded broker with device credentials', () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  it('every device logs in with its derived password, passes the ACL, and all readings arrive', async () => {
    const svc = serviceSchema.parse({});
    const registry = smallRegistry(3);
    const index = new RegistryIndex(registry);
    const clock = new ManualClock();
    const deviceKey = 'test-group-key';
    const servicePassword = 'test-service-password';
    const root = svc.mqtt.topicRoot;
    const auth = new DeviceAuth({
      registry: index,
      weatherStationIds: ['city'],
      topicRoot: root,
      deviceKey,
      service: { username: svc.mqtt.username, password: servicePassword },
      passwordCheckConcurrency: svc.mqtt.limits.passwordCheckConcurrency,
      passwordCheckQueue: svc.mqtt.limits.passwordCheckQueue,
      log: silentLogger(),
    });
    const broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      limits: svc.mqtt.limits,
      auth,
      clock,
      log: silentLogger(),
    });
    const { port } = await broker.start();
    cleanups.push(() => broker.stop());
    const url = `mqtt://127.0.0.1:${port}`;
    const sub = new CountingSubscriber(url, root, `${svc.mqtt.username}-counter`, {
      username: svc.mqtt.username,
      password: servicePassword,
    });
    await sub.start();
    cleanups.push(() => sub.stop());
    const runner = new SimRunner({
      registry: index,
      scenario: quietScenario(),
      clock,
      brokerUrl: url,
      deviceKey,
      topicRoot: root,
      log: silentLogger(),
      weatherStation: 'city',
    });
    await runner.start();
    cleanups.push(() => runner.stop());
    await waitFor(() => runner.stats().connected === runner.stats().connections, 'all devices logged in');
    await clock.advanceAsync(30 * MIN, MIN);
    await waitFor(() => runner.stats().inFlight === 0, 'acks');
    const s = runner.stats();
    await waitFor(() => sub.readingsReceived >= s.readingsPublished, 'delivery');
    expect(s.readingsPublished).toBeGreaterThan(12 * 27);
    expect(sub.uniqueReadings).toBe(s.readingsPublished);
    expect(sub.substation.length).toBe(s.substationMessages);
    expect(sub.observations + sub.forecasts.length).toBe(s.weatherMessages);
    const b = broker.stats();
    expect(b.authFailures).toBe(0);
    expect(b.aclDeniedPublish).toBe(0);
    expect(b.aclDeniedSubscribe).toBe(0);
    expect(b.rateLimited).toBe(0);

    // The service sends a setpoint; the substation meter (its own login) obeys it.
    await sub.client!.publishAsync(
      `${root}/substations/ss-b/setpoint`,
      JSON.stringify({ ticketId: 't', supplyOffset: -2, ts: clock.now() }),
      {
        qos: 1,
        retain: true,
      },
    );
    await waitFor(() => runner.stats().setpointsApplied === 1, 'setpoint applied');
    expect(runner.network!.substationTelemetry('ss-b').supplyOffsetC).toBe(-2);
  });
});
