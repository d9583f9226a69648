import type { Level, Observation, RuleContext, TargetKind } from './types.ts';
import type { UnitTemp } from './view.ts';

/**
 * A rule's observations of one kind of target in one evaluation. A target that does not raise and
 * that the tracker holds nothing for (RuleContext.tracked) has nothing to report, so `add` skips it
 * before its evidence is built: the many targets that are simply fine cost no evidence.
 */
export class Observations {
  readonly list: Observation[] = [];

  constructor(
    private readonly ctx: RuleContext,
    private readonly rule: string,
    private readonly targetKind: TargetKind,
  ) {}

  add(
    targetId: string,
    substationId: string,
    level: Level,
    valueC: number,
    evidence: () => Record<string, unknown>,
  ): void {
    if (level !== 'raise' && !this.ctx.tracked(this.rule, targetId)) return;
    this.list.push({
      rule: this.rule,
      targetKind: this.targetKind,
      targetId,
      substationId,
      level,
      valueC,
      evidence: evidence(),
    });
  }
}

/**
 * The observations of a rule on single units' temperatures: every fresh unit of the judged buildings,
 * its level from its temperature, its evidence the unit's place and what `evidence` adds.
 */
export function unitObservations(
  ctx: RuleContext,
  rule: string,
  levelOf: (tempC: number) => Level,
  evidence: (u: UnitTemp) => Record<string, unknown>,
): Observation[] {
  const out = new Observations(ctx, rule, 'unit');
  for (const b of ctx.buildings) {
    for (const u of ctx.picture(b.id).units) {
      out.add(u.sensorId, b.substationId, levelOf(u.tempC), u.tempC, () => ({
        buildingId: b.id,
        floor: u.floor,
        column: u.column,
        ...evidence(u),
      }));
    }
  }
  return out.list;
}
