import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { Measurement } from './types.ts';

export interface SensorBias {
  sensorId: string;
  biasC: number;
  measurements: number;
}

/** Bias: the last N measurements beside a sensor all differ from it by more than the threshold, one way. */
export function biasOf(
  sensorId: string,
  ms: readonly Measurement[],
  cfg: HouseholdsConfig['measurements'],
): SensorBias | undefined {
  const diffs = ms.filter((m) => m.sensorTempC !== undefined).map((m) => m.sensorTempC! - m.tempC);
  const last = diffs.slice(-cfg.biasMinMeasurements);
  if (last.length < cfg.biasMinMeasurements) return undefined;
  const sameSide = last.every((d) => d > cfg.biasThresholdC) || last.every((d) => d < -cfg.biasThresholdC);
  if (!sameSide) return undefined;
  return {
    sensorId,
    biasC: Math.round((last.reduce((a, b) => a + b, 0) / last.length) * 10) / 10,
    measurements: last.length,
  };
}
