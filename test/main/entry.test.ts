import { afterEach, describe, expect, it } from 'vitest';
import { parseArgs } from '../../src/main.ts';
import { freePort } from '../support/servers.ts';
import { spawnService, tempDir, waitFor } from './support.ts';

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('npm start (src/main.ts)', () => {
  it('reads --speed and --config, and refuses anything else with usage', () => {
    expect(parseArgs(['--speed', '360', '--config', 'cfg'])).toEqual({ speed: 360, configDir: 'cfg' });
    expect(() => parseArgs(['--speed', '0'])).toThrow(/positive/);
    expect(() => parseArgs(['--verbose'])).toThrow(/usage/);
  });

  it('answers --help and -h (the entry then prints the usage and exits 0 without starting)', () => {
    expect(parseArgs(['--help'])).toEqual({ help: true });
    expect(parseArgs(['--speed', '60', '-h'])).toEqual({ speed: 60, help: true });
  });

  it('logs the dashboard URL, stops in order on SIGINT and exits 0 with no handle left open', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const { proc, output, exited } = spawnService(
      ['--import', 'tsx', 'src/main.ts', '--speed', '60'],
      { mqtt: mqttPort, http: httpPort },
      t.dir,
    );
    try {
      await waitFor(
        () => /heatwatch running: http:\/\/[\d.]+:\d+\//.test(output()),
        30_000,
        `the URL line (got: ${output()})`,
      );
      const url = output().match(/heatwatch running: (http:\/\/[\d.]+:\d+\/)/)?.[1];
      const health = (await (await fetch(`${url}api/health`)).json()) as Record<string, unknown>;
      expect(health).toMatchObject({
        broker: { connected: true },
        store: { kind: 'sqlite', reachable: true },
      });
      expect(health.spoolDepth).toBe(0);
      proc.kill('SIGINT');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 15_000))]);
      expect(code, output()).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 60_000);
});
