import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { HeatEvents } from '../../src/core/events.ts';
import type { Heatwatch } from '../../src/main.ts';
import { connectDevice, startIngest, tempDir, waitFor } from './support.ts';

let hw: Heatwatch | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  cleanup?.();
});

describe('config reload', () => {
  it('an edit of ingest limits applies to the next message without a restart', async () => {
    const t = tempDir();
    cleanup = t.cleanup;
    const configDir = join(t.dir, 'config');
    cpSync('config', configDir, { recursive: true });
    hw = await startIngest(join(t.dir, 'data'), (c) => {
      c.dir = configDir;
    });
    const h = hw;
    const reloaded: Array<HeatEvents['configReloaded']> = [];
    h.bus.on('configReloaded', 'test', (e) => reloaded.push(e));
    const file = join(configDir, 'heatwatch.yaml');
    writeFileSync(file, readFileSync(file, 'utf8').replace('maxJsonDepth: 8', 'maxJsonDepth: 2'));
    await waitFor(() => reloaded.length > 0, 10_000, 'the reload');
    expect(reloaded[0]?.changed).toContain('service.ingest.maxJsonDepth');

    const dev = await connectDevice(h.mqttUrl, 'n01-1-2', true);
    await dev.publishAsync(
      'heat/sensors/n01-1-2/telemetry',
      JSON.stringify([{ ts: Date.now() - 1000, temp: 20, meta: { a: 1 } }]),
      { qos: 1 },
    );
    await dev.endAsync();
    await waitFor(() => h.deadLetters.recent(1).length === 1, 5000, 'the refusal');
    expect(h.deadLetters.recent(1)[0]?.reason).toBe('too_deep');
  });
});
