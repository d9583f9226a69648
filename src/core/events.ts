import type {
  RoomReading,
  SensorStatus,
  SubstationReading,
  WeatherForecast,
  WeatherObservation,
} from './readings.ts';

/** A building's state as the dashboard colours it. */
export type BuildingState = 'ok' | 'cold' | 'unbalanced' | 'overheated' | 'stale';

/** What the HTTP live stream and the notifiers need to know of a ticket change. */
export interface TicketChange {
  ticketId: string;
  status: string;
  previousStatus?: string;
  target: string;
  problem: string;
  actor: string;
  ts: number;
}

/** The engine's single-cold-flat finding, consumed by households (one flat never raises supply). */
export interface UnitFinding {
  kind: 'cold' | 'cleared';
  sensorId: string;
  buildingId: string;
  substationId: string;
  floor: number;
  column: number;
  tempC: number;
  /** When the condition became active (cold) or when it cleared. */
  sinceTs: number;
  ts: number;
  rule: string;
}

/**
 * Every event that crosses module boundaries, with its payload (zigbee2mqtt's eventBus shape). The
 * events marked *extension point* have no listener inside heatwatch today: they are emitted so an
 * integration (an exporter, a plugin, a test) can follow accepted data without touching ingestion;
 * docs/architecture.md "Events" lists who emits and who listens.
 */
export interface HeatEvents {
  /** Readings accepted and durable (in the store or the spool). */
  roomReadings: RoomReading[];
  /** Extension point: substation meter readings accepted and durable. */
  substationReadings: SubstationReading[];
  /** Extension point: a weather observation accepted (the live state already holds it). */
  weatherObservation: WeatherObservation;
  /** Extension point: a forecast accepted from the broker or the forecast feed. */
  weatherForecast: WeatherForecast;
  /** Extension point: a sensor's retained online/offline status. */
  sensorStatus: SensorStatus;
  /** A building changed colour on the dashboard. */
  buildingStatus: { buildingId: string; state: BuildingState; previous?: BuildingState; ts: number };
  ticketChanged: TicketChange;
  /** A household case was opened, moved or closed (committed). */
  caseChanged: { caseId: string; state: string; buildingId: string; unitKey: string; ts: number };
  /** A single flat's unit-under-temp condition became active (after its minimum duration) or cleared. */
  unitFinding: UnitFinding;
  /** Extension point: a validated edit was handed to every module's onConfig (src/core/module.ts). */
  configReloaded: { version: string; changed: string[]; restartNeeded: string[] };
  /** Extension point: an edit that did not validate (the watcher has logged it already). */
  configRejected: { issues: string[] };
  /** Something an operator must know about the service itself (spool over budget, store down…). */
  alert: { key: string; severity: 'warning' | 'critical'; message: string; active: boolean; ts: number };
}
