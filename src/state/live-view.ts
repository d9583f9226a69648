import type { WeatherForecast, WeatherObservation } from '../core/readings.ts';
import type { RegistryIndex, SensorInfo } from '../core/registry.ts';
import type { BuildingStats, SensorLive, SubstationLive } from './live-state.ts';

/**
 * The live picture, read-only: what the rules judge and the API shows (docs/architecture.md "Who
 * owns which state": `LiveState` is its one writer and satisfies this as is; a rules instance of a
 * partition sees it through a view whose index holds its own substations only).
 */
export interface LiveView {
  readonly index: RegistryIndex;
  readonly observation?: WeatherObservation | undefined;
  readonly forecast?: WeatherForecast | undefined;
  sensor(id: string): SensorLive | undefined;
  buildingSensors(buildingId: string): SensorLive[];
  buildingStats(buildingId: string, now: number): BuildingStats | undefined;
  substation(id: string): SubstationLive | undefined;
  isFresh(s: SensorLive, now: number): boolean;
  isOnline(s: SensorLive, now: number): boolean;
  /**
   * Change stamps for the rules' incremental evaluation (LiveState offers them; a view without them
   * is judged in full every tick): `version` moves with every change, a building's stamp is the
   * version of its sensors' last change, and a sensor stops counting as fresh `freshForMs` after its
   * reading (src/rules/incremental.ts).
   */
  readonly version?: number;
  buildingStamp?(buildingId: string): number;
  freshForMs?(info: SensorInfo): number;
}
