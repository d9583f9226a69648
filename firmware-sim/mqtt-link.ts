/**
 * The simulator's MQTT connections (firmware-sim/runner.ts): a device's client options, and waiting
 * on connections and closes without ever hanging on a slow or absent broker.
 */
import type { IClientOptions, MqttClient } from 'mqtt';
import { devicePassword } from './device.ts';
import type { SimRunnerOptions } from './runner-types.ts';

export interface Link {
  id: string;
  client: MqttClient;
  sensors: number[];
  /** Set while the runner is stopping: no more publishes or flushes. */
  closing: boolean;
}

/** Client options for a device or gateway (per device: with its last will as retained offline status). */
export function clientOptions(
  o: SimRunnerOptions,
  id: string,
  will: boolean,
  topic: (kind: string, id: string, leaf: string) => string,
): IClientOptions {
  const d = o.scenario.devices;
  const opts: IClientOptions = {
    clientId: o.clientIdSuffix ? `${id}-${o.clientIdSuffix}` : id,
    username: id,
    reconnectPeriod: d.reconnectPeriodMs,
    keepalive: d.keepaliveS,
    connectTimeout: 10_000,
    clean: true,
    // Nothing queues in the library while offline: the firmware's own bounded buffer does that.
    queueQoSZero: false,
  };
  if (o.deviceKey) opts.password = devicePassword(o.deviceKey, id);
  if (will)
    opts.will = {
      topic: topic('sensors', id, 'status'),
      payload: Buffer.from(JSON.stringify({ online: false })),
      qos: 1,
      retain: true,
    };
  return opts;
}

export function waitConnected(links: Link[], timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    let left = links.filter((l) => !l.client.connected).length;
    if (left === 0 || timeoutMs <= 0) return resolve();
    const timer = setTimeout(resolve, timeoutMs);
    timer.unref();
    for (const l of links)
      if (!l.client.connected)
        l.client.once('connect', () => {
          if (--left === 0) {
            clearTimeout(timer);
            resolve();
          }
        });
  });
}

export async function withTimeout(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    p.then(() => undefined),
    new Promise<void>((resolve) => {
      timer = setTimeout(resolve, ms);
      timer.unref();
    }),
  ]);
  clearTimeout(timer);
}

/** Ends a client, waiting for in-flight acks while connected, but never longer than `waitMs`. */
export async function endClient(client: MqttClient, waitMs: number): Promise<void> {
  await withTimeout(
    client.endAsync(!client.connected).catch(() => undefined),
    waitMs,
  );
  if (!client.disconnected) client.end(true);
}
