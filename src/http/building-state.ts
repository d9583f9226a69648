import type { BuildingState } from '../core/events.ts';
import type { BuildingStats } from '../state/live-state.ts';
import type { BuildingStateView, LiveView } from './ports.ts';

export interface FallbackThresholds {
  requiredTempC: number;
  toleranceC: number;
  /** Mean above this counts as over-heated (wasting heat, DOMAIN.md). */
  overheatedAboveC: number;
  /** Exposed units this much colder than middle units count as unbalanced (DOMAIN.md "imbalance"). */
  imbalanceGapC: number;
  /** Below this share of fresh sensors the building's picture is stale. */
  minFreshShare: number;
}

/**
 * The dashboard colour of each building. The rules engine announces changes on the bus
 * (`buildingStatus`); the last announced state wins. Until the rules have spoken about a building,
 * a plain judgement of its live statistics stands in, so a fresh start is not all grey.
 */
export class BuildingStates implements BuildingStateView {
  private announced = new Map<string, BuildingState>();

  constructor(
    private readonly live: LiveView,
    private readonly t: FallbackThresholds,
  ) {}

  announce(buildingId: string, state: BuildingState): void {
    this.announced.set(buildingId, state);
  }

  /** `stats`: the building's statistics when the caller has them already (saves a second pass). */
  stateOf(buildingId: string, now: number, stats?: BuildingStats): BuildingState {
    return this.announced.get(buildingId) ?? this.judge(buildingId, now, stats);
  }

  judge(buildingId: string, now: number, stats?: BuildingStats): BuildingState {
    const s = stats ?? this.live.buildingStats(buildingId, now);
    if (!s || s.sensors === 0 || s.meanC === undefined || s.fresh / s.sensors < this.t.minFreshShare)
      return 'stale';
    const line = this.t.requiredTempC - this.t.toleranceC;
    if (s.meanC < line) return 'cold';
    if (
      s.exposedMeanC !== undefined &&
      s.middleMeanC !== undefined &&
      s.middleMeanC - s.exposedMeanC >= this.t.imbalanceGapC
    )
      return 'unbalanced';
    if (s.minC !== undefined && s.minC < line && s.meanC >= line) return 'unbalanced';
    if (s.meanC > this.t.overheatedAboveC) return 'overheated';
    return 'ok';
  }
}
