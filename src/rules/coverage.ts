import { type RegistryIndex, samplingCoverage } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import { Observations } from './observations.ts';
import type { RuleNode } from './types.ts';
import { round2 } from './view.ts';

/** The sampling rule's verdict per building, a fact of the registry: worked out once per registry version. */
const sampled = new WeakMap<RegistryIndex, Map<string, ReturnType<typeof samplingCoverage>>>();
function samplingOf(index: RegistryIndex, buildingId: string): ReturnType<typeof samplingCoverage> {
  let byBuilding = sampled.get(index);
  if (!byBuilding) {
    byBuilding = new Map();
    sampled.set(index, byBuilding);
  }
  let s = byBuilding.get(buildingId);
  if (!s) {
    s = samplingCoverage(index.sensorsByBuilding.get(buildingId) ?? []);
    byBuilding.set(buildingId, s);
  }
  return s;
}

/**
 * Whether a building's sensors can be trusted to represent it: the 40 % sampling rule of docs/domain.md
 * (top, ground and gable units at least 40 % of the sample, every class covered) and the share of its sensors that
 * are online and fresh. A building that fails it is still judged, but its ticket says why to doubt.
 */
export const coverage: RuleNode = {
  id: 'coverage',
  meaning: { buildingState: 'stale', resolves: 'coverage' },
  enabled: (cfg) => cfg.coverage.enabled,
  minDurationS: (cfg) => cfg.coverage.minDurationS,
  evaluate(view, ctx) {
    const c = ctx.cfg.coverage;
    const out = new Observations(ctx, this.id, 'building');
    for (const b of ctx.buildings) {
      const sensors = ctx.sensors(b.id);
      const sampling = samplingOf(view.index, b.id);
      const samplingOk = sampling.exposedShare >= c.minExposedShare && sampling.missingClasses.length === 0;
      const isOffline = (s: SensorLive) => !view.isOnline(s, ctx.now) || !view.isFresh(s, ctx.now);
      let offlineCount = 0;
      for (const s of sensors) if (isOffline(s)) offlineCount++;
      const freshShare = sensors.length > 0 ? 1 - offlineCount / sensors.length : 0;
      const level =
        !samplingOk || freshShare < c.minFreshShare
          ? 'raise'
          : freshShare >= c.clearFreshShare
            ? 'clear'
            : 'hold';
      out.add(b.id, b.substationId, level, freshShare, () => ({
        sensors: sensors.length,
        exposedShare: round2(sampling.exposedShare),
        missingClasses: sampling.missingClasses,
        minExposedShare: c.minExposedShare,
        freshShare: round2(freshShare),
        minFreshShare: c.minFreshShare,
        offlineSensors: sensors
          .filter(isOffline)
          .slice(0, 20)
          .map((s) => s.info.sensor.id),
      }));
    }
    return out.list;
  },
};
