/**
 * The twin's weather: a seasonal mean drifting from start to end, a daily cycle, slow random
 * variation and scripted cold and warm spells; and forecasts of it whose random error and bias both
 * grow with the horizon, as real numerical forecasts do.
 */
import { hashGauss, smoothNoise } from '../random.ts';
import type { Spell, TwinScenario } from './scenario.ts';

const HOUR_MS = 3_600_000;
/** The horizon at which the scenario's forecast error and bias are stated, hours. */
const STATED_AT_H = 72;

export interface ForecastPoint {
  ts: number;
  outdoorTempC: number;
}

export class TwinWeather {
  constructor(
    private readonly sc: TwinScenario,
    private readonly seed: number,
    private readonly startMs: number,
  ) {}

  /** What the forecaster knows: seasonal mean, daily cycle and spells (no random variation). */
  scriptedC(ms: number): number {
    const w = this.sc.weather;
    const h = (ms - this.startMs) / HOUR_MS;
    const season = Math.min(1, Math.max(0, h / (this.sc.days * 24)));
    const mean = w.meanStartC + (w.meanEndC - w.meanStartC) * season;
    const hourOfDay = (ms / HOUR_MS) % 24;
    const daily = w.dailyAmplitudeC * Math.cos((2 * Math.PI * (hourOfDay - w.warmestHour)) / 24);
    let spells = 0;
    for (const s of w.spells) spells += spellDelta(s, h);
    return mean + daily + spells;
  }

  private anomalyC(ms: number): number {
    const w = this.sc.weather;
    return w.noiseC * smoothNoise(this.seed, 'twin-weather', ms / HOUR_MS, w.noiseHours);
  }

  outdoorC(ms: number): number {
    return this.scriptedC(ms) + this.anomalyC(ms);
  }

  /** The forecast issued at `issuedMs`: hourly points, the anomaly fading, error and bias growing. */
  forecast(issuedMs: number): ForecastPoint[] {
    const f = this.sc.forecast;
    const anomaly = this.anomalyC(issuedMs);
    const first = Math.ceil(issuedMs / HOUR_MS) * HOUR_MS;
    const key = Math.floor(issuedMs / HOUR_MS);
    // A per-issue offset plus a smooth wander: two forecasts a few hours apart disagree, as they do.
    const issueOffset = hashGauss(this.seed, 'twin-fc-issue', key);
    const out: ForecastPoint[] = [];
    for (let k = 0; k < f.horizonH; k++) {
      const ts = first + k * HOUR_MS;
      const aheadH = (ts - issuedMs) / HOUR_MS;
      const grow = aheadH / STATED_AT_H;
      const err =
        f.errorC *
        Math.sqrt(grow) *
        (0.5 * issueOffset + 0.87 * smoothNoise(this.seed, `twin-fc${key}`, aheadH, 12));
      const value = this.scriptedC(ts) + anomaly * Math.exp(-aheadH / this.sc.weather.noiseHours) + err;
      out.push({ ts, outdoorTempC: Math.round((value + f.biasC * grow) * 10) / 10 });
    }
    return out;
  }
}

/** Change from the seasonal mean of one spell `h` hours after the start: ramp, hold, recover. */
export function spellDelta(s: Spell, h: number): number {
  const t = h - s.startDay * 24;
  if (t <= 0) return 0;
  if (t < s.rampH) return (s.deltaC * t) / s.rampH;
  if (t <= s.rampH + s.durationH) return s.deltaC;
  const after = t - s.rampH - s.durationH;
  return after < s.rampH ? s.deltaC * (1 - after / s.rampH) : 0;
}
