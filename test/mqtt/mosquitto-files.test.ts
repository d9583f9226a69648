import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { MqttClient } from 'mqtt';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deriveDevicePassword } from '../../src/mqtt/auth.ts';
import { freePort, portOpen, serverAvailable } from '../support/servers.ts';
import { connackCode } from './support.ts';

const MOSQUITTO = '/usr/sbin/mosquitto';
const KEY = 'mosquitto-files-test-key';
const SERVICE = { username: 'heatwatch', password: 'svc-pass-for-test' };
const has = serverAvailable(
  'mosquitto',
  existsSync(MOSQUITTO),
  `${MOSQUITTO} missing (apt-get install mosquitto)`,
);

/** The SUBACK codes; mqtt.js rejects on 0x80, which is the answer we look for. */
async function subackCodes(c: MqttClient, filter: string): Promise<number[]> {
  try {
    return (await c.subscribeAsync(filter, { qos: 1 })).map((g) => g.qos);
  } catch (err) {
    const granted = (err as { packet?: { granted?: number[] } }).packet?.granted;
    if (!granted) throw err;
    return granted;
  }
}

describe.runIf(has)('mosquitto-files: the written password file and ACL hold in a real Mosquitto 2', () => {
  let dir: string;
  let proc: ChildProcess | undefined;
  let url: string;
  let service: MqttClient;
  const seen: string[] = [];
  const device = (id: string, clientId = id) =>
    mqtt.connectAsync(url, {
      clientId,
      username: id,
      password: deriveDevicePassword(KEY, id),
      reconnectPeriod: 0,
      connectTimeout: 3000,
    });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hw-mosq-'));
    const cli = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'mosquitto-files', '--out', join(dir, 'files'), '--config', 'config'],
      {
        env: { ...process.env, HEATWATCH_DEVICE_KEY: KEY, HEATWATCH_MQTT_PASSWORD: SERVICE.password },
        encoding: 'utf8',
      },
    );
    expect(cli.status, cli.stderr).toBe(0);
    expect(statSync(join(dir, 'files', 'password_file')).mode & 0o777).toBe(0o600);
    const port = await freePort();
    const conf = [
      `listener ${port} 127.0.0.1`,
      // Started as root (CI containers), Mosquitto would switch to the mosquitto user, who cannot
      // read a 0600 file owned by root; in production the file belongs to the mosquitto user.
      ...(process.getuid?.() === 0 ? ['user root'] : []),
      readFileSync(join(dir, 'files', 'heatwatch.conf'), 'utf8'),
      `persistence_location ${dir}/`,
      'persistence false',
      'log_dest stderr',
    ].join('\n');
    writeFileSync(join(dir, 'mosquitto.conf'), conf);
    proc = spawn(MOSQUITTO, ['-c', join(dir, 'mosquitto.conf')], { stdio: ['ignore', 'ignore', 'pipe'] });
    let log = '';
    proc.stderr?.on('data', (d) => {
      log += d;
    });
    for (let i = 0; i < 50 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 100));
    expect(await portOpen(port), log).toBe(true);
    expect(log).not.toMatch(/Error/);
    url = `mqtt://127.0.0.1:${port}`;
    service = await mqtt.connectAsync(url, { clientId: 'hw-svc', ...SERVICE, reconnectPeriod: 0 });
    await service.subscribeAsync('#', { qos: 1 });
    service.on('message', (topic, payload) => seen.push(`${topic} ${payload.toString()}`));
  });

  afterAll(async () => {
    await service?.endAsync();
    proc?.kill('SIGTERM');
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('refuses anonymous, unknown and wrong-password logins', async () => {
    expect(await connackCode(url, { clientId: 'anon' })).not.toBe(0);
    expect(await connackCode(url, { clientId: 'x', username: 'nobody', password: 'x' })).not.toBe(0);
    expect(
      await connackCode(url, {
        clientId: 'n01-1-2',
        username: 'n01-1-2',
        password: deriveDevicePassword('other', 'n01-1-2'),
      }),
    ).not.toBe(0);
    expect(
      await connackCode(url, {
        clientId: 'n01-1-2',
        username: 'n01-1-2',
        password: deriveDevicePassword(KEY, 'n01-1-2'),
      }),
    ).toBe(0);
  });

  it('a sensor publishes its own topics only; its # and $SYS subscriptions deliver nothing; the service sees everything', async () => {
    const s = await device('n01-1-2');
    await s.publishAsync('heat/sensors/n01-1-4/telemetry', 'forged-neighbour', { qos: 1 });
    await s.publishAsync('heat/substations/ss-north/setpoint', 'forged-setpoint', { qos: 1 });
    await s.publishAsync('heat/sensors/n01-1-2/status', 'own-status', { qos: 1 });
    await s.publishAsync('heat/sensors/n01-1-2/telemetry', 'own-telemetry', { qos: 1 });
    await expect
      .poll(() => seen.includes('heat/sensors/n01-1-2/telemetry own-telemetry'), { timeout: 15_000 })
      .toBe(true);
    expect(seen).toContain('heat/sensors/n01-1-2/status own-status');
    expect(seen.some((l) => l.includes('forged'))).toBe(false);

    // Mosquitto 2.0 grants a SUBSCRIBE whatever the ACL says and applies `read` rules per message,
    // so the proof is that nothing arrives through these filters while traffic flows.
    const leaked: string[] = [];
    s.on('message', (topic) => leaked.push(topic));
    for (const filter of ['#', '$SYS/#', 'heat/sensors/+/telemetry', 'heat/substations/ss-north/setpoint'])
      await subackCodes(s, filter);
    const other = await device('n01-1-4');
    await other.publishAsync('heat/sensors/n01-1-4/telemetry', 'neighbour-real', { qos: 1 });
    await service.publishAsync('heat/substations/ss-north/setpoint', 'sp-north', { qos: 1 });
    await expect
      .poll(() => seen.includes('heat/sensors/n01-1-4/telemetry neighbour-real'), { timeout: 15_000 })
      .toBe(true);
    await expect
      .poll(() => seen.includes('heat/substations/ss-north/setpoint sp-north'), { timeout: 15_000 })
      .toBe(true);
    // Its own next message goes round through the broker after the others: by then any leak would be in.
    await s.publishAsync('heat/sensors/n01-1-2/telemetry', 'own-last', { qos: 1 });
    await expect
      .poll(() => seen.includes('heat/sensors/n01-1-2/telemetry own-last'), { timeout: 15_000 })
      .toBe(true);
    expect(leaked).toEqual([]);
    await other.endAsync();
    await s.endAsync();
  });

  it('a substation reads only its own setpoint; the service may write setpoints but not sensor data', async () => {
    const ss = await device('ss-north');
    await subackCodes(ss, 'heat/substations/ss-river/setpoint');
    expect(await subackCodes(ss, 'heat/substations/ss-north/setpoint')).toEqual([1]);
    const got: string[] = [];
    ss.on('message', (topic, payload) => got.push(`${topic} ${payload.toString()}`));
    await service.publishAsync('heat/sensors/n01-1-2/telemetry', 'service-forged', { qos: 1 });
    await service.publishAsync('heat/substations/ss-river/setpoint', '{"supplyOffset":2}', { qos: 1 });
    await service.publishAsync('heat/substations/ss-north/setpoint', '{"supplyOffset":1}', { qos: 1 });
    await expect
      .poll(() => got, { timeout: 15_000 })
      .toEqual(['heat/substations/ss-north/setpoint {"supplyOffset":1}']);
    await ss.publishAsync('heat/substations/ss-north/telemetry', 'ss-own', { qos: 1 });
    await expect
      .poll(() => seen.includes('heat/substations/ss-north/telemetry ss-own'), { timeout: 15_000 })
      .toBe(true);
    expect(seen.some((l) => l.includes('service-forged'))).toBe(false);
    await ss.endAsync();
  });
});
