import { connect } from 'node:net';
import fc from 'fast-check';
import type { MqttClient } from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDevicePassword } from '../../src/mqtt/auth.ts';
import type { EmbeddedBroker } from '../../src/mqtt/broker.ts';
import { connectDevice, connectService, DEVICE_KEY, ROOT, startTrustedBroker } from '../mqtt/support.ts';

const long = process.env.HEATWATCH_FAULTS === 'long';
const MAX_PAYLOAD = 4096;
const CONNECT_TIMEOUT_MS = 300;
/** Random-byte connections, opened RANDOM_AT_ONCE at a time, as a scanner or a flood would. */
const RANDOM_CONNECTIONS = long ? 2000 : 60;
const RANDOM_AT_ONCE = 20;
/** How long one attack connection may stay open before the case counts as not closed by the broker. */
const ATTACK_WAIT_MS = CONNECT_TIMEOUT_MS * 4;
/**
 * Each group of connections ends within ATTACK_WAIT_MS (the broker closes each one on a protocol error
 * or at its connect timeout, or the case fails), so the test's time limit follows from the number of
 * groups; 10 s more for the good device's stream to be checked. One at a time, the 2000 connections
 * of the long form needed over 30 s and timed out.
 */
const RANDOM_TIME_LIMIT_MS = (RANDOM_CONNECTIONS / RANDOM_AT_ONCE) * ATTACK_WAIT_MS + 10_000;
/** The good device's stream must have arrived within this after an attack (a busy machine included). */
const DELIVERY_WAIT_MS = 15_000;

// Hand-built MQTT 3.1.1 packets, so the test can send what no well-behaved client library would.
const varint = (n: number): Buffer => {
  const out: number[] = [];
  do {
    let b = n % 128;
    n = Math.floor(n / 128);
    if (n > 0) b |= 0x80;
    out.push(b);
  } while (n > 0);
  return Buffer.from(out);
};
const str = (s: string): Buffer => {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(2);
  len.writeUInt16BE(b.length);
  return Buffer.concat([len, b]);
};
const packet = (first: number, body: Buffer): Buffer =>
  Buffer.concat([Buffer.from([first]), varint(body.length), body]);
function connectPacket(o: {
  clientId: string;
  username?: string;
  password?: string;
  protocol?: string;
  level?: number;
  flags?: number;
}): Buffer {
  let flags = o.flags ?? 0x02;
  if (o.username !== undefined) flags |= 0x80;
  if (o.password !== undefined) flags |= 0x40;
  return packet(
    0x10,
    Buffer.concat([
      str(o.protocol ?? 'MQTT'),
      Buffer.from([o.level ?? 4, flags, 0, 30]),
      str(o.clientId),
      ...(o.username !== undefined ? [str(o.username)] : []),
      ...(o.password !== undefined ? [str(o.password)] : []),
    ]),
  );
}
const deviceConnect = (id: string) =>
  connectPacket({ clientId: id, username: id, password: deriveDevicePassword(DEVICE_KEY, id) });
/** A PUBLISH fixed header announcing `length` bytes, followed by only a few of them. */
const announce = (length: number): Buffer =>
  Buffer.concat([Buffer.from([0x30]), varint(length), str('heat/x')]);

/** Writes the chunks to a fresh connection; resolves when the broker closes it or after waitMs. */
function raw(
  port: number,
  chunks: Buffer[],
  waitMs = 1500,
): Promise<{ closedByBroker: boolean; reply: Buffer }> {
  return new Promise((resolve) => {
    const s = connect({ port, host: '127.0.0.1' });
    const reply: Buffer[] = [];
    let done = false;
    const finish = (closedByBroker: boolean) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      s.destroy();
      resolve({ closedByBroker, reply: Buffer.concat(reply) });
    };
    const timer = setTimeout(() => finish(false), waitMs);
    s.on('data', (d) => reply.push(d));
    s.on('error', () => finish(true));
    s.on('close', () => finish(true));
    s.on('connect', () => {
      for (const c of chunks) s.write(c);
    });
  });
}

describe('malformed MQTT at the embedded broker', () => {
  let broker: EmbeddedBroker;
  let port: number;
  let service: MqttClient;
  let device: MqttClient;
  let sent = 0;
  let received = 0;
  let ticker: NodeJS.Timeout;

  beforeAll(async () => {
    const started = await startTrustedBroker({
      limits: {
        maxPayloadBytes: MAX_PAYLOAD,
        connectTimeoutMs: CONNECT_TIMEOUT_MS,
        devicePublishesPerMin: 1_000_000,
        connectAttemptsPerMin: 1_000_000,
      },
    });
    broker = started.broker;
    port = Number(new URL(started.url).port);
    service = await connectService(started.url);
    await service.subscribeAsync(`${ROOT}/sensors/+/telemetry`, { qos: 1 });
    service.on('message', () => received++);
    device = await connectDevice(started.url, 'b1-3-1');
    // A well-behaved device keeps publishing through every attack below.
    ticker = setInterval(() => {
      sent++;
      device.publish(`${ROOT}/sensors/b1-3-1/telemetry`, `{"n":${sent}}`, { qos: 1 });
    }, 5);
  });

  afterAll(async () => {
    clearInterval(ticker);
    await device?.endAsync();
    await service?.endAsync();
    await broker?.stop();
  });

  /** The stream from the good device is complete up to now. */
  async function stillDelivering(): Promise<void> {
    const target = sent;
    await expect.poll(() => received, { timeout: DELIVERY_WAIT_MS }).toBeGreaterThanOrEqual(target);
    expect(device.connected).toBe(true);
  }

  it(
    'random bytes on fresh connections: the broker closes each one and keeps delivering',
    async () => {
      let opened = 0;
      await fc.assert(
        fc.asyncProperty(
          fc.array(fc.uint8Array({ minLength: 1, maxLength: 2048 }), {
            minLength: RANDOM_AT_ONCE,
            maxLength: RANDOM_AT_ONCE,
          }),
          async (group) => {
            opened += group.length;
            const results = await Promise.all(
              group.map((bytes) => raw(port, [Buffer.from(bytes)], ATTACK_WAIT_MS)),
            );
            return results.every((r) => r.closedByBroker);
          },
        ),
        { numRuns: RANDOM_CONNECTIONS / RANDOM_AT_ONCE },
      );
      expect(opened).toBeGreaterThanOrEqual(RANDOM_CONNECTIONS);
      await stillDelivering();
    },
    RANDOM_TIME_LIMIT_MS,
  );

  it('bad CONNECT packets are refused or closed', async () => {
    const cases: Array<[string, Buffer[]]> = [
      ['wrong protocol name', [connectPacket({ clientId: 'x', protocol: 'MQTX' })]],
      ['unknown protocol level', [connectPacket({ clientId: 'x', level: 99 })]],
      ['reserved flag set [MQTT-3.1.2-3]', [connectPacket({ clientId: 'x', flags: 0x03 })]],
      ['password without user name', [connectPacket({ clientId: 'x', flags: 0x42 })]],
      ['truncated CONNECT', [connectPacket({ clientId: 'abcdef' }).subarray(0, 9)]],
      ['second CONNECT [MQTT-3.1.0-2]', [deviceConnect('a1-1-1'), deviceConnect('a1-1-1')]],
      ['PUBLISH before CONNECT', [packet(0x30, Buffer.concat([str('heat/x'), Buffer.from('{}')]))]],
      [
        'QoS 3 PUBLISH',
        [deviceConnect('a1-2-2'), packet(0x36, Buffer.concat([str('heat/x'), Buffer.from([0, 1])]))],
      ],
      ['silent socket (slow loris)', []],
    ];
    for (const [name, chunks] of cases) {
      const r = await raw(port, chunks, CONNECT_TIMEOUT_MS * 5);
      expect.soft(r.closedByBroker, name).toBe(true);
    }
    await stillDelivering();
  });

  it('an oversized packet is cut off from its length header, before its body is read', async () => {
    const before = broker.stats().oversizedPackets;
    // After a valid login, so the connect timeout cannot be what closes it.
    const r = await raw(port, [deviceConnect('a1-3-3'), announce(200 * 1024 * 1024)]);
    expect(r.closedByBroker).toBe(true);
    const r2 = await raw(port, [deviceConnect('a1-3-3'), announce(MAX_PAYLOAD + 2048)]);
    expect(r2.closedByBroker).toBe(true);
    expect(broker.stats().oversizedPackets).toBe(before + 2);
    await stillDelivering();
  });

  it('a payload over maxPayloadBytes inside the packet allowance is dropped and counted, not delivered', async () => {
    const before = broker.stats().oversizedPackets;
    const big = await connectDevice(`mqtt://127.0.0.1:${port}`, 'a1-1-1');
    const seen: number[] = [];
    service.on('message', (topic, payload) => {
      if (topic.includes('a1-1-1')) seen.push(payload.length);
    });
    await big.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, Buffer.alloc(MAX_PAYLOAD + 100, 0x20), {
      qos: 1,
    });
    await big.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, '{"ok":1}', { qos: 1 });
    await expect.poll(() => seen, { timeout: 3000 }).toEqual([8]);
    expect(broker.stats().oversizedPackets).toBe(before + 1);
    await big.endAsync();
    await stillDelivering();
  });

  it('a topic deeper than maxTopicLevels closes only that connection', async () => {
    const deep = await connectDevice(`mqtt://127.0.0.1:${port}`, 'a1-2-2');
    const closed = new Promise<void>((resolve) => deep.once('close', () => resolve()));
    deep.publish(`${ROOT}/sensors/a1-2-2/${'x/'.repeat(40)}telemetry`, '{}', { qos: 0 });
    await closed;
    deep.end(true);
    await stillDelivering();
  });
});
