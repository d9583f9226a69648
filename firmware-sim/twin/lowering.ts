/**
 * What lowering supply does to the monitored flats (issue #11: lowering must never take a monitored
 * flat below 18 °C). A setpoint that moves a substation's offset or slope down starts a watch over
 * the monitored flats that were warm at that moment; until a setpoint raises it again, every hourly
 * sample of their true temperature counts, and each flat that falls below 18 °C is counted once.
 */
import type { RegistryIndex, SensorInfo } from '../../src/core/registry.ts';
import type { SimSetpoint } from '../physics.ts';
import type { TwinPlant } from './plant.ts';

const WARM_C = 18;

export interface LoweringFigures {
  /** Setpoints that lowered a substation's offset or slope. */
  steps: number;
  /** Monitored flats warm when supply was lowered that later fell below 18 °C while it was lower. */
  flatsTakenBelow18: number;
  /** Coldest such flat while a lowering was in force, °C (null: nothing was lowered). */
  minC: number | null;
}

export class LoweringWatch {
  private readonly inForce = new Map<string, { offsetC: number; slope: number }>();
  /** Substation → the sensors warm when it was lowered that have not yet gone cold. */
  private readonly watched = new Map<string, SensorInfo[]>();
  private readonly taken = new Set<string>();
  private steps = 0;
  private minC = Number.POSITIVE_INFINITY;

  constructor(
    private readonly registry: RegistryIndex,
    private readonly plant: TwinPlant,
  ) {}

  onSetpoint(substationId: string, sp: SimSetpoint): void {
    const prev = this.inForce.get(substationId) ?? { offsetC: 0, slope: 0 };
    const next = { offsetC: sp.supplyOffset ?? prev.offsetC, slope: sp.slopeDelta ?? prev.slope };
    this.inForce.set(substationId, next);
    const lower = next.offsetC < prev.offsetC - 1e-9 || next.slope < prev.slope - 1e-9;
    const higher = next.offsetC > prev.offsetC + 1e-9 || next.slope > prev.slope + 1e-9;
    if (lower) {
      this.steps++;
      const warm = [...this.registry.sensors.values()].filter(
        (s) => s.substation.id === substationId && this.truthC(s) >= WARM_C,
      );
      this.watched.set(substationId, warm);
    } else if (higher) this.watched.delete(substationId);
  }

  /** Hourly: the watched flats' true temperatures. */
  sample(): void {
    for (const sensors of this.watched.values())
      for (const s of sensors) {
        const t = this.truthC(s);
        this.minC = Math.min(this.minC, t);
        if (t < WARM_C) this.taken.add(s.sensor.id);
      }
  }

  figures(): LoweringFigures {
    return {
      steps: this.steps,
      flatsTakenBelow18: this.taken.size,
      minC: Number.isFinite(this.minC) ? Math.round(this.minC * 100) / 100 : null,
    };
  }

  private truthC(s: SensorInfo): number {
    return this.plant.unitTempC(s.building.id, s.sensor.floor, s.sensor.column);
  }
}
