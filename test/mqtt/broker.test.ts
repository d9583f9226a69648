import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { systemClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { EmbeddedBroker, openAuth } from '../../src/mqtt/broker.ts';

const limits = serviceSchema.parse({}).mqtt.limits;

describe('EmbeddedBroker (open auth)', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('delivers QoS 1 messages between clients on an OS-picked port and stops cleanly', async () => {
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      limits,
      auth: openAuth(),
      log: silentLogger(),
      clock: systemClock(),
    });
    const { port } = await broker.start();
    expect(port).toBeGreaterThan(0);
    const sub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'sub', reconnectPeriod: 0 });
    await sub.subscribeAsync('heat/#', { qos: 1 });
    let received = 0;
    sub.on('message', () => received++);
    const pub = await mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, { clientId: 'pub', reconnectPeriod: 0 });
    for (let i = 0; i < 50; i++)
      await pub.publishAsync('heat/sensors/a/telemetry', '{"temp":21}', { qos: 1 });
    await expect.poll(() => received, { timeout: 15_000 }).toBe(50);
    expect(broker.stats().clientsConnected).toBe(2);
    await pub.endAsync();
    await sub.endAsync();
  });
});
