import type { WeatherForecast, WeatherObservation } from '../core/readings.ts';
import type { RegistryIndex } from '../core/registry.ts';
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
}
