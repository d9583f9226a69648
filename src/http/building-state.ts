import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { BuildingStats } from '../state/live-state.ts';
import type { BuildingStateView, LiveView } from './ports.ts';

export interface FallbackThresholds {
  requiredTempC: number;
  toleranceC: number;
  /** Mean above this counts as over-heated (wasting heat, docs/domain.md). */
  overheatedAboveC: number;
  /** Exposed units this much colder than middle units count as unbalanced (docs/domain.md "imbalance"). */
  imbalanceGapC: number;
  /** Below this share of fresh sensors the building's picture is stale. */
  minFreshShare: number;
}

export interface JudgeTiming {
  /** Buildings that received readings are judged again this often. */
  judgeIntervalMs: number;
  /** Every building is judged this often (readings going stale change state without any event). */
  fullJudgeIntervalMs: number;
}

/**
 * The dashboard colour of each building, and the `buildingStatus` events the live stream carries.
 * A state announced on the bus by another module (the rules engine, when it judges buildings) wins.
 * Otherwise the building's live statistics are judged against the rules thresholds, and a change is
 * announced on the bus, so the stream shows cold, unbalanced, over-heated and stale as they happen.
 */
export class BuildingStates implements BuildingStateView {
  private announced = new Map<string, BuildingState>();
  private judged = new Map<string, BuildingState>();
  private dirty = new Set<string>();
  private timers: TimerHandle[] = [];
  private offs: Array<() => void> = [];
  private emitting = false;

  constructor(
    private readonly live: LiveView,
    private readonly t: FallbackThresholds,
    private readonly bus: EventBus<HeatEvents>,
    private readonly clock: Clock,
    private readonly wallClock: Clock,
    private readonly timing: JudgeTiming,
  ) {}

  start(): void {
    const now = this.clock.now();
    for (const id of this.live.index.buildings.keys()) this.judged.set(id, this.judge(id, now));
    this.offs.push(
      this.bus.on('buildingStatus', 'http-states', (s) => {
        if (!this.emitting) this.announced.set(s.buildingId, s.state);
      }),
      this.bus.on('roomReadings', 'http-states', (rs) => {
        for (const r of rs) this.dirty.add(r.buildingId);
      }),
    );
    this.timers.push(
      this.wallClock.setInterval(() => this.pass([...this.dirty]), this.timing.judgeIntervalMs),
      this.wallClock.setInterval(
        () => this.pass([...this.live.index.buildings.keys()]),
        this.timing.fullJudgeIntervalMs,
      ),
    );
  }

  stop(): void {
    for (const t of this.timers) t.cancel();
    for (const off of this.offs) off();
    this.timers = [];
    this.offs = [];
  }

  /** `stats`: the building's statistics when the caller has them already (saves a second pass). */
  stateOf(buildingId: string, now: number, stats?: BuildingStats): BuildingState {
    return this.announced.get(buildingId) ?? this.judge(buildingId, now, stats);
  }

  /** Judges the given buildings now and announces those whose state changed. */
  pass(ids: readonly string[]): void {
    const now = this.clock.now();
    for (const id of ids) {
      this.dirty.delete(id);
      if (this.announced.has(id) || !this.live.index.buildings.has(id)) continue;
      const state = this.judge(id, now);
      const previous = this.judged.get(id);
      if (state === previous) continue;
      this.judged.set(id, state);
      this.emitting = true;
      try {
        this.bus.emit('buildingStatus', { buildingId: id, state, previous, ts: now });
      } finally {
        this.emitting = false;
      }
    }
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
    if (s.minC !== undefined && s.minC < line) return 'unbalanced';
    if (s.meanC > this.t.overheatedAboveC) return 'overheated';
    return 'ok';
  }
}
