import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Finding, RuleNode } from './types.ts';

/**
 * Announces single cold flats to households (`unitFinding`): `cold` when a cold-flat finding
 * becomes active, `cleared` when it goes. The engine calls `update` with each tick's findings; a
 * restart announces the active ones again, which households join to the open case (idempotent).
 */
export class UnitFindingAnnouncer {
  private readonly active = new Map<string, Finding>();

  /** The rules whose findings are single cold flats (`meaning.coldFlat`). */
  private readonly coldFlatRules: ReadonlySet<string>;

  constructor(
    private readonly bus: EventBus<HeatEvents> | undefined,
    nodes: readonly RuleNode[],
  ) {
    this.coldFlatRules = new Set(nodes.filter((n) => n.meaning?.coldFlat).map((n) => n.id));
  }

  update(findings: readonly Finding[], now: number): void {
    if (!this.bus) return;
    const seen = new Set<string>();
    for (const f of findings) {
      if (!this.coldFlatRules.has(f.rule)) continue; // active or flapping: the flat is cold either way
      seen.add(f.targetId);
      if (!this.active.has(f.targetId)) this.emit('cold', f, f.sinceTs, now);
      this.active.set(f.targetId, f);
    }
    for (const [id, f] of this.active) {
      if (seen.has(id)) continue;
      this.active.delete(id);
      this.emit('cleared', f, now, now);
    }
  }

  private emit(kind: 'cold' | 'cleared', f: Finding, sinceTs: number, now: number): void {
    const e = f.evidence as { buildingId?: string; floor?: number; column?: number; tempC?: number };
    if (e.buildingId === undefined || e.floor === undefined || e.column === undefined) return;
    this.bus?.emit('unitFinding', {
      kind,
      sensorId: f.targetId,
      buildingId: e.buildingId,
      substationId: f.substationId,
      floor: e.floor,
      column: e.column,
      tempC: e.tempC ?? f.valueC,
      sinceTs,
      ts: now,
      rule: f.rule,
    });
  }
}
