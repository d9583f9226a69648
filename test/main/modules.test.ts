import { createHash } from 'node:crypto';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeatEvents } from '../../src/core/events.ts';
import { createLogger, silentLogger } from '../../src/core/log.ts';
import { startHeatwatch } from '../../src/main.ts';
import { freePort } from '../support/servers.ts';
import { DEVICE_KEY, tempDir, waitFor } from './support.ts';

let cleanup: Array<() => void | Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanup.reverse()) await c();
  cleanup = [];
});

const listenOn = (port: number): Promise<Server> =>
  new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(port, '127.0.0.1', () => resolve(s));
  });

describe('heatwatch modules (src/main.ts)', () => {
  it('a module that fails to start stops the ones already started, so a second start succeeds', async () => {
    const t = tempDir('hw-modules-');
    cleanup.push(t.cleanup);
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    // The HTTP module starts last; its port is taken, so its start throws after everything else ran.
    const squatter = await listenOn(httpPort);
    cleanup.push(() => new Promise<void>((r) => squatter.close(() => r())));
    const start = (port: number) =>
      startHeatwatch({
        configDir: 'config',
        env: {
          HEATWATCH_DATA_DIR: join(t.dir, 'data'),
          HEATWATCH_DEVICE_KEY: DEVICE_KEY,
          HEATWATCH_SIM: 'off',
        },
        log: silentLogger(),
        watchConfig: false,
        configure: (c) => {
          c.service.mqtt.port = mqttPort;
          c.service.http.port = port;
        },
      });
    await expect(start(httpPort)).rejects.toThrow(/EADDRINUSE|address already in use/i);
    // The embedded broker, started before HTTP, was stopped: its port is free again.
    const probe = await listenOn(mqttPort);
    await new Promise<void>((r) => probe.close(() => r()));
    // Nothing else was left open either: the same data directory and ports start cleanly.
    const hw = await start(0);
    expect(hw.mqttPort).toBe(mqttPort);
    expect(hw.httpPort).toBeGreaterThan(0);
    await hw.stop();
  }, 60_000);

  it('a saved config edit reaches each module that takes it: log level, API users', async () => {
    const t = tempDir('hw-modules-');
    cleanup.push(t.cleanup);
    const configDir = join(t.dir, 'config');
    cpSync('config', configDir, { recursive: true });
    const root = createLogger('info', {
      pretty: false,
      destination: new Writable({ write: (_c, _e, cb) => cb() }),
    });
    const hw = await startHeatwatch({
      configDir,
      env: {
        HEATWATCH_DATA_DIR: join(t.dir, 'data'),
        HEATWATCH_DEVICE_KEY: DEVICE_KEY,
        HEATWATCH_SIM: 'off',
      },
      log: root,
      configure: (c) => {
        c.service.mqtt.port = 0;
        c.service.http.port = 0;
      },
    });
    cleanup.push(() => hw.stop());
    const reloaded: Array<HeatEvents['configReloaded']> = [];
    hw.bus.on('configReloaded', 'test', (e) => reloaded.push(e));
    const token = 'hw_modules_test_token_0123456789abcdef';
    const tickets = () =>
      fetch(`http://127.0.0.1:${hw.httpPort}/api/tickets`, { headers: { authorization: `Bearer ${token}` } });
    expect((await tickets()).status).toBe(401);

    const service = join(configDir, 'heatwatch.yaml');
    writeFileSync(service, readFileSync(service, 'utf8').replace(/^logLevel: info$/m, 'logLevel: debug'));
    const hash = createHash('sha256').update(token).digest('hex');
    writeFileSync(
      join(configDir, 'users.yaml'),
      `users:\n  - name: ops\n    role: operator\n    tokenHash: sha256$${hash}\n`,
    );
    await waitFor(
      () => reloaded.some((e) => e.changed.some((p) => p.startsWith('users'))) && root.level === 'debug',
      15_000,
      'both edits applied',
    );
    expect((await tickets()).status).toBe(200);
  }, 60_000);
});
