import type { RulesConfig } from '../config/rules-schema.ts';
import type { Building, RegistryIndex } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import type { ConditionTracker } from './tracker.ts';
import type { BuildingPicture, LiveView } from './view.ts';

const HOUR_MS = 3_600_000;

/** What one tick judges: every building (a full evaluation) or only those whose inputs may have moved. */
export interface TickPlan {
  full: boolean;
  /** In registry order, so observations (and the tracker's findings) come in the order a full tick gives. */
  buildings: Building[];
  /** Substations with a judged building or a condition of their own, in registry order. */
  substations: Array<[string, Building[]]>;
}

/**
 * Incremental evaluation (docs/rules.md "Incremental evaluation"): a tick judges again only the
 * buildings whose judgement may differ from the last one —
 * - one of its sensors reported or changed status since the last tick (the live state's stamps);
 * - a time-driven condition of one of its sensors falls due (fresh → stale, online → offline, a
 *   value unchanged long enough to be stuck), or a sensor's exclusion ran out;
 * - the tracker holds a condition on it or one of its units (minimum durations, hysteresis and
 *   flapping need an observation every tick, as in a full evaluation);
 * and keeps every other building's picture from the tick that judged it. Everything else is judged
 * in full: the first tick, a new registry, new rules, a restored checkpoint, a clock that went back,
 * or a live view without stamps. A building left out would have given no observation in a full
 * evaluation either (it was not raised, and nothing it depends on changed), so the findings are the
 * same; test/rules/incremental.test.ts runs both side by side.
 */
export class TickPlanner {
  private index: RegistryIndex | undefined;
  private cfg: RulesConfig | undefined;
  private version = -1;
  private lastNow = Number.NEGATIVE_INFINITY;
  /** When each building (by ordinal) next needs judging for time alone. */
  private due = new Float64Array(0);
  private excludedBefore = new Set<string>();
  /** The picture of each building as last judged. */
  readonly pictures = new Map<string, BuildingPicture>();

  constructor(
    private readonly live: LiveView,
    private readonly incremental: boolean,
  ) {}

  /** Forget everything: the next tick is judged in full (a restored checkpoint). */
  reset(): void {
    this.index = undefined;
  }

  plan(
    cfg: RulesConfig,
    now: number,
    tracker: ConditionTracker,
    excludedUntil: ReadonlyMap<string, number>,
  ): TickPlan {
    const index = this.live.index;
    const version = this.live.version;
    const full =
      !this.incremental ||
      version === undefined ||
      !this.live.buildingStamp ||
      index !== this.index ||
      cfg !== this.cfg ||
      now < this.lastNow;
    if (full) {
      this.pictures.clear();
      this.due = new Float64Array(index.buildingOrdinal.size);
    }
    const pick = full ? undefined : this.changed(index, now, tracker, excludedUntil);
    const buildings: Building[] = [];
    for (const b of index.buildings.values()) {
      if (pick && !pick.buildings.has(b.id)) continue;
      buildings.push(b);
      this.pictures.delete(b.id);
    }
    const substations: Array<[string, Building[]]> = [];
    const touched = new Set(buildings.map((b) => b.substationId));
    for (const entry of index.buildingsBySubstation)
      if (!pick || touched.has(entry[0]) || pick.substations.has(entry[0])) substations.push(entry);
    this.index = index;
    this.cfg = cfg;
    this.version = version ?? -1;
    this.lastNow = now;
    return { full, buildings, substations };
  }

  /** After the rules ran: when each judged building next falls due for time alone. */
  settle(
    cfg: RulesConfig,
    now: number,
    judged: readonly Building[],
    sensors: (b: string) => SensorLive[],
    excluded: ReadonlySet<string>,
  ): void {
    this.excludedBefore = new Set(excluded);
    if (!this.live.freshForMs) return;
    const stuckMs = cfg.sensorHealth.stuckAfterH * HOUR_MS;
    for (const b of judged) {
      let due = Number.POSITIVE_INFINITY;
      for (const s of sensors(b.id)) {
        // One millisecond early: waking a building early costs a judgement, waking it late a finding.
        const win = this.live.freshForMs(s.info) - 1;
        if (s.ts !== undefined && this.live.isFresh(s, now)) {
          due = Math.min(due, s.ts + win);
          // Stuck once unchanged for stuckAfterH; a sensor already stuck stays so until it reports.
          const stuckAt = s.unchangedSince === undefined ? Number.NaN : s.unchangedSince + stuckMs - 1;
          if (stuckAt > now) due = Math.min(due, stuckAt);
        }
        if (s.lastSeenTs !== undefined && this.live.isOnline(s, now)) due = Math.min(due, s.lastSeenTs + win);
      }
      const o = this.index?.buildingOrdinal.get(b.id);
      if (o !== undefined) this.due[o] = due;
    }
  }

  /** The buildings and substations an incremental tick must judge. */
  private changed(
    index: RegistryIndex,
    now: number,
    tracker: ConditionTracker,
    excludedUntil: ReadonlyMap<string, number>,
  ): { buildings: Set<string>; substations: Set<string> } {
    const buildings = new Set<string>();
    const substations = new Set<string>();
    for (const [id, o] of index.buildingOrdinal)
      if (this.live.buildingStamp!(id) > this.version || this.due[o]! <= now) buildings.add(id);
    for (const t of tracker.targets()) {
      if (t.targetKind === 'building') buildings.add(t.targetId);
      else if (t.targetKind === 'unit') {
        const b = index.sensors.get(t.targetId)?.building.id;
        if (b !== undefined) buildings.add(b);
      } else substations.add(t.targetId);
    }
    // A sensor left out last tick whose exclusion has run out comes back into its building's picture.
    for (const id of this.excludedBefore) {
      if ((excludedUntil.get(id) ?? Number.NEGATIVE_INFINITY) >= now) continue;
      const b = index.sensors.get(id)?.building.id;
      if (b !== undefined) buildings.add(b);
    }
    return { buildings, substations };
  }
}
