/**
 * Hourly forecasts from public weather services → heatwatch's forecast points (docs/ingest.md
 * "Forecast feed"). Pure: the response body and the instant it was fetched in, out a forecast or a
 * coded refusal. A forecast heatwatch would act on must be plausible as a whole: one absurd value
 * (−90 °C) or an absurd horizon (a year) refuses all of it, since pre-heating a network on it is worse
 * than keeping the last good forecast.
 */
export type ForecastFormat = 'open-meteo' | 'met-norway';

export interface ForecastPoint {
  ts: number;
  outdoorTempC: number;
}

export interface ForecastLimits {
  /** Outdoor temperatures outside this range are not weather but a fault. */
  minTempC: number;
  maxTempC: number;
  /** Longest span first → last point accepted. */
  maxHorizonH: number;
  maxPoints: number;
}

export type ForecastRefusalCode =
  | 'HW_ERR_FORECAST_SHAPE'
  | 'HW_ERR_FORECAST_TIME'
  | 'HW_ERR_FORECAST_RANGE'
  | 'HW_ERR_FORECAST_HORIZON'
  | 'HW_ERR_FORECAST_UNIT';

export type ParsedForecast =
  | { ok: true; issued: number; points: ForecastPoint[] }
  | { ok: false; code: ForecastRefusalCode; detail: string };

type Refused = Extract<ParsedForecast, { ok: false }>;
const refuse = (code: ForecastRefusalCode, detail: string): Refused => ({ ok: false, code, detail });

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

export function parseForecast(
  format: ForecastFormat,
  body: unknown,
  fetchedAtMs: number,
  limits: ForecastLimits,
): ParsedForecast {
  const raw = format === 'open-meteo' ? openMeteo(body, fetchedAtMs) : metNorway(body, fetchedAtMs);
  return raw.ok ? check(raw, fetchedAtMs, limits) : raw;
}

/**
 * Open-Meteo `/v1/forecast?hourly=temperature_2m`: `hourly.time` (ISO local time without offset, in
 * the zone of `utc_offset_seconds`, or unix seconds with `timeformat=unixtime`) beside
 * `hourly.temperature_2m`; nulls are hours the model has no value for. No issue time: the fetch time.
 */
function openMeteo(body: unknown, fetchedAtMs: number): ParsedForecast {
  if (!isObject(body) || !isObject(body.hourly))
    return refuse('HW_ERR_FORECAST_SHAPE', 'open-meteo: no `hourly` object');
  const { time, temperature_2m: temps } = body.hourly;
  if (!Array.isArray(time) || !Array.isArray(temps) || time.length !== temps.length)
    return refuse(
      'HW_ERR_FORECAST_SHAPE',
      'open-meteo: `hourly.time` and `hourly.temperature_2m` are not arrays of one length',
    );
  const unit = isObject(body.hourly_units) ? body.hourly_units.temperature_2m : undefined;
  if (unit !== undefined && unit !== '°C')
    return refuse('HW_ERR_FORECAST_UNIT', `open-meteo: temperature_2m is in ${String(unit)}, not °C`);
  const offsetMs = typeof body.utc_offset_seconds === 'number' ? body.utc_offset_seconds * 1000 : 0;
  const points: ForecastPoint[] = [];
  for (let i = 0; i < time.length; i++) {
    const t = time[i];
    const temp = temps[i];
    if (temp === null) continue;
    const ts =
      typeof t === 'number'
        ? t * 1000
        : typeof t === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d$/.test(t)
          ? Date.parse(`${t}Z`) - offsetMs
          : Number.NaN;
    if (!Number.isFinite(ts))
      return refuse('HW_ERR_FORECAST_TIME', `open-meteo: hourly.time[${i}] is not a time`);
    if (typeof temp !== 'number')
      return refuse('HW_ERR_FORECAST_SHAPE', `open-meteo: temperature_2m[${i}] is not a number`);
    points.push({ ts, outdoorTempC: temp });
  }
  return { ok: true, issued: fetchedAtMs, points };
}

/**
 * MET Norway Locationforecast 2.0 `compact`: `properties.timeseries[]` of `{time, data.instant.details
 * .air_temperature}` (hourly, then six-hourly further out); issued at `properties.meta.updated_at`.
 */
function metNorway(body: unknown, fetchedAtMs: number): ParsedForecast {
  const props = isObject(body) && isObject(body.properties) ? body.properties : undefined;
  if (!props || !Array.isArray(props.timeseries))
    return refuse('HW_ERR_FORECAST_SHAPE', 'met-norway: no `properties.timeseries` array');
  const meta = isObject(props.meta) ? props.meta : {};
  const unit = isObject(meta.units) ? meta.units.air_temperature : undefined;
  if (unit !== undefined && unit !== 'celsius')
    return refuse('HW_ERR_FORECAST_UNIT', `met-norway: air_temperature is in ${String(unit)}, not celsius`);
  const updated = typeof meta.updated_at === 'string' ? Date.parse(meta.updated_at) : Number.NaN;
  const points: ForecastPoint[] = [];
  for (const [i, step] of props.timeseries.entries()) {
    const data = isObject(step) && isObject(step.data) ? step.data : undefined;
    const details =
      data && isObject(data.instant) && isObject(data.instant.details) ? data.instant.details : undefined;
    if (!details || !isObject(step))
      return refuse('HW_ERR_FORECAST_SHAPE', `met-norway: timeseries[${i}] has no data.instant.details`);
    const ts = typeof step.time === 'string' ? Date.parse(step.time) : Number.NaN;
    if (!Number.isFinite(ts))
      return refuse('HW_ERR_FORECAST_TIME', `met-norway: timeseries[${i}].time is not a time`);
    if (typeof details.air_temperature !== 'number')
      return refuse('HW_ERR_FORECAST_SHAPE', `met-norway: timeseries[${i}] has no air_temperature`);
    points.push({ ts, outdoorTempC: details.air_temperature });
  }
  return {
    ok: true,
    issued: Number.isFinite(updated) ? Math.min(updated, fetchedAtMs) : fetchedAtMs,
    points,
  };
}

/** The whole forecast must be plausible: in order, in range, of a sane length, not over already. */
function check(
  f: Extract<ParsedForecast, { ok: true }>,
  fetchedAtMs: number,
  limits: ForecastLimits,
): ParsedForecast {
  const p = f.points;
  if (p.length === 0) return refuse('HW_ERR_FORECAST_SHAPE', 'the forecast has no points');
  if (p.length > limits.maxPoints)
    return refuse('HW_ERR_FORECAST_HORIZON', `${p.length} points > ${limits.maxPoints}`);
  for (let i = 0; i < p.length; i++) {
    const { ts, outdoorTempC: t } = p[i] as ForecastPoint;
    if (!Number.isFinite(t) || t < limits.minTempC || t > limits.maxTempC)
      return refuse(
        'HW_ERR_FORECAST_RANGE',
        `${t} °C at ${new Date(ts).toISOString()} is outside ${limits.minTempC}..${limits.maxTempC} °C`,
      );
    if (i > 0 && ts <= (p[i - 1] as ForecastPoint).ts)
      return refuse('HW_ERR_FORECAST_TIME', `point ${i} is not after point ${i - 1}`);
  }
  const first = (p[0] as ForecastPoint).ts;
  const last = (p[p.length - 1] as ForecastPoint).ts;
  const spanH = (last - first) / 3_600_000;
  if (spanH > limits.maxHorizonH)
    return refuse(
      'HW_ERR_FORECAST_HORIZON',
      `the forecast spans ${Math.round(spanH)} h > ${limits.maxHorizonH} h`,
    );
  if (last < fetchedAtMs)
    return refuse(
      'HW_ERR_FORECAST_TIME',
      `the forecast ended at ${new Date(last).toISOString()}, before it was fetched`,
    );
  return f;
}
