import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import mqtt from 'mqtt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { silentLogger } from '../../src/core/log.ts';
import { DeviceAuth, deriveDevicePassword } from '../../src/mqtt/auth.ts';
import { EmbeddedBroker } from '../../src/mqtt/broker.ts';
import { hasCommand, serverAvailable } from '../support/servers.ts';
import { DEVICE_KEY, ROOT, SERVICE, testRegistry } from './support.ts';

const has = serverAvailable('openssl', hasCommand('openssl'), 'openssl is needed to make test certificates');
const limits = serviceSchema.parse({}).mqtt.limits;

function openssl(dir: string, args: string[]): void {
  const r = spawnSync('openssl', args, { cwd: dir, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args.join(' ')}: ${r.stderr}`);
}

/** A CA, a server certificate for 127.0.0.1 and client certificates with the given CNs. */
function makeCerts(dir: string, clients: string[]): void {
  openssl(dir, [
    'req',
    '-x509',
    '-newkey',
    'rsa:2048',
    '-nodes',
    '-keyout',
    'ca.key',
    '-out',
    'ca.crt',
    '-days',
    '1',
    '-subj',
    '/CN=test-ca',
  ]);
  const sign = (name: string, cn: string, ext: string[]) => {
    openssl(dir, [
      'req',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.csr`,
      '-subj',
      `/CN=${cn}`,
    ]);
    openssl(dir, [
      'x509',
      '-req',
      '-in',
      `${name}.csr`,
      '-CA',
      'ca.crt',
      '-CAkey',
      'ca.key',
      '-CAcreateserial',
      '-out',
      `${name}.crt`,
      '-days',
      '1',
      ...ext,
    ]);
  };
  spawnSync('sh', ['-c', 'printf "subjectAltName=IP:127.0.0.1\\n" > san.ext'], { cwd: dir });
  sign('server', '127.0.0.1', ['-extfile', 'san.ext']);
  for (const cn of clients) sign(`client-${cn}`, cn, []);
}

describe.runIf(has)('embedded broker TLS listener', () => {
  let dir: string;
  let broker: EmbeddedBroker;
  let tlsPort: number;
  const tlsOpts = (cn?: string) => ({
    ca: readFileSync(join(dir, 'ca.crt')),
    ...(cn
      ? {
          cert: readFileSync(join(dir, `client-${cn}.crt`)),
          key: readFileSync(join(dir, `client-${cn}.key`)),
        }
      : {}),
    reconnectPeriod: 0,
    connectTimeout: 3000,
  });
  const login = (id: string) => ({
    clientId: id,
    username: id,
    password: deriveDevicePassword(DEVICE_KEY, id),
  });

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'hw-tls-'));
    makeCerts(dir, ['a1-1-1', 'a1-2-2']);
    broker = new EmbeddedBroker({
      host: '127.0.0.1',
      port: 0,
      limits,
      auth: new DeviceAuth({
        registry: testRegistry(),
        weatherStationIds: ['city'],
        topicRoot: ROOT,
        deviceKey: DEVICE_KEY,
        service: SERVICE,
        passwordCheckConcurrency: 2,
        passwordCheckQueue: 10,
        log: silentLogger(),
      }),
      log: silentLogger(),
      tls: {
        certFile: join(dir, 'server.crt'),
        keyFile: join(dir, 'server.key'),
        caFile: join(dir, 'ca.crt'),
        requireClientCert: true,
        port: 0,
      },
    });
    const started = await broker.start();
    tlsPort = started.tlsPort!;
  });

  afterAll(async () => {
    await broker?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('accepts a device whose certificate CN is its user name, and carries its messages', async () => {
    const c = await mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, {
      ...tlsOpts('a1-1-1'),
      ...login('a1-1-1'),
    });
    await c.publishAsync(`${ROOT}/sensors/a1-1-1/telemetry`, '{}', { qos: 1 });
    await c.endAsync();
  });

  it('refuses a client without a certificate, and a certificate issued to another device', async () => {
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ...tlsOpts(), ...login('a1-1-1') }),
    ).rejects.toBeTruthy();
    await expect(
      mqtt.connectAsync(`mqtts://127.0.0.1:${tlsPort}`, { ...tlsOpts('a1-2-2'), ...login('a1-1-1') }),
    ).rejects.toMatchObject({ code: 5 });
  });
});
