import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { silentLogger } from '../../src/core/log.ts';
import { type Heatwatch, startHeatwatch } from '../../src/main.ts';
import { DEVICE_KEY, publishReadings, tempDir, waitFor } from '../main/support.ts';
import { serverAvailable } from '../support/servers.ts';

/**
 * Issue #21: Debian's Prometheus scrapes a running heatwatch, sees prom-client's process metrics and
 * heatwatch's histograms, and with the reading store made unavailable shows the store-down alert of
 * deploy/prometheus/alerts.yml pending (then firing) in its own /api/v1/alerts.
 */
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const RULES = resolve('deploy/prometheus/alerts.yml');
const haveProm = serverAvailable(
  'prometheus',
  existsSync(PROMETHEUS) && existsSync(PROMTOOL),
  `${PROMETHEUS} is not installed (Debian package prometheus)`,
);
const ADMIN = 'prom-test-admin-token-0123456789';

function freePort(): Promise<number> {
  return new Promise((ok, fail) => {
    const s = createServer();
    s.on('error', fail);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      const port = typeof a === 'object' && a ? a.port : 0;
      s.close(() => ok(port));
    });
  });
}

describe('alert rules', () => {
  it.runIf(existsSync(PROMTOOL))('pass promtool check rules', () => {
    const out = execFileSync(PROMTOOL, ['check', 'rules', RULES], { encoding: 'utf8' });
    expect(out).toMatch(/SUCCESS: \d+ rules found/);
  });
});

describe.runIf(haveProm)('a real Prometheus scraping heatwatch', { timeout: 120_000 }, () => {
  let hw: Heatwatch;
  let prom: ChildProcess | undefined;
  let promUrl = '';
  let cleanup = () => {};
  let promLog = '';

  beforeAll(async () => {
    const t = tempDir('hw-prom-');
    cleanup = t.cleanup;
    hw = await startHeatwatch({
      configDir: 'config',
      env: {
        HEATWATCH_DATA_DIR: t.dir,
        HEATWATCH_DEVICE_KEY: DEVICE_KEY,
        HEATWATCH_SIM: 'off',
        HEATWATCH_ADMIN_TOKEN: ADMIN,
      },
      log: silentLogger(),
      watchConfig: false,
      configure: (c) => {
        c.service.mqtt.port = 0;
        c.service.http.port = 0;
        c.service.http.buildDashboard = false;
        c.service.weather.forecast.enabled = false;
        c.service.ingest.flushIntervalMs = 20;
        // Fail fast on the locked store below instead of waiting for the lock.
        c.service.store.sqlite.busyTimeoutMs = 0;
        c.service.mqtt.limits.devicePublishesPerMin = 1_000_000;
      },
    });
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    writeFileSync(join(t.dir, 'token'), ADMIN);
    writeFileSync(
      join(t.dir, 'prometheus.yml'),
      [
        'global: { scrape_interval: 1s, evaluation_interval: 1s }',
        `rule_files: ['${RULES}']`,
        'scrape_configs:',
        '  - job_name: heatwatch',
        '    metrics_path: /metrics',
        `    authorization: { type: Bearer, credentials_file: '${join(t.dir, 'token')}' }`,
        `    static_configs: [{ targets: ['127.0.0.1:${hw.httpPort}'] }]`,
        '',
      ].join('\n'),
    );
    prom = spawn(
      PROMETHEUS,
      [
        `--config.file=${join(t.dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${join(t.dir, 'tsdb')}`,
        `--web.listen-address=127.0.0.1:${port}`,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    prom.stderr?.on('data', (d: Buffer) => {
      promLog = (promLog + d.toString()).slice(-4000);
    });
    await waitFor(
      async () => (await fetch(`${promUrl}/-/ready`).catch(() => undefined))?.ok === true,
      30_000,
      'Prometheus ready',
    );
  });

  afterAll(async () => {
    prom?.kill('SIGTERM');
    await hw?.stop();
    cleanup();
  });

  const query = async (
    q: string,
  ): Promise<Array<{ metric: Record<string, string>; value: [number, string] }>> => {
    const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(q)}`);
    const body = (await res.json()) as {
      data: { result: Array<{ metric: Record<string, string>; value: [number, string] }> };
    };
    return body.data.result;
  };

  it('scrapes the default process metrics and heatwatch histograms', async () => {
    await waitFor(
      async () => (await query('up{job="heatwatch"} == 1')).length === 1,
      30_000,
      `target up\n${promLog}`,
    );
    // Scrapes through the edge itself put observations into the HTTP histogram.
    await waitFor(
      async () =>
        (await query('heatwatch_http_request_seconds_count{route="/metrics",status="200"}')).length > 0,
      30_000,
      'HTTP histogram scraped',
    );
    for (const name of [
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_heap_size_used_bytes',
      'heatwatch_journal_append_seconds_count',
      'heatwatch_store_write_seconds_count',
      'heatwatch_rules_tick_seconds_count',
      'heatwatch_live_clients',
      'heatwatch_setpoint_outbox_depth',
      'heatwatch_store_up',
    ])
      expect((await query(name)).length, name).toBeGreaterThan(0);
  });

  it('every query of the Grafana health dashboard is valid PromQL on the real Prometheus', async () => {
    const dash = JSON.parse(readFileSync('deploy/grafana/dashboards/heatwatch-health.json', 'utf8')) as {
      panels: Array<{ type: string; title: string; targets?: Array<{ expr: string }> }>;
    };
    expect(dash.panels[0]).toMatchObject({ type: 'row', title: 'heatwatch health' });
    const exprs = dash.panels.flatMap((p) => (p.targets ?? []).map((t) => t.expr));
    expect(exprs.length).toBeGreaterThan(10);
    for (const e of exprs) {
      const res = await fetch(`${promUrl}/api/v1/query?query=${encodeURIComponent(e)}`);
      expect(((await res.json()) as { status: string }).status, e).toBe('success');
    }
  });

  it('with the reading store unavailable, the store-down alert goes pending in Prometheus', async () => {
    expect((await query('heatwatch_store_up'))[0]?.value[1]).toBe('1');
    const locker = new Database(join(hw.config.service.dataDir, 'readings.db'));
    try {
      locker.exec('BEGIN EXCLUSIVE');
      await publishReadings(hw.mqttUrl, 'heat', ['n01-1-2', 'n01-6-1'], 5, Date.now(), true);
      await waitFor(
        async () => (await query('heatwatch_store_up'))[0]?.value[1] === '0',
        30_000,
        'store down scraped',
      );
      let state = '';
      await waitFor(
        async () => {
          const res = await fetch(`${promUrl}/api/v1/alerts`);
          const body = (await res.json()) as {
            data: { alerts: Array<{ labels: { alertname: string }; state: string }> };
          };
          state = body.data.alerts.find((a) => a.labels.alertname === 'HeatwatchStoreDown')?.state ?? '';
          return state === 'pending' || state === 'firing';
        },
        30_000,
        'HeatwatchStoreDown pending',
      );
      expect(['pending', 'firing']).toContain(state);
    } finally {
      locker.exec('ROLLBACK');
      locker.close();
    }
  });
});
