import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { HeatEvents } from '../core/events.ts';
import type { HouseholdsStore } from './store.ts';
import type { HouseholdCase, Measurement } from './types.ts';

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

/** One case with its history, complaints, tasks, work orders and the measurements beside its sensor. */
export async function caseDetail(
  s: HouseholdsStore,
  k: HouseholdCase,
  sensorTempC: number | undefined,
  cfg: HouseholdsConfig,
) {
  const measurements = await s.measurements({ unitKey: k.unitKey });
  return {
    case: k,
    events: await s.caseEvents(k.id),
    complaints: await s.complaints({ caseId: k.id }),
    tasks: await s.tasks({ caseId: k.id }),
    measurements,
    workOrders: await s.workOrders({ caseId: k.id }),
    sensorTempC,
    sensorBias: k.sensorId ? biasOf(k.sensorId, measurements, cfg.measurements) : undefined,
  };
}

/** The sensor's bias alert, when its measurements show one. */
export function biasAlert(
  sensorId: string,
  ms: readonly Measurement[],
  ctx: { cfg: HouseholdsConfig; now: number },
): HeatEvents['alert'] | undefined {
  const b = biasOf(sensorId, ms, ctx.cfg.measurements);
  if (!b) return undefined;
  return {
    key: `sensor-bias:${sensorId}`,
    severity: 'warning',
    message: `sensor ${sensorId} reads ${b.biasC > 0 ? '+' : ''}${b.biasC} °C against ${b.measurements} in-home measurements`,
    active: true,
    ts: ctx.now,
  };
}
