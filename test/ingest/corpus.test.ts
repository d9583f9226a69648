import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterEach, describe, expect, it } from 'vitest';
import type { Heatwatch } from '../../src/main.ts';
import { startIngest, storedRows, tempDir, waitFor } from '../main/support.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { fixtureTopic, generatedRejects, loadFixtures } from './fixtures.ts';

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

/** Shifts the fixtures' fixed timestamps (written against FIXTURE_NOW_MS) to the present. */
function retime(payload: Buffer, shiftMs: number): Buffer {
  return Buffer.from(
    payload
      .toString('latin1')
      .replace(/\b17684\d{8}\b/g, (ts) => String(Number(ts) + shiftMs))
      .replace(/2026-01-1\dT[\d:.]+Z/g, (iso) => new Date(Date.parse(iso) + shiftMs).toISOString()),
    'latin1',
  );
}

describe('bad input through a real broker: each refused with its reason, good messages between all stored', () => {
  it("the corpus through the machine's Mosquitto", async (ctx) => {
    if (!serverAvailable('mosquitto', await portOpen(1883), 'nothing listens on 127.0.0.1:1883'))
      return ctx.skip();
    const t = tempDir();
    cleanup = t.cleanup;
    const root = uniqueRoot();
    hw = await startIngest(t.dir, (c) => {
      c.service.mqtt.mode = 'external';
      c.service.mqtt.url = 'mqtt://127.0.0.1:1883';
      c.service.mqtt.topicRoot = root;
      c.service.mqtt.clientId = `${root}-ingest`;
      c.service.mqtt.sessionExpiryS = 30;
    });
    const h = hw;
    const limits = h.config.service;
    const shift = Date.now() - Date.UTC(2026, 0, 15);
    const ids = { sensorId: 'n01-6-1', substationId: 'ss-north', stationId: 'city' };
    const pub = await mqtt.connectAsync('mqtt://127.0.0.1:1883', {
      clientId: `${root}-pub`,
      protocolVersion: 5,
    });

    // Good sensor readings from another sensor between every bad message, each with its own ts.
    const goodSent = new Set<string>();
    let goodTs = Date.now() - 10_000_000;
    const good = async () => {
      goodTs += 1000;
      goodSent.add(`n02-1-4@${goodTs}`);
      await pub.publishAsync(`${root}/sensors/n02-1-4/telemetry`, JSON.stringify({ ts: goodTs, temp: 21 }), {
        qos: 1,
      });
    };

    const expected: Array<{ name: string; reason: string }> = [];
    let partialItems = 0;
    // Instants the good room fixtures (and good items of partial ones) carry; equal instants are one point.
    const fixtureInstants = new Set<number>();
    for (const f of loadFixtures()) {
      await good();
      const payload = retime(f.payload, shift);
      await pub.publishAsync(fixtureTopic(root, f.kind, ids), payload, { qos: 1 });
      if (f.expect === 'partial') partialItems++;
      else if (f.expect !== 'accepted') expected.push({ name: f.name, reason: f.expect });
      if (f.kind === 'room' && (f.expect === 'accepted' || f.expect === 'partial')) {
        const body = JSON.parse(payload.toString()) as unknown;
        for (const item of (Array.isArray(body) ? body : [body]) as Array<{
          ts: number | string;
          temp: number;
        }>)
          if (item.temp <= 60)
            fixtureInstants.add(typeof item.ts === 'number' ? item.ts : Date.parse(item.ts));
      }
    }
    for (const g of generatedRejects(limits.mqtt.limits.maxPayloadBytes, limits.ingest.maxJsonDepth)) {
      await good();
      await pub.publishAsync(`${root}/sensors/n01-6-1/telemetry`, g.payload, { qos: 1 });
      expected.push({ name: g.name, reason: g.expect });
    }
    await pub.publishAsync(`${root}/sensors/not-a-sensor/telemetry`, '{"ts":1,"temp":20}', { qos: 1 });
    expected.push({ name: 'unknown sensor', reason: 'unknown_sensor' });
    await good();
    await pub.endAsync();

    const refusals = expected.length + partialItems;
    await waitFor(() => h.deadLetters.recent(1000).length >= refusals, 10_000, 'every refusal dead-lettered');
    await h.ingestor.flush();
    const letters = h.deadLetters.recent(1000).reverse();
    // Messages arrive in order (one publisher, QoS 1): the dead letters line up with the corpus.
    const whole = letters.filter((l) => !l.detail.startsWith('item '));
    expect(whole.map((l) => l.reason)).toEqual(expected.map((e) => e.reason));
    expect(letters.filter((l) => l.detail.startsWith('item ')).map((l) => l.reason)).toEqual([
      'temp_out_of_range',
    ]);
    const huge = letters.find((l) => l.reason === 'too_large');
    expect(huge?.payload.length).toBe(limits.ingest.deadLetterPayloadBytes);
    expect(huge?.payloadBytes).toBeGreaterThan(limits.mqtt.limits.maxPayloadBytes);

    const metrics = h.metrics.render();
    for (const reason of new Set(expected.map((e) => e.reason)))
      expect(metrics).toContain(`heatwatch_readings_rejected_total{reason="${reason}"}`);

    await h.stop();
    hw = undefined;
    const rows = storedRows(join(t.dir, 'readings.db'));
    const stored = new Set(rows.map((r) => `${r.sensor_id}@${r.ts}`));
    for (const k of goodSent) expect(stored.has(k)).toBe(true);
    // Good fixtures (n01-6-1) and the good items of the partial array are stored too.
    expect(new Set(rows.filter((r) => r.sensor_id === 'n01-6-1').map((r) => r.ts))).toEqual(fixtureInstants);
  });
});
