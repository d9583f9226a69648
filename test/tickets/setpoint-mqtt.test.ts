import mqtt from 'mqtt';
import { describe, expect, it, vi } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { ServiceMqttClient } from '../../src/mqtt/client.ts';
import { Topics } from '../../src/mqtt/topics.ts';
import { RulesModule } from '../../src/rules/module.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import { harness, MIN } from '../rules/fixture.ts';
import { portOpen, serverAvailable, uniqueRoot } from '../support/servers.ts';

const up = await portOpen(1883);

describe('setpoints over MQTT', () => {
  it.runIf(serverAvailable('mosquitto', up, 'start Mosquitto on 127.0.0.1:1883'))(
    'an applied ticket is a retained QoS 1 setpoint a controller receives even when it subscribes later',
    async () => {
      const h = harness();
      const topics = new Topics(uniqueRoot());
      const client = new ServiceMqttClient(
        {
          url: 'mqtt://127.0.0.1:1883',
          clientId: `hw-rules-test-${process.pid}-${Date.now()}`,
          protocolVersion: 'auto',
          sessionExpiryS: 60,
          receiveMaximum: 100,
          keepaliveS: 30,
          reconnectPeriodMs: 500,
          connectTimeoutMs: 5000,
          filters: [],
        },
        (_t, _p, done) => done(),
        silentLogger(),
      );
      await client.start();
      const mod = new RulesModule({
        clock: h.clock,
        bus: h.bus,
        live: h.live,
        ops: sqliteSql(h.db),
        rules: h.engine.rules,
        publishRetained: (topic, body) => client.publishRetained(topic, body),
        setpointTopic: (id) => topics.setpoint(id),
        log: silentLogger(),
      });
      await mod.start();
      try {
        // The module's engine runs on the ManualClock; feed it a cold building.
        const step = 5 * MIN;
        for (let t = 0; t < 70 * MIN; t += step) {
          h.setAll((b, f, c) => (b === 'b2' ? 16.8 : h.healthy(f, c)) + ((t / step) % 2) * 0.1);
          await h.clock.advanceAsync(step);
        }
        // Applying waits for the broker's PUBACK (real network time, not the ManualClock).
        await vi.waitFor(
          async () =>
            expect((await mod.tickets.list({ problem: 'building_cold' }))[0]?.status).toBe('applied'),
          {
            timeout: 15_000,
          },
        );
        const t = (await mod.tickets.list({ problem: 'building_cold' }))[0]!;
        // A controller connecting afterwards still gets the setpoint in force (retained).
        const ctl = await mqtt.connectAsync('mqtt://127.0.0.1:1883', { clientId: `ctl-${Date.now()}` });
        const got = new Promise<{ payload: unknown; qos: number; retain: boolean }>((resolve) =>
          ctl.on('message', (_topic, payload, packet) => {
            if (payload.length > 0)
              resolve({ payload: JSON.parse(payload.toString()), qos: packet.qos, retain: packet.retain });
          }),
        );
        await ctl.subscribeAsync(topics.setpoint('ss'), { qos: 1 });
        const msg = await got;
        expect(msg.retain).toBe(true);
        expect(msg.qos).toBe(1);
        expect(msg.payload).toMatchObject({ ticketId: t.id, supplyOffset: 0, buildingValves: { b2: 100 } });
        // Clear the retained message so the test leaves nothing behind on the shared broker.
        await ctl.publishAsync(topics.setpoint('ss'), '', { retain: true, qos: 1 });
        await ctl.endAsync(true);
      } finally {
        await mod.stop();
        await client.stop();
      }
    },
  );
});
