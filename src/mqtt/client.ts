import mqtt, { type IClientOptions, type IConnackPacket, type MqttClient } from 'mqtt';
import type { Logger } from '../core/log.ts';

/**
 * heatwatch's own MQTT client: the ingestion subscriber and the setpoint publisher.
 *
 * - A stable client id and `clean: false`, so the broker queues QoS 1 messages while heatwatch
 *   restarts; with MQTT 5 a session expiry bounds how long (docs/architecture.md "Measured facts": a
 *   persistent session nobody resumes keeps queueing).
 * - Receive Maximum (MQTT 5 §3.1.2.11.3) announces how many QoS 1 messages the broker may have in
 *   flight towards us.
 * - `handleMessage` is replaced so the PUBACK follows durability: mqtt.js sends it only when the
 *   callback is called ([MQTT-4.3.2-4]: the receiver owns the message once it sends PUBACK).
 * - mqtt.js parses the next packet only once that callback ran. So that ingestion can journal the
 *   messages of one event-loop turn in one transaction (src/ingest/group-commit.ts), a handler that
 *   returns true lets the client read on at once: mqtt.js's callback is then called with a marker
 *   error, which makes it skip its PUBACK and take the next packet, and the PUBACK is sent by
 *   `sendPuback` when the handler's `done` comes. PUBACKs still leave in arrival order
 *   ([MQTT-4.6.0-2]) because ingestion settles a group's messages in order.
 *
 * aedes 1.x speaks MQTT 3.1.1 only: with `protocolVersion: 'auto'` the client tries 5 and falls back
 * to 4 when the broker refuses the protocol version (CONNACK 0x01 in 3.1.1, 0x84 in 5).
 */
/**
 * Handles one message; `done` acknowledges it (an error withholds the PUBACK: the broker redelivers).
 * Returns true to be given the next message before `done` is called; anything else: wait for `done`.
 */
export type MessageHandler = (topic: string, payload: Buffer, done: (err?: Error) => void) => unknown;

/** Passed to mqtt.js's message callback to make it read on without a PUBACK (see above). */
const READ_ON = new Error('acknowledged later, once durable');

/** mqtt.js's packet writer: not in its typings, and the path its own PUBACK takes. */
interface PacketSender {
  _sendPacket(packet: { cmd: 'puback'; messageId: number; reasonCode: number }, cb?: () => void): void;
}

/** Sends a QoS 1 PUBACK the way mqtt.js's publish handler does. */
function sendPuback(client: MqttClient, messageId: number): void {
  (client as unknown as PacketSender)._sendPacket({ cmd: 'puback', messageId, reasonCode: 0 });
}

export interface ServiceClientOptions {
  url: string;
  clientId: string;
  username?: string;
  password?: string;
  protocolVersion: 4 | 5 | 'auto';
  sessionExpiryS: number;
  receiveMaximum: number;
  keepaliveS: number;
  reconnectPeriodMs: number;
  /** Time allowed for the first CONNACK. */
  connectTimeoutMs: number;
  /** Subscriptions (QoS 1); empty for a publish-only client. */
  filters: string[];
}

export class ServiceMqttClient {
  private client: MqttClient | undefined;
  private version: 4 | 5 = 5;

  constructor(
    private readonly opts: ServiceClientOptions,
    private readonly onMessage: MessageHandler,
    private readonly log: Logger,
  ) {}

  get connected(): boolean {
    return this.client?.connected === true;
  }

  get protocolVersion(): 4 | 5 {
    return this.version;
  }

  async start(): Promise<void> {
    const first = this.opts.protocolVersion === 'auto' ? 5 : this.opts.protocolVersion;
    try {
      await this.connect(first);
    } catch (err) {
      if (this.opts.protocolVersion !== 'auto' || !isVersionRefusal(err)) throw err;
      this.log.info('broker refused MQTT 5; using MQTT 3.1.1');
      await this.connect(4);
    }
  }

  async stop(): Promise<void> {
    const c = this.client;
    this.client = undefined;
    if (!c) return;
    // Not forced: an acknowledgement being sent is finished first. The session (clean: false) stays
    // at the broker, which keeps queueing for us until the session expires.
    await new Promise<void>((resolve) => c.end(false, {}, () => resolve()));
  }

  /** Publishes a retained QoS 1 message (setpoints), resolved once the broker acknowledged it. */
  async publishRetained(topic: string, body: unknown): Promise<void> {
    const c = this.client;
    if (!c) throw new Error('MQTT client is not started');
    await c.publishAsync(topic, JSON.stringify(body), { qos: 1, retain: true });
  }

  /** One connection attempt: build the client, take over its acknowledgements, connect, subscribe. */
  private async connect(version: 4 | 5): Promise<void> {
    const client = mqtt.connect(this.opts.url, { ...this.clientOptions(version), manualConnect: true });
    if (typeof (client as unknown as Partial<PacketSender>)._sendPacket !== 'function')
      throw new Error('this mqtt.js has no _sendPacket: acknowledgements after durability need it');
    client.handleMessage = this.acknowledgeWhenDone(client);
    const connack = await this.firstConnack(client);
    this.client = client;
    this.version = version;
    this.log.info(
      {
        url: this.opts.url,
        clientId: this.opts.clientId,
        protocolVersion: version,
        sessionPresent: connack.sessionPresent,
      },
      'MQTT connected',
    );
    await this.subscribe(client);
  }

  private clientOptions(version: 4 | 5): IClientOptions {
    const o = this.opts;
    const options: IClientOptions = {
      clientId: o.clientId,
      username: o.username,
      password: o.password,
      protocolVersion: version,
      clean: false,
      keepalive: o.keepaliveS,
      reconnectPeriod: o.reconnectPeriodMs,
      connectTimeout: o.connectTimeoutMs,
      resubscribe: true,
    };
    if (version === 5)
      options.properties = { sessionExpiryInterval: o.sessionExpiryS, receiveMaximum: o.receiveMaximum };
    return options;
  }

  /** The message handler that sends the PUBACK when `onMessage`'s `done` comes (see the top). */
  private acknowledgeWhenDone(client: MqttClient): MqttClient['handleMessage'] {
    return (packet, callback) => {
      let called = false;
      // True once mqtt.js was told to read on: the PUBACK is then ours to send.
      let readOn = false;
      const done = (err?: Error) => {
        if (called) return;
        called = true;
        if (!readOn) callback(err);
        else if (!err && packet.messageId !== undefined) sendPuback(client, packet.messageId);
      };
      try {
        const next = this.onMessage(packet.topic, packet.payload as Buffer, done);
        if (next === true && !called && packet.qos === 1) {
          readOn = true;
          callback(READ_ON);
        }
      } catch (err) {
        // The handler is written not to throw; a throw withholds the PUBACK (the broker redelivers).
        this.log.error({ err, topic: packet.topic }, 'message handler threw');
        if (!called) {
          called = true;
          callback(err as Error);
        }
      }
    };
  }

  /**
   * Connects and resolves with the first CONNACK; an error before it ends the client and rejects
   * (a refused protocol version among them, which `start` retries with 3.1.1). After it, errors and
   * reconnects are only logged: mqtt.js reconnects by itself.
   */
  private firstConnack(client: MqttClient): Promise<IConnackPacket> {
    return new Promise<IConnackPacket>((resolve, reject) => {
      const onFirstError = (err: Error) => {
        client.end(true);
        reject(err);
      };
      client.once('error', onFirstError);
      client.once('connect', (connack) => {
        client.removeListener('error', onFirstError);
        client.on('error', (err) => this.log.warn({ err }, 'MQTT client error'));
        client.on('reconnect', () => this.log.debug('MQTT reconnecting'));
        client.on('offline', () => this.log.warn('MQTT connection lost'));
        client.on('connect', (ack) =>
          this.log.info({ sessionPresent: ack.sessionPresent }, 'MQTT reconnected'),
        );
        resolve(connack);
      });
      client.connect();
    });
  }

  /** Subscribes the filters at QoS 1; a filter the broker refuses fails the start. */
  private subscribe(client: MqttClient): Promise<void> {
    const filters = this.opts.filters;
    if (filters.length === 0) return Promise.resolve();
    // Subscribing again on a resumed session is harmless and repairs a session the broker lost.
    return new Promise<void>((resolve, reject) => {
      client.subscribe(filters, { qos: 1 }, (err, granted) => {
        if (err) return reject(err);
        const refused = (granted ?? []).filter((g) => g.qos > 2);
        if (refused.length > 0)
          return reject(new Error(`broker refused subscriptions: ${refused.map((g) => g.topic).join(', ')}`));
        resolve();
      });
    });
  }
}

function isVersionRefusal(err: unknown): boolean {
  const code = (err as { code?: number } | undefined)?.code;
  return code === 1 || code === 0x84;
}
