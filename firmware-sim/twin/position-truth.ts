/**
 * The twin's truth of each building's position effect: the mean over the run (hourly) of its
 * monitored middle units' true temperature minus its monitored exposed units' (top, ground, gable),
 * without sensor error. What heatwatch learns per building from its readings is judged against it
 * (test/firmware-sim/twin-position.test.ts); no strategy sees it.
 */
import type { RegistryIndex, SensorInfo } from '../../src/core/registry.ts';
import type { BuildingPhysics } from './estate.ts';
import type { TwinPlant } from './plant.ts';

export interface PositionTruth {
  buildingId: string;
  /** Mean true middle − exposed gap of the monitored units over the run, °C. */
  trueGapC: number;
  /** Long risers starve its exposed units: its gap is a fault, not the normal position effect. */
  starved: boolean;
}

export class PositionTruthWatch {
  private readonly byBuilding = new Map<string, { exposed: SensorInfo[]; middle: SensorInfo[] }>();
  private readonly sums = new Map<string, { sum: number; n: number }>();

  constructor(
    registry: RegistryIndex,
    private readonly plant: TwinPlant,
    private readonly physics: readonly BuildingPhysics[],
  ) {
    for (const s of registry.sensors.values()) {
      const g = this.byBuilding.get(s.building.id) ?? { exposed: [], middle: [] };
      (s.classes.includes('middle') ? g.middle : g.exposed).push(s);
      this.byBuilding.set(s.building.id, g);
    }
  }

  /** Hourly: every building's true gap now. */
  sample(): void {
    for (const [id, g] of this.byBuilding) {
      if (g.exposed.length === 0 || g.middle.length === 0) continue;
      const acc = this.sums.get(id) ?? { sum: 0, n: 0 };
      acc.sum += this.meanC(g.middle) - this.meanC(g.exposed);
      acc.n++;
      this.sums.set(id, acc);
    }
  }

  figures(): PositionTruth[] {
    return [...this.sums].map(([buildingId, a]) => ({
      buildingId,
      trueGapC: a.sum / a.n,
      starved: (this.physics.find((b) => b.id === buildingId)?.exposedFlowFactor ?? 1) < 1,
    }));
  }

  private meanC(xs: SensorInfo[]): number {
    let sum = 0;
    for (const s of xs) sum += this.plant.unitTempC(s.building.id, s.sensor.floor, s.sensor.column);
    return sum / xs.length;
  }
}
