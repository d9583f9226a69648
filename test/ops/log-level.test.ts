import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/core/log.ts';
import { LogLevelControl } from '../../src/ops/log-level.ts';

function capture() {
  const lines: Array<{ level: number; module?: string; msg: string }> = [];
  const destination = new Writable({
    write(chunk, _enc, cb) {
      for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l));
      cb();
    },
  });
  return { lines, destination };
}

describe('runtime log level', () => {
  it('changes the level of children created before the change, for all or for one module', async () => {
    const { lines, destination } = capture();
    const root = createLogger('info', { pretty: false, destination });
    const control = new LogLevelControl(root, 'info');
    control.attach();
    const ingest = root.child({ module: 'ingest' });
    const rules = root.child({ module: 'rules' });
    const nested = ingest.child({ sensor: 's1' });

    ingest.debug('hidden');
    expect(control.setLogLevel('debug')).toMatchObject({ ok: true, level: 'debug', loggers: 4 });
    ingest.debug('shown 1');
    nested.debug('shown 2');
    rules.debug('shown 3');
    expect(control.setLogLevel('warn', 'rules')).toMatchObject({ ok: true, loggers: 1 });
    rules.info('hidden');
    ingest.debug('shown 4');
    expect(control.levels()).toMatchObject({ root: 'debug', ingest: 'debug', rules: 'warn' });
    await new Promise((r) => setImmediate(r));
    expect(lines.map((l) => l.msg)).toEqual(['shown 1', 'shown 2', 'shown 3', 'shown 4']);
  });

  it('answers bad input instead of throwing', () => {
    const root = createLogger('info', { pretty: false, destination: capture().destination });
    const control = new LogLevelControl(root, 'info');
    control.attach();
    expect(control.setLogLevel('loud')).toMatchObject({ ok: false });
    expect(control.setLogLevel('debug', 'nobody')).toMatchObject({ ok: false });
    expect(root.level).toBe('info');
  });

  it('toggles between the configured level and debug on SIGUSR2', async () => {
    const root = createLogger('info', { pretty: false, destination: capture().destination });
    const control = new LogLevelControl(root, 'info');
    control.attach();
    const child = root.child({ module: 'http' });
    control.start();
    try {
      process.kill(process.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 50));
      expect(child.level).toBe('debug');
      process.kill(process.pid, 'SIGUSR2');
      await new Promise((r) => setTimeout(r, 50));
      expect(child.level).toBe('info');
    } finally {
      control.stop();
    }
  });
});
