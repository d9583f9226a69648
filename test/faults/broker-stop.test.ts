import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connectDevice, ROOT, SERVICE, startTrustedBroker } from '../mqtt/support.ts';

const long = process.env.HEATWATCH_FAULTS === 'long';
const COUNT = long ? 20_000 : 1500;

describe('graceful stop of the embedded broker under load', () => {
  it('delivers to heatwatch every message aedes acknowledged to a device before it stops', async () => {
    const { broker, url } = await startTrustedBroker({
      limits: { devicePublishesPerMin: 10_000_000, drainTimeoutMs: 20_000 },
    });
    // A slow persistent subscriber, as ingestion is while the journal is busy: aedes queues for it.
    const received = new Set<string>();
    const service = await mqtt.connectAsync(url, {
      clientId: 'heatwatch-ingest',
      ...SERVICE,
      clean: false,
      reconnectPeriod: 0,
    });
    service.handleMessage = (packet, done) => {
      received.add(String(packet.payload));
      setTimeout(done, 0);
    };
    await service.subscribeAsync(`${ROOT}/sensors/+/telemetry`, { qos: 1 });
    const device = await connectDevice(url, 'a1-1-1');
    const acked: Promise<unknown>[] = [];
    for (let i = 0; i < COUNT; i++)
      acked.push(device.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, String(i), { qos: 1 }));
    // Every one of these is now acknowledged to the device: the device will never send it again.
    await Promise.all(acked);
    const backlog = COUNT - received.size;

    await broker.quiesce();
    // Everything acknowledged has reached heatwatch before it lets go of its subscriber.
    expect(received.size).toBe(COUNT);
    expect(backlog).toBeGreaterThan(0); // the test exercised a real backlog
    expect(device.connected).toBe(false); // devices are cut off first, so nothing new comes in
    await service.endAsync();
    await broker.stop();
    device.end(true);
  }, 60_000);
});
