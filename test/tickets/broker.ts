import { createServer, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import type { SetpointPayload, SetpointPublisher } from '../../src/tickets/types.ts';
import { freePort } from '../support/servers.ts';

/** An embedded MQTT broker (aedes) on a free loopback port: a real socket, nothing shared. */
export async function startBroker(): Promise<{ url: string; stop(): Promise<void> }> {
  const port = await freePort();
  const broker = await Aedes.createBroker();
  const server = createServer(broker.handle);
  const sockets = new Set<Socket>();
  server.on('connection', (s) => {
    sockets.add(s);
    s.on('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve());
  });
  return {
    url: `mqtt://127.0.0.1:${port}`,
    async stop() {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
      await new Promise<void>((r) => broker.close(() => r()));
    },
  };
}

export const setpointTopic = (root: string, substationId: string) =>
  `${root}/substations/${substationId}/setpoint`;

/** heatwatch's side: retained QoS 1 publishes that resolve on the broker's PUBACK. */
export async function mqttPublisher(
  url: string,
  root: string,
): Promise<SetpointPublisher & { client: MqttClient }> {
  const client = await mqtt.connectAsync(url, { clientId: `hw-svc-${process.pid}-${Date.now()}` });
  return {
    client,
    async publish(substationId: string, payload: SetpointPayload) {
      await client.publishAsync(setpointTopic(root, substationId), JSON.stringify(payload), {
        qos: 1,
        retain: true,
      });
    },
  };
}

/** A controller's-eye view of the setpoint topics: every command that arrives, by ticket. */
export class SetpointSubscriber {
  readonly received: SetpointPayload[] = [];
  private sentinels = 0;

  private constructor(
    private readonly client: MqttClient,
    private readonly root: string,
  ) {}

  static async start(url: string, root: string): Promise<SetpointSubscriber> {
    const client = await mqtt.connectAsync(url, { clientId: `hw-ctl-${process.pid}-${Date.now()}` });
    const sub = new SetpointSubscriber(client, root);
    client.on('message', (topic, payload) => {
      if (topic === `${root}/sentinel`) sub.sentinels++;
      else if (payload.length > 0) sub.received.push(JSON.parse(payload.toString()) as SetpointPayload);
    });
    await client.subscribeAsync([setpointTopic(root, '+'), `${root}/sentinel`], { qos: 1 });
    return sub;
  }

  byTicket(ticketId: string): SetpointPayload[] {
    return this.received.filter((p) => p.ticketId === ticketId);
  }

  /**
   * Waits until everything `via` published before now has arrived: a sentinel sent after it on the
   * same connection arrives after it (MQTT keeps one session's QoS 1 messages in order).
   */
  async flush(via: MqttClient, timeoutMs = 10_000): Promise<void> {
    const want = this.sentinels + 1;
    await via.publishAsync(`${this.root}/sentinel`, 'x', { qos: 1 });
    const end = Date.now() + timeoutMs;
    while (this.sentinels < want) {
      if (Date.now() > end) throw new Error('sentinel did not arrive');
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async stop(): Promise<void> {
    await this.client.endAsync(true);
  }
}
