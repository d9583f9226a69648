import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { Heatwatch } from '../../src/main.ts';
import { publishReadings, startIngest, tempDir, waitFor } from '../main/support.ts';
import { freePort, serverAvailable } from '../support/servers.ts';

const VM = '/usr/bin/victoria-metrics';
const SENSORS = ['n01-1-2', 'n01-6-1', 'n02-1-4', 'n02-3-3'];

let hw: Heatwatch | undefined;
let vm: ChildProcess | undefined;
let cleanup: (() => void) | undefined;
afterEach(async () => {
  await hw?.stop();
  hw = undefined;
  if (vm && vm.exitCode === null) vm.kill('SIGKILL');
  cleanup?.();
});

/** VictoriaMetrics on a fixed port and data path, so a restart is the same server coming back. */
async function startVm(dataDir: string, port: number): Promise<ChildProcess> {
  const proc = spawn(
    VM,
    [
      `-storageDataPath=${dataDir}`,
      `-httpListenAddr=127.0.0.1:${port}`,
      '-retentionPeriod=100y',
      // One sample per series and millisecond: a replayed point replaces the first, as in InfluxDB.
      '-dedup.minScrapeInterval=1ms',
      '-search.disableCache',
      '-loggerLevel=ERROR',
    ],
    { stdio: 'ignore' },
  );
  await waitFor(
    async () => {
      try {
        return (await fetch(`http://127.0.0.1:${port}/health`, { signal: AbortSignal.timeout(300) })).ok;
      } catch {
        return false;
      }
    },
    20_000,
    'victoria-metrics ready',
  );
  return proc;
}

async function stopVm(proc: ChildProcess): Promise<void> {
  const exited = new Promise((r) => proc.once('exit', r));
  proc.kill('SIGTERM');
  await exited;
}

async function storedKeys(url: string): Promise<string[]> {
  await (await fetch(`${url}/internal/force_flush`)).body?.cancel();
  const res = await fetch(`${url}/api/v1/export`, {
    method: 'POST',
    body: new URLSearchParams({ 'match[]': '{__name__="room_temp_c"}' }),
  });
  const keys: string[] = [];
  for (const line of (await res.text()).split('\n')) {
    if (!line.trim()) continue;
    const s = JSON.parse(line) as { metric: Record<string, string>; timestamps: number[] };
    for (const ts of s.timestamps) keys.push(`${s.metric.sensor}@${ts}`);
  }
  return keys;
}

describe('store outage, InfluxDB backend: the time-series server stops mid-stream and comes back', () => {
  it('every reading lands once in VictoriaMetrics (InfluxDB v2 write API) after a stop and restart', async (ctx) => {
    if (!serverAvailable('victoria-metrics', existsSync(VM), `${VM} is not installed`)) return ctx.skip();
    const t = tempDir();
    cleanup = t.cleanup;
    const port = await freePort();
    const vmData = join(t.dir, 'vm');
    vm = await startVm(vmData, port);
    const url = `http://127.0.0.1:${port}`;
    hw = await startIngest(
      t.dir,
      (c) => {
        c.service.store.influxdb.timeoutMs = 1000;
        c.service.spool.replayInitialBackoffMs = 50;
        c.service.spool.replayMaxBackoffMs = 200;
      },
      { HEATWATCH_INFLUX_URL: url, HEATWATCH_INFLUX_TOKEN: 'test-token' },
    );
    const h = hw;
    expect(h.store.kind).not.toBe('sqlite');
    const stored = () =>
      Number(h.metrics.render().match(/^heatwatch_readings_stored_total (\d+)$/m)?.[1] ?? 0);
    const failures = () =>
      Number(h.metrics.render().match(/^heatwatch_store_write_failures_total (\d+)$/m)?.[1] ?? 0);
    const now = Date.now();
    const sent = new Set<string>();
    const add = (s: Set<string>) => {
      for (const k of s) sent.add(k);
    };

    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 20, now - 200_000, true));
    await waitFor(() => stored() === sent.size, 10_000, 'first part stored');

    await stopVm(vm);
    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 30, now - 100_000, true));
    await waitFor(() => failures() > 0, 10_000, 'a failed write');
    expect((await h.health()).spoolDepth).toBeGreaterThan(0);

    vm = await startVm(vmData, port);
    add(await publishReadings(h.mqttUrl, 'heat', SENSORS, 20, now, true));
    await waitFor(() => stored() === sent.size, 20_000, 'everything stored');
    expect((await h.health()).spoolDepth).toBe(0);

    const keys = await storedKeys(url);
    expect(keys.length).toBe(sent.size);
    expect(new Set(keys)).toEqual(sent);
  }, 60_000);
});
