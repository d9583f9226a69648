import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/main.ts';
import { freePort } from '../support/servers.ts';
import { tempDir, waitFor } from './support.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('npm start (src/main.ts)', () => {
  it('reads --speed and --config, and refuses anything else with usage', () => {
    expect(parseArgs(['--speed', '360', '--config', 'cfg'])).toEqual({ speed: 360, configDir: 'cfg' });
    expect(() => parseArgs(['--speed', '0'])).toThrow(/positive/);
    expect(() => parseArgs(['--verbose'])).toThrow(/usage/);
  });

  it('logs the dashboard URL, stops in order on SIGINT and exits 0 with no handle left open', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const proc = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts', '--speed', '60'], {
      env: {
        ...process.env,
        HEATWATCH_DATA_DIR: t.dir,
        HEATWATCH_MQTT_PORT: String(mqttPort),
        HEATWATCH_HTTP_PORT: String(httpPort),
        HEATWATCH_SIM: 'off',
        HEATWATCH_DEVICE_KEY: 'entry-test-key',
        HEATWATCH_MQTT_PASSWORD: 'entry-test-password',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => {
      out += d.toString();
    });
    proc.stderr.on('data', (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise<number | null>((r) => proc.once('exit', (code) => r(code)));
    try {
      await waitFor(
        () => /heatwatch running: http:\/\/[\d.]+:\d+\//.test(out),
        30_000,
        `the URL line (got: ${out})`,
      );
      const url = out.match(/heatwatch running: (http:\/\/[\d.]+:\d+\/)/)?.[1];
      const health = (await (await fetch(`${url}api/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({
        broker: { connected: true },
        store: { kind: 'sqlite', reachable: true },
      });
      expect(health.spoolDepth).toBe(0);
      proc.kill('SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code, out).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);
});
