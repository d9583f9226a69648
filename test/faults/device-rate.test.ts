import { afterEach, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/core/clock.ts';
import type { EmbeddedBroker } from '../../src/mqtt/broker.ts';
import { connectDevice, connectService, ROOT, startTrustedBroker } from '../mqtt/support.ts';

const PER_MIN = 20;

describe('one device at 100x its publish rate', () => {
  let broker: EmbeddedBroker | undefined;
  afterEach(async () => {
    await broker?.stop();
    broker = undefined;
  });

  it('is throttled and counted, stays connected, and its neighbour loses nothing', async () => {
    const clock = new ManualClock();
    const started = await startTrustedBroker({ clock, limits: { devicePublishesPerMin: PER_MIN } });
    broker = started.broker;
    const service = await connectService(started.url);
    const got = new Map<string, number>();
    await service.subscribeAsync(`${ROOT}/sensors/+/telemetry`, { qos: 1 });
    service.on('message', (topic) => {
      const id = topic.split('/')[2]!;
      got.set(id, (got.get(id) ?? 0) + 1);
    });
    const noisy = await connectDevice(started.url, 'a1-1-1');
    const quiet = await connectDevice(started.url, 'b1-1-2');

    // Within one (frozen) minute: the noisy device sends 100x its allowance, the quiet one exactly it.
    const sends: Promise<unknown>[] = [];
    for (let i = 0; i < PER_MIN * 100; i++)
      sends.push(noisy.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, `{"n":${i}}`, { qos: 1 }));
    for (let i = 0; i < PER_MIN; i++)
      sends.push(quiet.publishAsync(`${ROOT}/sensors/b1-1-2/telemetry`, `{"n":${i}}`, { qos: 1 }));
    // Every publish is acknowledged (MQTT 3.1.1 has no negative PUBACK), none errors.
    await Promise.all(sends);
    await expect.poll(() => got.get('b1-1-2'), { timeout: 5000 }).toBe(PER_MIN);
    expect(got.get('a1-1-1')).toBe(PER_MIN);
    expect(broker.stats().rateLimited).toBe(PER_MIN * 99);
    expect(noisy.connected).toBe(true);

    // A minute later the noisy device has earned a fresh allowance.
    clock.advance(60_000);
    await noisy.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, '{"n":"after"}', { qos: 1 });
    await expect.poll(() => got.get('a1-1-1'), { timeout: 3000 }).toBe(PER_MIN + 1);

    await noisy.endAsync();
    await quiet.endAsync();
    await service.endAsync();
  });

  it('connection attempts beyond the per-client limit are refused with "server unavailable"', async () => {
    const clock = new ManualClock();
    const started = await startTrustedBroker({ clock, limits: { connectAttemptsPerMin: 3 } });
    broker = started.broker;
    for (let i = 0; i < 3; i++) await (await connectDevice(started.url, 'a1-2-2')).endAsync();
    await expect(connectDevice(started.url, 'a1-2-2')).rejects.toMatchObject({ code: 3 });
    // Another client is not affected.
    await (await connectDevice(started.url, 'a1-3-3')).endAsync();
    expect(broker.stats().connectRateLimited).toBe(1);
    clock.advance(60_000);
    await (await connectDevice(started.url, 'a1-2-2')).endAsync();
  });
});
