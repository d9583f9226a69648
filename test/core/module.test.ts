import { describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { type Module, ModuleList } from '../../src/core/module.ts';

/** A module that records its calls in a shared journal, and can be told to fail. */
function recorder(
  journal: string[],
  name: string,
  fail: { start?: boolean; stop?: boolean; config?: boolean } = {},
) {
  return {
    name,
    start() {
      journal.push(`start ${name}`);
      if (fail.start) throw new Error(`${name} cannot start`);
    },
    async stop() {
      journal.push(`stop ${name}`);
      if (fail.stop) throw new Error(`${name} cannot stop`);
    },
    onConfig(next: number, prev: number) {
      journal.push(`config ${name} ${prev}->${next}`);
      if (fail.config) throw new Error(`${name} refuses`);
    },
  } satisfies Module<number>;
}

describe('ModuleList', () => {
  it('starts in order and stops in reverse', async () => {
    const j: string[] = [];
    const list = new ModuleList<number>(silentLogger());
    for (const n of ['db', 'store', 'http']) await list.start(recorder(j, n));
    expect(list.names).toEqual(['db', 'store', 'http']);
    await list.stopAll();
    expect(j).toEqual(['start db', 'start store', 'start http', 'stop http', 'stop store', 'stop db']);
    expect(list.names).toEqual([]);
  });

  it('a failing start stops the modules already started, newest first, and rethrows', async () => {
    const j: string[] = [];
    const list = new ModuleList<number>(silentLogger());
    await list.start(recorder(j, 'db'));
    list.add({ name: 'opened', stop: () => void j.push('stop opened') });
    await list.start(recorder(j, 'broker'));
    await expect(list.start(recorder(j, 'http', { start: true }))).rejects.toThrow('http cannot start');
    expect(j).toEqual(['start db', 'start broker', 'start http', 'stop broker', 'stop opened', 'stop db']);
    expect(list.names).toEqual([]);
  });

  it('a stop that throws does not keep the others from stopping', async () => {
    const j: string[] = [];
    const list = new ModuleList<number>(silentLogger());
    await list.start(recorder(j, 'a'));
    await list.start(recorder(j, 'b', { stop: true }));
    await list.start(recorder(j, 'c'));
    await list.stopAll();
    expect(j.filter((e) => e.startsWith('stop'))).toEqual(['stop c', 'stop b', 'stop a']);
  });

  it('hands a reloaded config to every module that takes one, even after one refused it', async () => {
    const j: string[] = [];
    const list = new ModuleList<number>(silentLogger());
    await list.start(recorder(j, 'a', { config: true }));
    list.add({ name: 'no-config', stop: () => undefined });
    await list.start(recorder(j, 'b'));
    await list.onConfig(2, 1);
    expect(j.filter((e) => e.startsWith('config'))).toEqual(['config a 1->2', 'config b 1->2']);
  });
});
