import { readdirSync, readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { serviceSchema } from '../../src/config/service-schema.ts';
import { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { MetricsRegistry } from '../../src/core/metrics.ts';
import { coldSpell } from '../../src/rules/cold-spell.ts';
import { LiveState } from '../../src/state/live-state.ts';
import { ForecastFeed, forecastFeedSettings } from '../../src/weather/forecast-feed.ts';
import { type ForecastFormat, parseForecast } from '../../src/weather/forecast-formats.ts';
import { rules, smallRegistry } from '../rules/fixture.ts';

/**
 * The forecast feed against a loopback HTTP server that plays recorded Open-Meteo and MET Norway
 * responses, errors, hangs and garbage. Heating time is a ManualClock at the recordings' instant.
 */
const DIR = join(import.meta.dirname, '..', 'fixtures', 'forecast');
const NOW = Date.UTC(2026, 0, 15, 0, 0, 0);
const HOUR = 3_600_000;
const recorded = (name: string) => readFileSync(join(DIR, `${name}.json`));

type Route = (n: number) => { status: number; body?: string | Buffer; hang?: boolean };
let server: Server;
let base: string;
let routes: Record<string, Route> = {};
const hits = new Map<string, number>();

beforeEach(async () => {
  hits.clear();
  routes = {};
  server = createServer((req, res) => {
    const path = req.url ?? '';
    const n = (hits.get(path) ?? 0) + 1;
    hits.set(path, n);
    const route = routes[path];
    if (!route) return void res.writeHead(404).end('no such recording');
    const r = route(n);
    if (r.hang) return; // never answers: the feed's timeout must end it
    res.writeHead(r.status, { 'content-type': 'application/json' }).end(r.body ?? '');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

function feedFor(path: string, format: ForecastFormat, over: Record<string, unknown> = {}) {
  const clock = new ManualClock(NOW);
  const live = new LiveState(smallRegistry(1));
  const bus = new EventBus<HeatEvents>();
  const alerts: HeatEvents['alert'][] = [];
  bus.on('alert', 'test', (a) => alerts.push(a));
  const metrics = new MetricsRegistry();
  const sleeps: number[] = [];
  const cfg = serviceSchema.parse({
    weather: {
      forecast: {
        enabled: true,
        format,
        url: `${base}${path}`,
        // Generous: a busy machine must not turn a recorded answer into a timeout. Tests of hangs
        // shorten it.
        timeoutMs: 10_000,
        retries: 2,
        retryInitialBackoffMs: 100,
        retryMaxBackoffMs: 150,
        staleAfterH: 12,
        ...over,
      },
    },
  }).weather.forecast;
  const feed = new ForecastFeed({
    settings: forecastFeedSettings(cfg),
    stationId: 'city',
    live,
    bus,
    metrics,
    clock,
    log: silentLogger(),
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });
  return { feed, live, clock, alerts, metrics, sleeps };
}

const refusals: Array<[string, ForecastFormat, string]> = [
  ['open-meteo-reject--minus-90', 'open-meteo', 'HW_ERR_FORECAST_RANGE'],
  ['open-meteo-reject--fahrenheit', 'open-meteo', 'HW_ERR_FORECAST_UNIT'],
  ['open-meteo-reject--ended-last-week', 'open-meteo', 'HW_ERR_FORECAST_TIME'],
  ['open-meteo-reject--lengths-differ', 'open-meteo', 'HW_ERR_FORECAST_SHAPE'],
  ['met-norway-reject--step-without-instant', 'met-norway', 'HW_ERR_FORECAST_SHAPE'],
  ['met-norway-reject--out-of-order', 'met-norway', 'HW_ERR_FORECAST_TIME'],
  // A format mix-up in the config is refused, not read as no weather.
  ['open-meteo', 'met-norway', 'HW_ERR_FORECAST_SHAPE'],
];

const ok =
  (name: string): Route =>
  () => ({ status: 200, body: recorded(name) });

describe('forecast feed: recorded responses are taken', () => {
  it('Open-Meteo hourly.temperature_2m becomes the forecast in force (nulls skipped)', async () => {
    routes['/om'] = ok('open-meteo');
    const h = feedFor('/om', 'open-meteo');
    const r = await h.feed.fetchOnce();
    expect(r).toMatchObject({ ok: true, points: 95, attempts: 1 });
    const f = h.live.forecast!;
    expect(f.stationId).toBe('city');
    expect(f.issued).toBe(NOW);
    expect(f.points[0]).toEqual({ ts: NOW, outdoorTempC: expect.any(Number) });
    expect(f.points[94]!.ts).toBe(NOW + 94 * HOUR);
    expect(f.stale).toBeUndefined();
    expect(h.metrics.render()).toContain('heatwatch_forecast_fetches_total{outcome="ok"} 1');
  });

  it('Open-Meteo local times with utc_offset_seconds, and unix times, land on the same instants', () => {
    const limits = { minTempC: -70, maxTempC: 60, maxHorizonH: 384, maxPoints: 2000 };
    const parse = (n: string) => parseForecast('open-meteo', JSON.parse(recorded(n).toString()), NOW, limits);
    const utc = parse('open-meteo');
    expect(parse('open-meteo--oslo')).toEqual(utc);
    expect(parse('open-meteo--unixtime')).toEqual(utc);
  });

  it('MET Norway compact: issued at meta.updated_at, hourly then six-hourly steps', async () => {
    routes['/met'] = ok('met-norway');
    const h = feedFor('/met', 'met-norway');
    expect(await h.feed.fetchOnce()).toMatchObject({ ok: true, attempts: 1 });
    const f = h.live.forecast!;
    expect(f.issued).toBe(Date.parse('2026-01-14T22:41:12Z'));
    expect(f.points.length).toBe(61 + 26);
    expect(f.points.at(-1)!.ts).toBe(NOW + 9 * 24 * HOUR);
  });
});

describe('forecast feed: retried, held when stale, refused when absurd', () => {
  it('retries errors and timeouts with doubling backoff, then takes the answer', async () => {
    routes['/flaky'] = (n) =>
      n === 1 ? { status: 503 } : n === 2 ? { status: 200, hang: true } : ok('open-meteo')(n);
    const h = feedFor('/flaky', 'open-meteo', { timeoutMs: 500, retries: 6 });
    const r = await h.feed.fetchOnce();
    expect(r).toMatchObject({ ok: true });
    // A 503, a hang cut off by the timeout, then the answer (later attempts only if the machine is
    // so busy that the answer itself took longer than the timeout).
    expect(r.attempts).toBeGreaterThanOrEqual(3);
    expect(hits.get('/flaky')).toBe(r.attempts);
    expect(h.sleeps.slice(0, 3)).toEqual([100, 150, 150].slice(0, r.attempts - 1));
  });

  it('gives up after the configured retries; the last forecast stays in force and turns stale', async () => {
    routes['/om'] = ok('open-meteo');
    routes['/down'] = () => ({ status: 500, body: 'upstream down' });
    const h = feedFor('/om', 'open-meteo');
    await h.feed.fetchOnce();
    const taken = h.live.forecast!;
    // The service goes down; 13 h later the forecast in force is older than staleAfterH.
    const down = feedFor('/down', 'open-meteo');
    down.live.applyForecast(taken);
    down.clock.advance(13 * HOUR);
    const r = await down.feed.fetchOnce();
    expect(r).toMatchObject({ ok: false, refused: false, code: 'HW_ERR_FORECAST_FETCH', attempts: 3 });
    expect(hits.get('/down')).toBe(3);
    expect(down.live.forecast!.points).toEqual(taken.points);
    expect(down.live.forecast!.stale).toBe(true);
    expect(down.alerts).toEqual([expect.objectContaining({ key: 'forecast-stale', active: true })]);
    expect(down.metrics.render()).toContain('heatwatch_forecast_fetches_total{outcome="failed"} 1');

    // The cold-spell rule still acts on it, and its evidence says the forecast is stale.
    const view = { forecast: down.live.forecast, index: smallRegistry(1) };
    const ctx = {
      cfg: rules(),
      now: down.clock.now(),
      recentOutdoor: { meanC: 0, minC: -3 },
      lagH: () => 12,
    };
    const obs = coldSpell.evaluate(
      view as unknown as Parameters<typeof coldSpell.evaluate>[0],
      ctx as unknown as Parameters<typeof coldSpell.evaluate>[1],
    );
    expect(obs.length).toBeGreaterThan(0);
    for (const o of obs) expect(o.evidence).toMatchObject({ forecastStale: true });

    // A fresh forecast clears the flag and the alert.
    routes['/down'] = ok('open-meteo');
    down.clock.set(NOW);
    expect(await down.feed.fetchOnce()).toMatchObject({ ok: true });
    expect(down.live.forecast!.stale).not.toBe(true);
    expect(down.alerts.at(-1)).toMatchObject({ key: 'forecast-stale', active: false });
  });

  it('marks a held forecast stale from its own timer, without waiting for the next fetch', () => {
    const h = feedFor('/unused', 'open-meteo', { staleCheckIntervalMs: 60_000, schedule: '0 0 1 1 *' });
    h.live.applyForecast({ stationId: 'city', issued: NOW, points: [{ ts: NOW + HOUR, outdoorTempC: -3 }] });
    h.feed.start();
    h.clock.advance(11 * HOUR);
    expect(h.live.forecast!.stale).toBeFalsy();
    h.clock.advance(2 * HOUR);
    expect(h.live.forecast!.stale).toBe(true);
    return h.feed.stop();
  });

  for (const [name, format, code] of refusals)
    it(`refuses ${name} as ${format} with ${code}, once, keeping what was in force`, async () => {
      routes['/bad'] = ok(name);
      const h = feedFor('/bad', format);
      const before = {
        stationId: 'city',
        issued: NOW - HOUR,
        points: [{ ts: NOW + HOUR, outdoorTempC: -1 }],
      };
      h.live.applyForecast(before);
      const r = await h.feed.fetchOnce();
      expect(r).toMatchObject({ ok: false, refused: true, code, attempts: 1 });
      if (!r.ok) expect(r.detail.length).toBeGreaterThan(5);
      expect(hits.get('/bad')).toBe(1);
      expect(h.live.forecast).toEqual(before);
      expect(h.metrics.render()).toContain('heatwatch_forecast_fetches_total{outcome="refused"} 1');
    });

  it('refuses a forecast a year long', async () => {
    const year = Array.from({ length: 366 }, (_, d) => NOW + d * 24 * HOUR);
    routes['/year'] = () => ({
      status: 200,
      body: JSON.stringify({
        hourly: { time: year.map((t) => t / 1000), temperature_2m: year.map(() => -5) },
      }),
    });
    const r = await feedFor('/year', 'open-meteo').feed.fetchOnce();
    expect(r).toMatchObject({ ok: false, code: 'HW_ERR_FORECAST_HORIZON' });
    if (!r.ok) expect(r.detail).toContain('8760 h > 384 h');
  });

  it('garbage is retried (a proxy page may pass), then reported; a 404 is not retried; huge bodies are cut off', async () => {
    routes['/garbage'] = () => ({ status: 200, body: '<html><body>502 Bad Gateway</body></html>' });
    routes['/missing'] = () => ({ status: 404, body: '{"error":true,"reason":"Invalid URL"}' });
    routes['/huge'] = () => ({ status: 200, body: Buffer.alloc(2 * 1024 * 1024, 0x20) });
    const g = await feedFor('/garbage', 'open-meteo').feed.fetchOnce();
    expect(g).toMatchObject({ ok: false, code: 'HW_ERR_FORECAST_NOT_JSON', attempts: 3 });
    const m = await feedFor('/missing', 'open-meteo').feed.fetchOnce();
    expect(m).toMatchObject({ ok: false, code: 'HW_ERR_FORECAST_FETCH', detail: 'HTTP 404', attempts: 1 });
    const big = await feedFor('/huge', 'open-meteo', { maxResponseBytes: 1024 * 1024 }).feed.fetchOnce();
    expect(big).toMatchObject({ ok: false, code: 'HW_ERR_FORECAST_TOO_LARGE', attempts: 1 });
  });

  it('a hanging service is timed out on every attempt', async () => {
    routes['/hang'] = () => ({ status: 200, hang: true });
    const r = await feedFor('/hang', 'open-meteo', { timeoutMs: 300 }).feed.fetchOnce();
    expect(r).toMatchObject({ ok: false, code: 'HW_ERR_FORECAST_TIMEOUT', attempts: 3 });
    expect(hits.get('/hang')).toBe(3);
  });

  it('runs on its node-cron schedule', async () => {
    routes['/om'] = ok('open-meteo');
    const h = feedFor('/om', 'open-meteo', { schedule: '* * * * * *' });
    h.feed.start();
    const deadline = Date.now() + 20_000;
    // One fetch at start, then one per cron second: wait for the schedule's, not a wall-clock guess.
    while ((hits.get('/om') ?? 0) < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    await h.feed.stop();
    expect(hits.get('/om')).toBeGreaterThanOrEqual(3);
  });
});

describe('forecast fixtures', () => {
  it('every recorded response is used by a test above', () => {
    const files = readdirSync(DIR).map((f) => f.replace(/\.json$/, ''));
    expect(files.sort()).toEqual(
      [
        'open-meteo',
        'open-meteo--oslo',
        'open-meteo--unixtime',
        'met-norway',
        ...refusals.filter(([n]) => n.includes('reject')).map(([n]) => n),
      ].sort(),
    );
  });
});
