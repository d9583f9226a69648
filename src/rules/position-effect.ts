import type { RulesConfig } from '../config/rules-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { ResponseLearner } from './response-learner.ts';
import type { Finding, RuleNode } from './types.ts';
import type { BuildingPicture } from './view.ts';

const HOUR_MS = 3_600_000;

/**
 * The normal middle − exposed gap (docs/domain.md: top, ground and gable units lose more heat). The
 * network value is measured across healthy buildings (median, robust to the few unbalanced ones) and
 * blended with the configured prior by its weight in buildings. Each building also learns its own
 * from its hourly gaps while no imbalance is raised or pending on it (the response learner keeps
 * them); its normal gap is its own blended with the network value by samples (`gapOf`).
 */
export class PositionEffect {
  normalGapC: number;
  /** The hour each building's gap was last learnt from. */
  private readonly learntHour = new Map<string, number>();

  constructor(
    private readonly nodes: readonly RuleNode[],
    priorGapC: number,
    private readonly learner: ResponseLearner,
  ) {
    this.normalGapC = priorGapC;
  }

  /** The normal gap of one building, °C: its own history blended with the network value. */
  gapOf(buildingId: string): number {
    return this.learner.positionGap(buildingId, this.normalGapC).gapC;
  }

  learn(
    cfg: RulesConfig,
    index: RegistryIndex,
    findings: readonly Finding[],
    picture: (b: string) => BuildingPicture,
    now: number,
    tracked: (rule: string, targetId: string) => boolean,
  ): void {
    const c = cfg.imbalanceInside;
    const unhealthy = this.nodes.filter((n) => n.meaning?.unhealthyBuilding).map((n) => n.id);
    const sick = new Set(findings.filter((f) => unhealthy.includes(f.rule)).map((f) => f.targetId));
    const gaps: number[] = [];
    const hour = Math.floor(now / HOUR_MS);
    for (const b of index.buildings.values()) {
      if (sick.has(b.id)) continue;
      const p = picture(b.id);
      if (p.exposedMeanC === undefined || p.middleMeanC === undefined) continue;
      const gapC = p.middleMeanC - p.exposedMeanC;
      gaps.push(gapC);
      // Its own: once an hour, and not while a condition is pending on it either.
      if (this.learntHour.get(b.id) === hour || unhealthy.some((r) => tracked(r, b.id))) continue;
      this.learntHour.set(b.id, hour);
      this.learner.learnPosition(b.id, gapC);
    }
    this.learner.flushPositions();
    if (gaps.length === 0) {
      this.normalGapC = c.priorGapC;
      return;
    }
    gaps.sort((a, b) => a - b);
    const med = gaps[gaps.length >> 1]!;
    this.normalGapC =
      (c.priorGapC * c.priorWeightBuildings + med * gaps.length) / (c.priorWeightBuildings + gaps.length);
  }
}
