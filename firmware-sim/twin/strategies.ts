/**
 * The ways of running an estate compared on the twin. Each sees only what heatwatch would see (noisy
 * sensor readings, meters, weather, forecasts) and acts only through setpoints; none reads the
 * twin's parameters.
 *  - watching: fixed curves; heatwatch's engine runs and proposes, nothing is applied (engine.ts).
 *  - acting: heatwatch's engine, tickets and re-checks, safe steps applied on their own, an operator
 *    approving the rest after a delay (engine.ts).
 *  - raise-all: what a dispatcher does by hand: raise a substation by a step while its coldest
 *    monitored flat is cold, never lower.
 *  - coldest-flat: per substation, supply steered so the coldest monitored flat is just warm.
 */
import type { RegistryIndex } from '../../src/core/registry.ts';
import type { SimSetpoint } from '../physics.ts';
import type { TwinScenario } from './scenario.ts';

export const STRATEGIES = ['acting', 'watching', 'raise-all', 'coldest-flat'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/** What a strategy is shown each step and the one way it can act. */
export interface StrategyView {
  now: number;
  registry: RegistryIndex;
  /** Each sensor's readings smoothed over about an hour, °C (undefined before its first reading). */
  smoothedC(sensorId: string): number | undefined;
  send(substationId: string, setpoint: SimSetpoint): Promise<void>;
}

export interface TicketFigures {
  /** problem → status → count. */
  byProblem: Record<string, Record<string, number>>;
  operatorActions: number;
  rechecks: { resolved: number; escalated: number; deferred: number };
  /** heatwatch's learnt position effect per building (engine strategies; for tests, not in the JSON). */
  position?: Record<string, { gapC: number; ownC?: number; samples: number; networkGapC: number }>;
}

export interface Strategy {
  readonly name: StrategyName;
  /** Called once per step after the readings of that step are in. */
  afterStep(view: StrategyView): Promise<void>;
  finish(): Promise<TicketFigures>;
}

export const NO_TICKETS = (): TicketFigures => ({
  byProblem: {},
  operatorActions: 0,
  rechecks: { resolved: 0, escalated: 0, deferred: 0 },
});

/** The coldest smoothed reading of each substation's sensors, °C. */
function coldestBySubstation(view: StrategyView): Map<string, number> {
  const out = new Map<string, number>();
  for (const info of view.registry.sensors.values()) {
    const t = view.smoothedC(info.sensor.id);
    if (t === undefined) continue;
    const id = info.substation.id;
    out.set(id, Math.min(out.get(id) ?? Number.POSITIVE_INFINITY, t));
  }
  return out;
}

/** Shared shape of the two hand strategies: look every `intervalH`, move each substation's offset. */
abstract class HandStrategy implements Strategy {
  abstract readonly name: StrategyName;
  private nextLookMs = Number.NEGATIVE_INFINITY;
  private readonly offsets = new Map<string, number>();

  constructor(protected readonly sc: TwinScenario) {}

  /** The new offset for a substation whose coldest monitored flat reads `coldestC`. */
  protected abstract nextOffset(offsetC: number, coldestC: number): number;

  async afterStep(view: StrategyView): Promise<void> {
    if (view.now < this.nextLookMs) return;
    this.nextLookMs = view.now + this.sc.baselines.intervalH * 3_600_000;
    for (const [id, coldest] of coldestBySubstation(view)) {
      const cur = this.offsets.get(id) ?? 0;
      const next = Math.round(this.nextOffset(cur, coldest) * 10) / 10;
      if (next === cur) continue;
      this.offsets.set(id, next);
      await view.send(id, { supplyOffset: next });
    }
  }

  async finish(): Promise<TicketFigures> {
    return NO_TICKETS();
  }
}

const WARM_C = 18;

export class RaiseAll extends HandStrategy {
  readonly name = 'raise-all';
  protected nextOffset(offsetC: number, coldestC: number): number {
    return coldestC < WARM_C ? offsetC + this.sc.baselines.raiseStepC : offsetC;
  }
}

export class ColdestFlat extends HandStrategy {
  readonly name = 'coldest-flat';
  protected nextOffset(offsetC: number, coldestC: number): number {
    const b = this.sc.baselines;
    const errorC = WARM_C + b.marginC - coldestC;
    // Proportional to how far the coldest flat is off, bounded: the next look corrects the rest.
    const step = Math.max(-b.maxStepC, Math.min(b.maxStepC, b.supplyPerRoomC * errorC));
    return offsetC + step;
  }
}
