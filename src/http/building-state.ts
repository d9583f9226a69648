import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { BuildingStateView } from './ports.ts';

/**
 * The building states the rules announced on the bus, for an app built without the rules engine at
 * hand (the route tests, the dashboard tests). It judges nothing: a building the rules never
 * announced is `ok`, as the rules' own `stateOf` says. src/app/http.ts passes the engine itself.
 */
export class AnnouncedStates implements BuildingStateView {
  private readonly states = new Map<string, BuildingState>();
  private off: (() => void) | undefined;

  constructor(private readonly bus: EventBus<HeatEvents>) {}

  start(): void {
    this.off ??= this.bus.on('buildingStatus', 'http-states', (s) => this.states.set(s.buildingId, s.state));
  }

  stop(): void {
    this.off?.();
    this.off = undefined;
  }

  stateOf(buildingId: string): BuildingState {
    return this.states.get(buildingId) ?? 'ok';
  }
}
