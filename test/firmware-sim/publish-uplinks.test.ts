import { afterEach, describe, expect, it } from 'vitest';
import { SimRunner } from '../../firmware-sim/runner.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RegistryIndex } from '../../src/core/registry.ts';
import type { Heatwatch } from '../../src/main.ts';
import { onMachineMosquittoWithSources } from '../ingest/uplink-fixtures.ts';
import { startIngest, tempDir } from '../main/support.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';
import { quietScenario, smallRegistry, waitFor } from './helpers.ts';

const MIN = 60_000;
const machineMosquitto = serverAvailable(
  'Mosquitto on 127.0.0.1:1883',
  await portOpen(1883),
  'install mosquitto (apt-get install mosquitto) and start it',
);

/** The simulator's network with LoRaWAN devices: raw Elsys, raw Milesight and codec-decoded ones. */
function lorawanRegistry() {
  const reg = smallRegistry(3);
  const kinds = [{ model: 'elsys-ers' }, { model: 'milesight-em300-th' }, {}, undefined];
  reg.sensors.forEach((s, i) => {
    const kind = kinds[i % kinds.length];
    if (kind) Object.assign(s, { devEui: `a8404100018${String(i).padStart(5, '0')}`, ...kind });
  });
  return reg;
}

describe('npm run sim -- --format chirpstack|tts: the demo network as network-server uplinks', () => {
  const cleanups: Array<() => Promise<void> | void> = [];
  let hw: Heatwatch | undefined;
  afterEach(async () => {
    await hw?.stop();
    hw = undefined;
    for (const c of cleanups.reverse()) await c();
    cleanups.length = 0;
  });

  for (const format of ['chirpstack', 'tts'] as const)
    it.runIf(machineMosquitto)(
      `${format}: every reading the simulator sends is accepted by heatwatch`,
      async () => {
        const root = uniqueRoot(`sim${format}`);
        const registry = lorawanRegistry();
        const t = tempDir();
        cleanups.push(t.cleanup);
        hw = await startIngest(t.dir, (c) => {
          onMachineMosquittoWithSources(c, root);
          c.registry = new RegistryIndex(registry);
        });
        const h = hw;
        const accepted: string[] = [];
        h.bus.on('roomReadings', 'test', (rs) => {
          for (const r of rs) accepted.push(`${r.sensorId}@${r.ts}`);
        });
        // Heating time just behind the wall clock, so heatwatch judges the readings' times as fresh.
        const clock = new ManualClock(Date.now() - 40 * MIN);
        const runner = new SimRunner({
          registry,
          scenario: quietScenario(),
          clock,
          brokerUrl: 'mqtt://127.0.0.1:1883',
          topicRoot: root,
          log: silentLogger(),
          clientIdSuffix: root,
          format,
          uplinkTopicPrefix: `${root}/`,
        });
        await runner.start();
        cleanups.push(() => runner.stop());
        await waitFor(() => runner.stats().connected === runner.stats().connections, 'all connections');
        await clock.advanceAsync(30 * MIN, MIN);
        await waitFor(() => runner.stats().inFlight === 0, 'acks');
        const published = runner.stats().readingsPublished;
        expect(published).toBeGreaterThan(12 * 25);
        await waitFor(() => accepted.length >= published, 'every reading accepted');
        expect(h.deadLetters.recent(100)).toEqual([]);
        // Three of every four sensors are LoRaWAN devices; their readings came as uplinks.
        const lorawan = new Set(registry.sensors.filter((s) => s.devEui).map((s) => s.id));
        const viaUplink = accepted.filter((k) => lorawan.has(k.split('@')[0] ?? ''));
        expect(viaUplink.length).toBeGreaterThan(9 * 25);
        expect(h.metrics.render()).toMatch(/heatwatch_readings_accepted_total \d+/);
      },
    );
});
