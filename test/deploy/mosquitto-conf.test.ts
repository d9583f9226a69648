import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { deriveDevicePassword } from '../../src/mqtt/auth.ts';
import { freePort, portOpen, serverAvailable } from '../support/servers.ts';

/**
 * The production broker config (deploy/mosquitto/mosquitto.conf) run by a real Mosquitto with the
 * password file and ACL that `heatwatch mosquitto-files` generates — the same two steps as the
 * mosquitto-files and mosquitto services of docker-compose.yml. Only paths and the port are rewritten
 * for the test; every other directive is the file as shipped, so a directive Mosquitto 2 refuses
 * fails here.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const MOSQUITTO = '/usr/sbin/mosquitto';
const ENV = {
  HEATWATCH_DEVICE_KEY: 'test-device-key-4c1f',
  HEATWATCH_MQTT_PASSWORD: 'test-service-pw-8e2a',
  HEATWATCH_MQTT_URL: 'mqtt://mosquitto:1883',
  HEATWATCH_INFLUX_URL: 'http://influxdb:8086',
};

const available = serverAvailable(
  'mosquitto',
  existsSync(MOSQUITTO),
  `install Debian's mosquitto (${MOSQUITTO})`,
);

describe.runIf(available)('production mosquitto.conf with generated credentials', () => {
  let tmp: string;
  let broker: ChildProcess | undefined;
  let port: number;
  let brokerLog = '';
  const config = loadConfig(join(ROOT, 'config'), {});
  const sensorId = [...config.registry.sensors.keys()][0]!;

  beforeAll(async () => {
    tmp = mkdtempSync(join(tmpdir(), 'hw-mosq-'));
    const cfg = join(tmp, 'config');
    mkdirSync(cfg);
    copyFileSync(join(ROOT, 'config/production.example.yaml'), join(cfg, 'heatwatch.yaml'));
    copyFileSync(join(ROOT, 'config/network.yaml'), join(cfg, 'network.yaml'));
    const gen = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'src/cli.ts', 'mosquitto-files', '--out', join(tmp, 'auth'), '--config', cfg],
      { cwd: ROOT, env: { PATH: process.env.PATH, ...ENV }, encoding: 'utf8', timeout: 60_000 },
    );
    expect(gen.stderr).toBe('');
    expect(gen.status).toBe(0);

    port = await freePort();
    mkdirSync(join(tmp, 'data'));
    const conf = readFileSync(join(ROOT, 'deploy/mosquitto/mosquitto.conf'), 'utf8')
      .replace(/^listener 1883$/m, `listener ${port} 127.0.0.1`)
      .replace(/^persistence_location .*$/m, `persistence_location ${join(tmp, 'data')}/`)
      .replaceAll('/mosquitto/auth/', `${join(tmp, 'auth')}/`);
    expect(conf).toContain(`listener ${port} 127.0.0.1`);
    // Mosquitto started as root drops to the `mosquitto` user, which cannot read the test's files.
    const asRoot = process.getuid?.() === 0 ? 'user root\n' : '';
    writeFileSync(join(tmp, 'mosquitto.conf'), `${asRoot}${conf}`);
    broker = spawn(MOSQUITTO, ['-c', join(tmp, 'mosquitto.conf')], { stdio: ['ignore', 'pipe', 'pipe'] });
    broker.stdout?.on('data', (d) => {
      brokerLog += String(d);
    });
    broker.stderr?.on('data', (d) => {
      brokerLog += String(d);
    });
    for (let i = 0; i < 100 && !(await portOpen(port)); i++) await new Promise((r) => setTimeout(r, 50));
    expect(await portOpen(port), brokerLog).toBe(true);
  });

  afterAll(() => {
    broker?.kill('SIGTERM');
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  });

  const connect = (username: string | undefined, password: string | undefined) =>
    mqtt.connectAsync(`mqtt://127.0.0.1:${port}`, {
      protocolVersion: 5,
      username,
      password,
      reconnectPeriod: 0,
      connectTimeout: 5000,
      clientId: `hw-test-${username ?? 'anon'}-${Math.random().toString(16).slice(2, 8)}`,
    });

  it('refuses anonymous clients and wrong passwords', async () => {
    await expect(connect(undefined, undefined)).rejects.toThrow();
    await expect(connect(sensorId, 'wrong')).rejects.toThrow();
    await expect(connect(config.service.mqtt.username, 'wrong')).rejects.toThrow();
  });

  it('delivers a device reading to heatwatch on a shared subscription, and keeps a device to its own topics', async () => {
    const svc = await connect(config.service.mqtt.username, ENV.HEATWATCH_MQTT_PASSWORD);
    const dev = await connect(sensorId, deriveDevicePassword(ENV.HEATWATCH_DEVICE_KEY, sensorId));
    const other = [...config.registry.sensors.keys()][1]!;
    try {
      const root = config.service.mqtt.topicRoot;
      await svc.subscribeAsync(`$share/ingest/${root}/sensors/+/telemetry`, { qos: 1 });
      const got: string[] = [];
      svc.on('message', (topic) => got.push(topic));
      await dev.publishAsync(`${root}/sensors/${sensorId}/telemetry`, '{"ts":1,"temp":21}', { qos: 1 });
      // A device may not speak for another: MQTT 5 PUBACK reason 0x87 Not authorized, nothing delivered.
      await expect(
        dev.publishAsync(`${root}/sensors/${other}/telemetry`, '{"ts":1,"temp":5}', { qos: 1 }),
      ).rejects.toThrow(/Not authorized/);
      await dev.publishAsync(`${root}/sensors/${sensorId}/telemetry`, '{"ts":2,"temp":21}', { qos: 1 });
      for (let i = 0; i < 100 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
      expect(got).toEqual([`${root}/sensors/${sensorId}/telemetry`, `${root}/sensors/${sensorId}/telemetry`]);
    } finally {
      await Promise.all([svc.endAsync(), dev.endAsync()]);
    }
  });
});
