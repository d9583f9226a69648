import type { RulesConfig } from '../config/rules-schema.ts';
import type { BuildingState } from '../core/events.ts';
import type { Building } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import type { Problem } from '../tickets/types.ts';
import type { JudgedForecast } from './forecast-tracker.ts';
import type { SupplyExpectation } from './meter-watch.ts';
import type { BuildingPicture, LiveView } from './view.ts';

/** What a proposal or a ticket is about. */
export type TargetKind = 'unit' | 'building' | 'substation';

/**
 * One rule's judgement of one target at one instant. `raise`: beyond the raise threshold; `clear`:
 * back beyond the separate clear threshold; `hold`: in the hysteresis band between them, which
 * keeps whatever state the condition is in.
 */
export type Level = 'raise' | 'hold' | 'clear';

export interface Observation {
  rule: string;
  targetKind: TargetKind;
  targetId: string;
  substationId: string;
  level: Level;
  /** The measured quantity the thresholds are compared with. */
  valueC: number;
  /** Evidence for the ticket: class means, the cold units, thresholds that fired. */
  evidence: Record<string, unknown>;
}

/** Context a rule may use besides the live view: thresholds, the learnt position effect, time. */
export interface RuleContext {
  cfg: RulesConfig;
  now: number;
  /** Normal middle − exposed gap (°C) the engine measured and blended with the prior. */
  normalGapC: number;
  /** A building's normal gap (°C): its own learnt history blended with `normalGapC` (docs/rules.md). */
  positionGapC(buildingId: string): number;
  /** Sensors to leave out of temperature rules right now (open window, stuck). */
  excludedSensors: ReadonlySet<string>;
  /** What a substation's supply should be now beside what its meter measures (none: no fresh reading). */
  supply?(substationId: string): SupplyExpectation | undefined;
  /** Response lag per substation for lead times, hours. */
  lagH(substationId: string): number;
  /** The latest forecast, corrected for its source's bias, with how many issues in a row showed a spell. */
  forecast?: JudgedForecast;
  /** Observed outdoor temperature over the last 24 h (the cold-spell baseline), if known. */
  recentOutdoor?: { meanC: number; minC: number };
  /**
   * The buildings this tick judges, in registry order: every building in a full evaluation; in an
   * incremental one only those whose judgement may have changed (src/rules/incremental.ts). A rule
   * that reads only its building's own sensors and pictures iterates these; one that reads a value
   * learnt over all buildings (the normal gap) iterates the whole index.
   */
  buildings: readonly Building[];
  /** The substations with a judged building, or a condition of their own, with all their buildings. */
  substations: ReadonlyArray<readonly [string, Building[]]>;
  /** The building's fresh, non-excluded units with class means (computed once per tick). */
  picture(buildingId: string): BuildingPicture;
  /** The building's live sensors (read once per tick and shared by the rules). */
  sensors(buildingId: string): SensorLive[];
  /**
   * Whether the tracker holds a condition of `rule` on `targetId`. The tracker drops a `hold` or
   * `clear` of a target it holds nothing for, so a rule reports those only when this is true and
   * builds no observation (nor evidence) for the many targets that are simply fine.
   */
  tracked(rule: string, targetId: string): boolean;
}

/** The line below which a unit is cold: required temperature minus the measurement tolerance. */
export const coldLineC = (cfg: RulesConfig): number => cfg.requiredTempC - cfg.toleranceC;

/**
 * One rule, one small unit (ThingsBoard rule-node shape): a name, the config section it reads
 * (with defaults from the schema), and a pure `evaluate` of the live view at `now`.
 */
export interface RuleNode {
  readonly id: string;
  /** What the rule's findings mean to the rest of the engine (no other file names rule ids). */
  readonly meaning?: RuleMeaning;
  enabled(cfg: RulesConfig): boolean;
  minDurationS(cfg: RulesConfig): number;
  evaluate(view: LiveView, ctx: RuleContext): Observation[];
}

/** What a rule's findings mean beyond the rule itself. */
export interface RuleMeaning {
  /** The dashboard colour of a building this rule has a finding on (`BUILDING_STATE_ORDER` ranks them). */
  buildingState?: BuildingState;
  /** Its raised targets are sensors left out of the temperature rules until the time returned. */
  excludeSensorUntil?(o: Observation, now: number, cfg: RulesConfig): number;
  /** A building with this finding is not healthy: it does not count when the normal gap is measured. */
  unhealthyBuilding?: boolean;
  /** A ticket of this problem is resolved at its re-check once this rule is no longer active on it. */
  resolves?: Problem;
  /** Its findings are single cold flats, handed to households as `unitFinding` (never more supply). */
  coldFlat?: boolean;
}

/** The most severe colour wins when several rules speak of one building. */
export const BUILDING_STATE_ORDER: readonly BuildingState[] = ['cold', 'unbalanced', 'stale', 'overheated'];

/** A condition that passed its minimum duration (or is flapping), as the diagnosis sees it. */
export interface Finding extends Observation {
  state: 'active' | 'flapping';
  sinceTs: number;
  /** When a rule last judged the target; older than the tick: the evidence is stale. */
  seenTs?: number;
  /** What crossed the raise threshold when the condition became active (issue #20 item 4). */
  fired?: { ts: number; valueC: number; evidence: Record<string, unknown> };
}
