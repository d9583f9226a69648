import mqtt from 'mqtt';
import { describe, expect, it } from 'vitest';
import { connectDevice, ROOT, SERVICE, startTrustedBroker } from '../mqtt/support.ts';

const long = process.env.HEATWATCH_FAULTS === 'long';
const COUNT = long ? 20_000 : 1500;
/**
 * The slow subscriber below takes one timer turn (at least 1 ms) per message: measured 300–700
 * messages/s on the shared 2-core machine, idle to busy. Deadlines assume no less than this rate, so
 * they grow with COUNT instead of cutting a long run short (a fixed 20 s drain bound delivered 15 966
 * of 20 000 and failed for the bound, not for the broker).
 */
const MIN_DELIVERIES_PER_S = 100;
const DRAIN_TIMEOUT_MS = 10_000 + (COUNT / MIN_DELIVERIES_PER_S) * 1000;

describe('graceful stop of the embedded broker under load', () => {
  it(
    'delivers to heatwatch every message aedes acknowledged to a device before it stops',
    async () => {
      const t0 = Date.now();
      const { broker, url } = await startTrustedBroker({
        limits: { devicePublishesPerMin: 10_000_000, drainTimeoutMs: DRAIN_TIMEOUT_MS },
      });
      // A slow persistent subscriber, as ingestion is while the journal is busy: aedes queues for it.
      const received = new Set<string>();
      const service = await mqtt.connectAsync(url, {
        clientId: 'heatwatch-ingest',
        ...SERVICE,
        clean: false,
        reconnectPeriod: 0,
        // No keepalive: the PINGRESP waits behind every queued message this handler reads one at a
        // time, and with 20 000 queued mqtt.js gave up on the connection ("Keepalive timeout") after
        // 85 s at load average 30. Broker and subscriber share this process; no network to watch.
        keepalive: 0,
      });
      // A lost connection is a result to report, not an unhandled error.
      const serviceEvents: string[] = [];
      service.on('error', (err) => serviceEvents.push(`error: ${err.message}`));
      service.on('close', () => serviceEvents.push(`close after ${received.size}`));
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

      const quiesceStart = Date.now();
      await broker.quiesce();
      const quiesceMs = Date.now() - quiesceStart;
      console.info(
        `broker-stop: ${COUNT} acknowledged to the device, ${backlog} still queued for the slow subscriber ` +
          `when the last PUBACK arrived; quiesce delivered them in ${quiesceMs} ms ` +
          `(${Math.round(backlog / Math.max(quiesceMs / 1000, 0.001))}/s); ${received.size} delivered; ` +
          `${((Date.now() - t0) / 1000).toFixed(1)} s; subscriber: ${serviceEvents.join(', ') || 'connected throughout'}`,
      );
      // Everything acknowledged has reached heatwatch before it lets go of its subscriber.
      expect(received.size).toBe(COUNT);
      expect(backlog).toBeGreaterThan(0); // the test exercised a real backlog
      expect(device.connected).toBe(false); // devices are cut off first, so nothing new comes in
      await service.endAsync();
      await broker.stop();
      device.end(true);
      // Publishing runs at the slow subscriber's pace too (aedes' in-flight window), then the drain.
    },
    2 * DRAIN_TIMEOUT_MS + 10_000,
  );
});
