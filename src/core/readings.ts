import type { PositionClass, SensorInfo } from './registry.ts';

/** Where a room reading came from. A manual in-home measurement outweighs a sensor (docs/domain.md). */
export type ReadingSource = 'sensor' | 'manual';

/** A validated room-temperature reading, enriched from the registry. */
export interface RoomReading {
  sensorId: string;
  ts: number;
  tempC: number;
  humidityPct?: number;
  batteryV?: number;
  seq?: number;
  buildingId: string;
  substationId: string;
  floor: number;
  column: number;
  classes: PositionClass[];
  source: ReadingSource;
}

/** A room reading enriched from the registry: where the sensor sits decides how it is judged. */
export const roomReadingOf = (
  info: SensorInfo,
  ts: number,
  tempC: number,
  source: ReadingSource,
): RoomReading => ({
  sensorId: info.sensor.id,
  ts,
  tempC,
  buildingId: info.building.id,
  substationId: info.substation.id,
  floor: info.sensor.floor,
  column: info.sensor.column,
  classes: info.classes,
  source,
});

/** A validated secondary-side meter reading from a substation. */
export interface SubstationReading {
  substationId: string;
  ts: number;
  supplyTempC: number;
  returnTempC: number;
  flowM3h?: number;
  heatKw?: number;
  valvePct?: number;
  outdoorTempC?: number;
  /** The supply offset the controller reports as in force, °C (what heatwatch confirms against). */
  supplyOffsetC?: number;
  /** The id of the setpoint command the controller last applied. */
  setpointId?: string;
}

export interface WeatherObservation {
  stationId: string;
  ts: number;
  outdoorTempC: number;
}

export interface WeatherForecast {
  stationId: string;
  issued: number;
  points: Array<{ ts: number; outdoorTempC: number }>;
  /** Set by the forecast feed when no fresh forecast came within its age limit: acted on, but said so. */
  stale?: boolean;
}

export interface SensorStatus {
  sensorId: string;
  online: boolean;
  fw?: string;
  ts: number;
}

/** Everything ingestion can accept from the broker, tagged by kind. */
export type Accepted =
  | { kind: 'room'; readings: RoomReading[] }
  | { kind: 'substation'; readings: SubstationReading[] }
  | { kind: 'observation'; observation: WeatherObservation }
  | { kind: 'forecast'; forecast: WeatherForecast }
  | { kind: 'status'; status: SensorStatus };

/** Why a message was refused; stable strings, they label `heatwatch_readings_rejected_total`. */
export type RejectReason =
  | 'too_large'
  | 'not_utf8'
  | 'not_json'
  | 'too_deep'
  | 'bad_topic'
  | 'bad_shape'
  | 'temp_missing'
  | 'temp_not_number'
  | 'temp_out_of_range'
  | 'ts_missing'
  | 'ts_unparsable'
  | 'ts_in_future'
  | 'ts_too_old'
  | 'unknown_sensor'
  | 'unknown_substation'
  | 'value_out_of_range'
  | 'too_many_readings'
  | 'rate_limited'
  /** An uplink's raw bytes the sensor model's vendor decoder refused (truncated, unknown type). */
  | 'bad_payload'
  /** An uplink with raw bytes only, from a sensor with no `model` to decode them by. */
  | 'no_decoder';

export type DecodeResult =
  | { ok: true; value: Accepted }
  | { ok: false; reason: RejectReason; detail: string };
