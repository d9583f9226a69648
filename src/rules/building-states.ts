import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { RegistryIndex } from '../core/registry.ts';
import { BUILDING_STATE_ORDER, type Finding, type RuleNode } from './types.ts';

/**
 * The rules' judgement of each building in the dashboard's colours: each rule declares the colour
 * its findings give a building; the most severe wins. Changes are announced as `buildingStatus`.
 */
export class BuildingStates {
  private readonly states = new Map<string, BuildingState>();

  constructor(
    private readonly nodes: readonly RuleNode[],
    private readonly bus?: EventBus<HeatEvents>,
  ) {}

  stateOf(buildingId: string): BuildingState {
    return this.states.get(buildingId) ?? 'ok';
  }

  update(index: RegistryIndex, findings: readonly Finding[], now: number): void {
    const colour = new Map<string, BuildingState>();
    for (const n of this.nodes) if (n.meaning?.buildingState) colour.set(n.id, n.meaning.buildingState);
    const next = new Map<string, BuildingState>();
    for (const f of findings) {
      const st = colour.get(f.rule);
      if (!st || f.targetKind !== 'building') continue;
      const cur = next.get(f.targetId);
      if (!cur || BUILDING_STATE_ORDER.indexOf(st) < BUILDING_STATE_ORDER.indexOf(cur))
        next.set(f.targetId, st);
    }
    for (const b of index.buildings.keys()) {
      const st = next.get(b) ?? 'ok';
      const prev = this.states.get(b);
      if (prev === st) continue;
      this.states.set(b, st);
      if (prev !== undefined || st !== 'ok')
        this.bus?.emit('buildingStatus', { buildingId: b, state: st, previous: prev, ts: now });
    }
  }
}
