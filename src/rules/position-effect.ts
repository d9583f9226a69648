import type { RulesConfig } from '../config/rules-schema.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { Finding, RuleNode } from './types.ts';
import type { BuildingPicture } from './view.ts';

/**
 * The normal middle − exposed gap (docs/domain.md: top, ground and gable units lose more heat), measured
 * across healthy buildings (median, robust to the few unbalanced ones) and blended with the
 * configured prior by its weight in buildings.
 */
export class PositionEffect {
  normalGapC: number;

  constructor(
    private readonly nodes: readonly RuleNode[],
    priorGapC: number,
  ) {
    this.normalGapC = priorGapC;
  }

  learn(
    cfg: RulesConfig,
    index: RegistryIndex,
    findings: readonly Finding[],
    picture: (b: string) => BuildingPicture,
  ): void {
    const c = cfg.imbalanceInside;
    const unhealthy = new Set(this.nodes.filter((n) => n.meaning?.unhealthyBuilding).map((n) => n.id));
    const sick = new Set(findings.filter((f) => unhealthy.has(f.rule)).map((f) => f.targetId));
    const gaps: number[] = [];
    for (const b of index.buildings.values()) {
      if (sick.has(b.id)) continue;
      const p = picture(b.id);
      if (p.exposedMeanC !== undefined && p.middleMeanC !== undefined)
        gaps.push(p.middleMeanC - p.exposedMeanC);
    }
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
