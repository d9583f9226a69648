import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/loader.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { silentLogger } from '../../src/core/log.ts';
import { loadSimulator } from '../../src/sim/port.ts';

describe('the simulator port', () => {
  it('loads the adapter sim.adapter names by default, whose factory builds a simulator', async () => {
    const config = loadConfig('config', {});
    expect(config.service.sim.adapter).toBe('firmware-sim/adapter.ts');
    const create = await loadSimulator(config.service.sim.adapter);
    const sim = create({
      registry: config.registry,
      scenario: config.sim,
      clock: new ManualClock(0),
      brokerUrl: 'mqtt://127.0.0.1:1',
      topicRoot: 'heat',
      log: silentLogger(),
    });
    expect(typeof sim.start).toBe('function');
    expect(typeof sim.stop).toBe('function');
  });

  it('refuses a module without createSimulator, naming the path', async () => {
    await expect(loadSimulator('src/sim/port.ts')).rejects.toThrow(
      'sim.adapter src/sim/port.ts: the module does not export a createSimulator function',
    );
  });
});
