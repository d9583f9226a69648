import type { RulesConfig } from '../config/rules-schema.ts';
import type { Logger } from '../core/log.ts';
import { POSITION_CLASSES } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import type { JudgedForecast } from './forecast-tracker.ts';
import { TickPlanner } from './incremental.ts';
import type { SupplyExpectation } from './meter-watch.ts';
import { ConditionTracker, type Entry } from './tracker.ts';
import type { Finding, Observation, RuleContext, RuleNode } from './types.ts';
import { type BuildingPicture, buildingPicture, type LiveView } from './view.ts';

const HOUR_MS = 3_600_000;

/** What a tick's evaluation needs besides the live view: thresholds, time and the learnt values. */
export interface EvaluationInput {
  cfg: RulesConfig;
  now: number;
  normalGapC: number;
  /** A building's own normal gap (°C), learnt from its history with the network value as prior. */
  positionGapC?(buildingId: string): number;
  forecast?: JudgedForecast;
  recentOutdoor?: { meanC: number; minC: number };
  lagH(substationId: string): number;
  supply?(substationId: string): SupplyExpectation | undefined;
}

/**
 * Evaluation, tick → findings: runs every enabled rule on the live view, keeps the sensors a rule
 * excludes out of the others, and passes the observations through hysteresis, minimum duration and
 * flapping detection (ConditionTracker). Incremental by default: a tick judges only the buildings
 * whose judgement may have changed and keeps the others' pictures (TickPlanner); `full` judges
 * every building on every tick (the reference the incremental tick is tested against).
 */
export class Evaluator {
  readonly tracker = new ConditionTracker();
  private readonly excludedUntil = new Map<string, number>();
  private readonly planner: TickPlanner;

  constructor(
    private readonly live: LiveView,
    private readonly nodes: readonly RuleNode[],
    private readonly log: Logger,
    mode: 'incremental' | 'full' = 'incremental',
  ) {
    this.planner = new TickPlanner(live, mode === 'incremental');
  }

  /** A rule context whose building pictures and sensor lists are read once per tick. */
  context(inp: EvaluationInput): RuleContext {
    const excluded = new Set<string>();
    const plan = this.planner.plan(inp.cfg, inp.now, this.tracker, this.excludedUntil);
    // Pictures of buildings this tick does not judge are kept from the tick that did.
    const pictures: Map<string, BuildingPicture> = this.planner.pictures;
    const sensorLists = new Map<string, SensorLive[]>();
    const weights = { ...inp.cfg.buildingCold.classWeights };
    for (const c of POSITION_CLASSES) weights[c] ??= 1;
    const ctx: RuleContext = {
      cfg: inp.cfg,
      now: inp.now,
      normalGapC: inp.normalGapC,
      positionGapC: inp.positionGapC ?? (() => inp.normalGapC),
      excludedSensors: excluded,
      recentOutdoor: inp.recentOutdoor,
      forecast: inp.forecast,
      lagH: inp.lagH,
      supply: inp.supply,
      buildings: plan.buildings,
      substations: plan.substations,
      picture: (b) => {
        let p = pictures.get(b);
        if (!p) {
          p = buildingPicture(this.live, b, inp.now, weights, excluded, ctx.sensors(b));
          pictures.set(b, p);
        }
        return p;
      },
      // Live state does not change within a tick (nothing awaits before applyDue), so one read serves all.
      sensors: (b) => {
        let list = sensorLists.get(b);
        if (!list) {
          list = this.live.buildingSensors(b);
          sensorLists.set(b, list);
        }
        return list;
      },
      tracked: (rule, targetId) => this.tracker.has(rule, targetId),
    };
    return ctx;
  }

  /** Runs the rules in order (sensor exclusions first) and returns the conditions now active or flapping. */
  run(ctx: RuleContext): Finding[] {
    const { cfg, now } = ctx;
    for (const node of this.nodes) {
      if (!node.enabled(cfg)) continue;
      let obs: Observation[];
      try {
        obs = node.evaluate(this.live, ctx);
      } catch (err) {
        this.log.error({ err, rule: node.id }, 'rule failed; the others still run');
        continue;
      }
      const exclude = node.meaning?.excludeSensorUntil;
      if (exclude) this.updateExclusions(obs, now, cfg, exclude, ctx.excludedSensors as Set<string>);
      this.tracker.update(obs, now, {
        minDurationMs: node.minDurationS(cfg) * 1000,
        maxRaises: cfg.flapping.maxRaises,
        windowMs: cfg.flapping.windowH * HOUR_MS,
      });
    }
    this.tracker.expire(now, 2 * cfg.tick.intervalS * 1000 + HOUR_MS);
    this.planner.settle(cfg, now, ctx.buildings, ctx.sensors, ctx.excludedSensors);
    return this.tracker.findings();
  }

  private updateExclusions(
    obs: Observation[],
    now: number,
    cfg: RulesConfig,
    until: (o: Observation, now: number, cfg: RulesConfig) => number,
    excluded: Set<string>,
  ): void {
    for (const o of obs) {
      if (o.level !== 'raise') continue;
      const t = until(o, now, cfg);
      if ((this.excludedUntil.get(o.targetId) ?? 0) < t) this.excludedUntil.set(o.targetId, t);
    }
    for (const [id, t] of this.excludedUntil) {
      if (t >= now) excluded.add(id);
      else this.excludedUntil.delete(id);
    }
  }

  excludedAt(now: number): string[] {
    return [...this.excludedUntil].filter(([, t]) => t > now).map(([id]) => id);
  }

  /** Whether a rule's condition on a target is active now (re-checks of field tasks ask this). */
  isActive(rule: string, targetId: string): boolean {
    return this.tracker.phaseOf(rule, targetId)?.phase === 'active';
  }

  snapshot(): { conditions: Array<[string, Entry]>; excludedUntil: Array<[string, number]> } {
    return { conditions: this.tracker.snapshot(), excludedUntil: [...this.excludedUntil] };
  }

  restore(s: { conditions: Array<[string, Entry]>; excludedUntil: Array<[string, number]> }): void {
    this.planner.reset();
    this.tracker.restore(s.conditions);
    this.excludedUntil.clear();
    for (const [k, v] of s.excludedUntil) this.excludedUntil.set(k, v);
  }
}
