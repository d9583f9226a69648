import { createServer, type Server, type Socket } from 'node:net';
import { Aedes } from 'aedes';
import mqtt, { type MqttClient } from 'mqtt';
import { type SimConfig, simSchema } from '../../src/config/sim-schema.ts';
import type { Registry } from '../../src/core/registry.ts';

const curve = { refOutdoorC: 5, refSupplyC: 45, slope: 0.75, minSupplyC: 35, maxSupplyC: 75 };

/** Two estates, four buildings, `perBuilding` sensors each reporting every minute. */
export function smallRegistry(perBuilding = 3): Registry {
  const buildings = ['a1', 'a2', 'b1', 'b2'].map((id) => ({
    id: `b-${id}`,
    name: id,
    substationId: id.startsWith('a') ? 'ss-a' : 'ss-b',
    floors: 6,
    unitsPerFloor: 4,
  }));
  const spots = [
    [1, 2],
    [3, 2],
    [6, 1],
    [4, 3],
    [2, 4],
  ] as const;
  return {
    substations: [
      { id: 'ss-a', name: 'A', curve },
      { id: 'ss-b', name: 'B', curve },
    ],
    buildings,
    sensors: buildings.flatMap((b) =>
      spots.slice(0, perBuilding).map(([floor, column]) => ({
        id: `${b.id}-${floor}-${column}`,
        buildingId: b.id,
        floor,
        column,
        intervalS: 60,
      })),
    ),
  };
}

/** A scenario with every message fault off unless `messageFaults` says otherwise. */
export function quietScenario(
  over: { messageFaults?: Record<string, number>; devices?: Record<string, unknown> } = {},
): SimConfig {
  return simSchema.parse({
    messageFaults: {
      malformedRate: 0,
      duplicateRate: 0,
      outOfOrderRate: 0,
      dropoutPerDay: 0,
      ...over.messageFaults,
    },
    devices: { reconnectPeriodMs: 100, ...over.devices },
  });
}

export async function waitFor(cond: () => boolean, what: string, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * An aedes broker on a fixed port whose persistence outlives a restart, so a subscriber's
 * persistent session (and the messages queued for it) survives, as with a broker that stores to disk.
 */
export class RestartableAedes {
  private broker: Aedes | undefined;
  private server: Server | undefined;
  private sockets = new Set<Socket>();
  private persistence: unknown;

  constructor(readonly port: number) {}

  async start(): Promise<void> {
    const broker = await Aedes.createBroker(this.persistence ? { persistence: this.persistence } : {});
    this.persistence = (broker as unknown as { persistence: unknown }).persistence;
    const server = createServer(broker.handle);
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.port, '127.0.0.1', () => resolve());
    });
    this.broker = broker;
    this.server = server;
  }

  async stop(): Promise<void> {
    const { broker, server } = this;
    this.broker = undefined;
    this.server = undefined;
    for (const s of this.sockets) s.destroy();
    if (server) await new Promise<void>((r) => server.close(() => r()));
    if (broker) await new Promise<void>((r) => broker.close(() => r()));
  }
}

/** A subscriber that counts what arrives under a topic root, the way ingestion would see it. */
export class CountingSubscriber {
  client: MqttClient | undefined;
  readingKeys = new Map<string, number>();
  readingsReceived = 0;
  arrays = 0;
  malformed = 0;
  outOfOrder = 0;
  substation: Array<Record<string, unknown>> = [];
  observations = 0;
  forecasts: Array<{ issued: number; points: unknown[] }> = [];
  status = new Map<string, Record<string, unknown>>();
  private lastSeq = new Map<string, number>();
  private retainedTopics = new Set<string>();

  constructor(
    private readonly url: string,
    private readonly root: string,
    private readonly clientId: string,
    private readonly credentials: { username?: string; password?: string } = {},
  ) {}

  async start(): Promise<void> {
    // A persistent session (clean: false), so messages published while it is away are kept for it.
    this.client = await mqtt.connectAsync(this.url, {
      clientId: this.clientId,
      clean: false,
      reconnectPeriod: 100,
      protocolVersion: 4,
      ...this.credentials,
    });
    this.client.on('message', (topic, payload) => this.onMessage(topic, payload.toString()));
    await this.client.subscribeAsync(`${this.root}/#`, { qos: 1 });
  }

  /**
   * Leaves nothing behind on a shared broker: the subscription goes (so the session queues nothing
   * more) and the retained status and forecast messages of this topic root are cleared.
   */
  async stop(): Promise<void> {
    const c = this.client;
    if (!c) return;
    if (c.connected) {
      await c.unsubscribeAsync(`${this.root}/#`).catch(() => undefined);
      for (const t of this.retainedTopics)
        await c.publishAsync(t, '', { qos: 1, retain: true }).catch(() => undefined);
    }
    await c.endAsync(!c.connected);
  }

  get uniqueReadings(): number {
    return this.readingKeys.size;
  }

  get duplicates(): number {
    let d = 0;
    for (const n of this.readingKeys.values()) d += n - 1;
    return d;
  }

  private onMessage(topic: string, text: string): void {
    const [, kind, id, leaf] = topic.split('/');
    if (!id || text === '') return;
    if (leaf === 'status' || leaf === 'forecast' || leaf === 'setpoint') this.retainedTopics.add(topic);
    if (kind === 'sensors' && leaf === 'status') {
      this.status.set(id, JSON.parse(text));
      return;
    }
    if (kind === 'substations' && leaf === 'telemetry') {
      this.substation.push({ id, ...JSON.parse(text) });
      return;
    }
    if (kind === 'weather') {
      if (leaf === 'observation') this.observations++;
      else this.forecasts.push(JSON.parse(text));
      return;
    }
    if (kind !== 'sensors' || leaf !== 'telemetry') return;
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      this.malformed++;
      return;
    }
    const list = Array.isArray(value) ? value : [value];
    if (Array.isArray(value)) this.arrays++;
    for (const r of list as Array<Record<string, unknown>>) {
      const ok =
        typeof r.temp === 'number' &&
        r.temp > -40 &&
        r.temp < 60 &&
        typeof r.ts === 'number' &&
        typeof r.seq === 'number';
      if (!ok) {
        this.malformed++;
        continue;
      }
      this.readingsReceived++;
      const key = `${id}:${r.seq}`;
      this.readingKeys.set(key, (this.readingKeys.get(key) ?? 0) + 1);
      const last = this.lastSeq.get(id) ?? 0;
      if ((r.seq as number) < last) this.outOfOrder++;
      else this.lastSeq.set(id, r.seq as number);
    }
  }
}
