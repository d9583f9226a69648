import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';

const exec = promisify(execFile);

const TOOLS = ['check-config', 'dry-run', 'mosquitto-files', 'backup', 'restore'] as const;

/** Runs a tool's `run` in this process and returns its exit code and what it wrote. */
async function runTool(name: string, args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  vi.spyOn(process.stdout, 'write').mockImplementation((c) => {
    out += String(c);
    return true;
  });
  vi.spyOn(process.stderr, 'write').mockImplementation((c) => {
    err += String(c);
    return true;
  });
  const mod = (await import(`../../src/cli/${name}.ts`)) as { run(a: string[]): Promise<number> };
  const code = await mod.run(args);
  vi.restoreAllMocks();
  return { code, out, err };
}

afterEach(() => vi.restoreAllMocks());

describe('--help of every engineer tool (src/cli/)', () => {
  for (const name of TOOLS)
    it(`${name} --help prints its usage to stdout and exits 0 without loading a config`, async () => {
      const r = await runTool(name, ['--help', '--config', 'no-such-dir']);
      expect(r.code).toBe(0);
      expect(r.out).toContain(`usage: heatwatch ${name}`);
      expect(r.err).toBe('');
    });

  it('an unknown option prints the usage and exits 2', async () => {
    for (const name of ['check-config', 'dry-run']) {
      const r = await runTool(name, ['--no-such-option']);
      expect(r.code, name).toBe(2);
      expect(r.err, name).toContain(`usage: heatwatch ${name}`);
    }
  });

  it('npm run cli -- --help lists the tools and exits 0', async () => {
    const r = await exec(process.execPath, ['--import', 'tsx', 'src/cli.ts', '--help'], { timeout: 60_000 });
    for (const name of TOOLS) expect(r.stderr).toContain(`  ${name} `);
  }, 60_000);
});
