import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort } from '../support/servers.ts';
import { spawnService, tempDir, waitFor } from './support.ts';

const run = promisify(execFile);
const BIN = 'bin/heatwatch.js';

/** Runs a command and returns its exit code and output, whatever the code. */
async function exec(file: string, args: string[]): Promise<{ code: number; out: string }> {
  try {
    const r = await run(file, args, { timeout: 60_000 });
    return { code: 0, out: r.stdout + r.stderr };
  } catch (err) {
    const e = err as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof e.code === 'number' ? e.code : -1, out: `${e.stdout ?? ''}${e.stderr ?? ''}` };
  }
}

let cleanup: (() => void) | undefined;
afterEach(() => cleanup?.());

describe('bin/heatwatch.js (npx heatwatch)', () => {
  it('lists every command without one, answers start --help, and refuses an unknown one with exit 2', async () => {
    const help = await exec(process.execPath, [BIN]);
    expect(help.code).toBe(0);
    for (const c of ['start', 'sim', 'check-config', 'dry-run', 'mosquitto-files', 'backup', 'restore'])
      expect(help.out).toContain(`  ${c} `);
    const startHelp = await exec(process.execPath, [BIN, 'start', '--help']);
    expect(startHelp.code, startHelp.out).toBe(0);
    expect(startHelp.out).toContain('usage: heatwatch [--speed N] [--config DIR]');
    const bad = await exec(process.execPath, [BIN, 'no-such-command']);
    expect(bad.code).toBe(2);
    expect(bad.out).toContain('usage: heatwatch');
  });

  it('runs an engineer tool with its arguments, through npx as the package bin', async () => {
    const r = await exec('npx', ['--no-install', 'heatwatch', 'check-config', 'config']);
    expect(r.code, r.out).toBe(0);
    expect(r.out).toMatch(/config: ok .*substations/);
    const broken = await exec(process.execPath, [BIN, 'check-config', 'no-such-dir']);
    expect(broken.code, broken.out).not.toBe(0);
  });

  it('starts the service with `start`, which stops in order on SIGTERM and exits 0', async () => {
    const t = tempDir('hw-bin-');
    cleanup = t.cleanup;
    const [mqttPort, httpPort] = [await freePort(), await freePort()];
    const { proc, output, exited } = spawnService(
      [BIN, 'start', '--speed', '60'],
      { mqtt: mqttPort, http: httpPort },
      t.dir,
    );
    try {
      await waitFor(
        () => /heatwatch running: http:\/\/[\d.]+:\d+\//.test(output()),
        45_000,
        `URL line (${output()})`,
      );
      // Not a terminal: the log is JSON lines for a shipper, not the pretty form.
      const first = output()
        .split('\n')
        .find((l) => l.includes('heatwatch running'));
      expect(() => JSON.parse(first ?? '')).not.toThrow();
      const url = output().match(/heatwatch running: (http:\/\/[\d.]+:\d+\/)/)?.[1];
      const health = await fetch(`${url}api/health`);
      expect(health.ok).toBe(true);
      proc.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('hung'), 20_000))]);
      expect(code, output()).toBe(0);
    } finally {
      if (proc.exitCode === null) proc.kill('SIGKILL');
    }
  }, 90_000);
});
