/**
 * The simulated network's outdoor temperature (firmware-sim/physics.ts): a daily cycle, smooth seeded
 * variation, and scripted cold spells; and the weather service's forecast of it.
 */
import type { ColdSpell, SimConfig } from '../src/config/sim-schema.ts';
import { smoothNoise } from './random.ts';

export const HOUR_MS = 3_600_000;

export interface SimForecast {
  issued: number;
  points: Array<{ ts: number; outdoorTempC: number }>;
}

export class SimWeather {
  /** Every random choice follows the scenario's seed (config/sim.yaml `seed`). */
  private readonly seed: number;

  constructor(
    private readonly cfg: SimConfig,
    private readonly startMs: number,
  ) {
    this.seed = cfg.seed;
  }

  /**
   * The weather service's view of the next hours: the scripted profile (daily cycle and cold spells
   * are known ahead), the current anomaly fading out, and a seeded error growing with the horizon.
   */
  forecast(issued: number): SimForecast {
    const w = this.cfg.weather;
    const anomaly = this.noiseAt(issued);
    const firstHour = Math.ceil(issued / HOUR_MS) * HOUR_MS;
    const points: SimForecast['points'] = [];
    const issueKey = Math.floor(issued / HOUR_MS);
    for (let k = 0; k < w.forecastHorizonH; k++) {
      const ts = firstHour + k * HOUR_MS;
      const aheadH = (ts - issued) / HOUR_MS;
      const err =
        w.forecastErrorC * Math.sqrt(aheadH / 72) * smoothNoise(this.seed, `fc${issueKey}`, aheadH, 12);
      const value = this.scriptedAt(ts) + anomaly * Math.exp(-aheadH / w.noiseHours) + err;
      points.push({ ts, outdoorTempC: Math.round(value * 10) / 10 });
    }
    return { issued, points };
  }

  outdoorAt(ms: number): number {
    return this.scriptedAt(ms) + this.noiseAt(ms);
  }

  private coldSpellAt(ms: number): number {
    const h = (ms - this.startMs) / HOUR_MS;
    let depth = 0;
    for (const spell of this.cfg.weather.coldSpells) depth += spellDepth(spell, h);
    return depth;
  }

  /** Normal profile (mean + daily cycle) minus scripted cold spells: what a forecaster knows. */
  private scriptedAt(ms: number): number {
    const w = this.cfg.weather;
    const hourOfDay = (ms / HOUR_MS) % 24;
    const daily = w.dailyAmplitudeC * Math.cos((2 * Math.PI * (hourOfDay - w.warmestHour)) / 24);
    return w.meanC + daily - this.coldSpellAt(ms);
  }

  private noiseAt(ms: number): number {
    const w = this.cfg.weather;
    return w.noiseC * smoothNoise(this.seed, 'weather', ms / HOUR_MS, w.noiseHours);
  }
}

/** Depth of one cold spell `h` hours after the start: ramp down, hold, ramp up. */
export function spellDepth(spell: ColdSpell, h: number): number {
  const t = h - spell.startH;
  if (t <= 0) return 0;
  const ramp = spell.rampH;
  if (t < ramp) return (spell.depthC * t) / ramp;
  if (t <= ramp + spell.durationH) return spell.depthC;
  const after = t - ramp - spell.durationH;
  if (after < ramp) return spell.depthC * (1 - after / ramp);
  return 0;
}
