import cron from 'node-cron';
import type { ServiceConfig } from '../config/service-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { Counter, MetricsRegistry } from '../core/metrics.ts';
import type { WeatherForecast } from '../core/readings.ts';
import { type ForecastFormat, type ForecastLimits, parseForecast } from './forecast-formats.ts';

/** `weather.forecast` of heatwatch.yaml, in the units the feed uses. */
export interface ForecastFeedSettings extends ForecastLimits {
  format: ForecastFormat;
  url: string;
  /** node-cron expression, wall time. */
  schedule: string;
  timeoutMs: number;
  /** Attempts after the first one fails for a reason worth retrying. */
  retries: number;
  retryInitialBackoffMs: number;
  retryMaxBackoffMs: number;
  /** A forecast issued longer ago than this is marked stale (heating time). */
  staleAfterMs: number;
  staleCheckIntervalMs: number;
  maxResponseBytes: number;
  userAgent: string;
}

/** The feed's settings from `weather.forecast` of the service config. */
export const forecastFeedSettings = (c: ServiceConfig['weather']['forecast']): ForecastFeedSettings => {
  const { enabled: _enabled, staleAfterH, ...rest } = c;
  return { ...rest, staleAfterMs: staleAfterH * 3_600_000 };
};

/** The part of the live state the feed touches. */
export interface ForecastHolder {
  readonly forecast?: WeatherForecast;
  applyForecast(f: WeatherForecast): void;
  setForecastStale(stale: boolean): void;
}

export interface ForecastFeedDeps {
  settings: ForecastFeedSettings;
  stationId: string;
  live: ForecastHolder;
  bus: EventBus<HeatEvents>;
  metrics: MetricsRegistry;
  /** Heating time: the forecast's issue time and its age are judged in it, as the rules do. */
  clock: Clock;
  log: Logger;
  /** Waits between retries (wall time); injectable so a test need not sleep. */
  sleep?: (ms: number) => Promise<void>;
  fetchFn?: typeof fetch;
}

export type FetchOutcome =
  | { ok: true; points: number; attempts: number }
  | { ok: false; refused: boolean; code: string; detail: string; attempts: number };

/** `refused`: the service answered, but nothing heatwatch may act on; else it did not answer usefully. */
type Attempt =
  | { ok: true; body: unknown }
  | { ok: false; refused: boolean; code: string; detail: string; retry: boolean };

/**
 * Fetches an hourly forecast over HTTP on a node-cron schedule (docs/ingest.md "Forecast feed"). On
 * failure the last forecast stays in force; once it is older than `staleAfterMs` it is marked stale
 * (the cold-spell rule's evidence says so) and an alert is raised until a fresh one arrives. Refused
 * forecasts (malformed, absurd) are never applied and never retried: the service would answer the same.
 */
export class ForecastFeed {
  private task: { stop(): void } | undefined;
  private staleTimer: TimerHandle | undefined;
  private running: Promise<FetchOutcome> | undefined;
  private staleAlerted = false;
  private readonly fetches: Counter;

  constructor(private readonly d: ForecastFeedDeps) {
    this.fetches = d.metrics.counter(
      'heatwatch_forecast_fetches_total',
      'Forecast fetches by outcome (ok, refused, failed).',
    );
    d.metrics.gauge('heatwatch_forecast_age_seconds', 'Age of the forecast in force (heating time).', () => {
      const f = d.live.forecast;
      return f ? Math.max(0, (d.clock.now() - f.issued) / 1000) : 0;
    });
  }

  start(): void {
    if (this.task) return;
    this.task = cron.schedule(this.d.settings.schedule, () => void this.fetchOnce());
    this.staleTimer = this.d.clock.setInterval(() => this.checkStale(), this.d.settings.staleCheckIntervalMs);
    // A restarted heatwatch should not wait for the next slot to learn the weather.
    void this.fetchOnce();
  }

  async stop(): Promise<void> {
    this.task?.stop();
    this.task = undefined;
    this.staleTimer?.cancel();
    this.staleTimer = undefined;
    await this.running;
  }

  /** One scheduled run: fetch with retries, apply or keep the last forecast, judge staleness. */
  fetchOnce(): Promise<FetchOutcome> {
    this.running ??= this.run().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Marks the forecast in force stale once it is older than allowed; raises/clears the alert. */
  checkStale(): boolean {
    const f = this.d.live.forecast;
    const stale = f !== undefined && this.d.clock.now() - f.issued > this.d.settings.staleAfterMs;
    if (f) this.d.live.setForecastStale(stale);
    if (stale !== this.staleAlerted) {
      this.staleAlerted = stale;
      this.d.bus.emit('alert', {
        key: 'forecast-stale',
        severity: 'warning',
        message: stale
          ? `no fresh forecast from ${this.d.settings.format}; acting on the one issued ${new Date(f?.issued ?? 0).toISOString()}`
          : 'a fresh forecast is in force again',
        active: stale,
        ts: this.d.clock.now(),
      });
    }
    return stale;
  }

  private async run(): Promise<FetchOutcome> {
    const s = this.d.settings;
    const sleep = this.d.sleep ?? ((ms: number) => new Promise<void>((r) => setTimeout(r, ms)));
    let backoffMs = s.retryInitialBackoffMs;
    let attempts = 0;
    let outcome: FetchOutcome;
    for (;;) {
      attempts++;
      const a = await this.attempt();
      if (a.ok) {
        outcome = this.apply(a.body, attempts);
        break;
      }
      if (!a.retry || attempts > s.retries) {
        outcome = { ok: false, refused: a.refused, code: a.code, detail: a.detail, attempts };
        break;
      }
      this.d.log.debug({ code: a.code, detail: a.detail, backoffMs }, 'forecast fetch failed; retrying');
      await sleep(backoffMs);
      backoffMs = Math.min(s.retryMaxBackoffMs, backoffMs * 2);
    }
    if (outcome.ok) this.fetches.inc({ outcome: 'ok' });
    else {
      this.fetches.inc({ outcome: outcome.refused ? 'refused' : 'failed' });
      this.d.log.warn(
        { code: outcome.code, detail: outcome.detail, attempts },
        'no new forecast; the last one stays in force',
      );
    }
    this.checkStale();
    return outcome;
  }

  private apply(body: unknown, attempts: number): FetchOutcome {
    const s = this.d.settings;
    const parsed = parseForecast(s.format, body, this.d.clock.now(), s);
    if (!parsed.ok) return { ok: false, refused: true, code: parsed.code, detail: parsed.detail, attempts };
    const forecast: WeatherForecast = {
      stationId: this.d.stationId,
      issued: parsed.issued,
      points: parsed.points,
    };
    this.d.live.applyForecast(forecast);
    this.d.bus.emit('weatherForecast', forecast);
    return { ok: true, points: parsed.points.length, attempts };
  }

  /** One HTTP GET: a body that parses as JSON, or why not and whether another try may help. */
  private async attempt(): Promise<Attempt> {
    const s = this.d.settings;
    const fetchFn = this.d.fetchFn ?? fetch;
    try {
      const res = await fetchFn(s.url, {
        headers: { accept: 'application/json', 'user-agent': s.userAgent },
        signal: AbortSignal.timeout(s.timeoutMs),
      });
      if (!res.ok) {
        await res.body?.cancel();
        // 4xx is our request (URL, parameters, identification): asking again changes nothing.
        const retry = res.status >= 500 || res.status === 429;
        return {
          ok: false,
          refused: false,
          code: 'HW_ERR_FORECAST_FETCH',
          detail: `HTTP ${res.status}`,
          retry,
        };
      }
      const text = await readLimited(res, s.maxResponseBytes);
      if (text === undefined)
        return {
          ok: false,
          refused: true,
          code: 'HW_ERR_FORECAST_TOO_LARGE',
          detail: `response over ${s.maxResponseBytes} bytes`,
          retry: false,
        };
      try {
        return { ok: true, body: JSON.parse(text) as unknown };
      } catch {
        // A proxy's error page or a cut connection: worth another try.
        const detail = text.slice(0, 80);
        return { ok: false, refused: false, code: 'HW_ERR_FORECAST_NOT_JSON', detail, retry: true };
      }
    } catch (err) {
      const timeout = err instanceof Error && (err.name === 'TimeoutError' || err.name === 'AbortError');
      return {
        ok: false,
        refused: false,
        code: timeout ? 'HW_ERR_FORECAST_TIMEOUT' : 'HW_ERR_FORECAST_FETCH',
        detail: timeout ? `no answer within ${s.timeoutMs} ms` : String(err).slice(0, 200),
        retry: true,
      };
    }
  }
}

/** The body as text, or undefined once it passes `maxBytes` (the rest is not read). */
async function readLimited(res: Response, maxBytes: number): Promise<string | undefined> {
  const declared = Number(res.headers.get('content-length'));
  if (declared > maxBytes) {
    await res.body?.cancel();
    return undefined;
  }
  if (!res.body) return '';
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    total += value.length;
    if (total > maxBytes) {
      await reader.cancel();
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}
