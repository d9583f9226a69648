import { readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Heatwatch } from '../../src/main.ts';
import { startIngest, tempDir, waitFor } from '../main/support.ts';

let hw: Heatwatch | undefined;
const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  for (const c of cleanups.reverse()) await c();
  cleanups.length = 0;
});

describe('heatwatch with weather.forecast enabled', () => {
  it('fetches the forecast at start into the live state, with the configured User-Agent', async () => {
    const body = readFileSync(join(import.meta.dirname, '..', 'fixtures', 'forecast', 'met-norway.json'));
    const agents: string[] = [];
    const server = createServer((req, res) => {
      agents.push(String(req.headers['user-agent']));
      res.writeHead(200, { 'content-type': 'application/json' }).end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
    const port = (server.address() as AddressInfo).port;
    const t = tempDir();
    cleanups.push(t.cleanup);
    hw = await startIngest(t.dir, (c) => {
      // Heating time at the recording's instant, so its points lie ahead.
      c.service.clock.start = '2026-01-15T00:00:00Z';
      c.service.weather.forecast = {
        ...c.service.weather.forecast,
        enabled: true,
        format: 'met-norway',
        url: `http://127.0.0.1:${port}/weatherapi/locationforecast/2.0/compact?lat=59.91&lon=10.75`,
        userAgent: 'heatwatch-test ops@example.invalid',
      };
    });
    const h = hw;
    await waitFor(() => h.live.forecast !== undefined, 15_000, 'the forecast in the live state');
    expect(h.live.forecast).toMatchObject({ stationId: h.config.network.weatherStation });
    expect(h.live.forecast?.points.length).toBe(87);
    expect(agents[0]).toBe('heatwatch-test ops@example.invalid');
    expect(h.metrics.render()).toMatch(/heatwatch_forecast_fetches_total\{outcome="ok"\} 1/);
  });
});
