import type {
  RoomReading,
  SubstationReading,
  WeatherForecast,
  WeatherObservation,
} from '../core/readings.ts';
import type { RegistryIndex, SensorInfo } from '../core/registry.ts';
import { type BuildingStats, buildingStats } from './building-stats.ts';

export type { BuildingStats, ClassStats } from './building-stats.ts';

/** What the service knows now of one room sensor (a copy: reading it again gives the newest). */
export interface SensorLive {
  info: SensorInfo;
  /** The newest reading by its own timestamp (late, out-of-order readings do not overwrite it). */
  ts?: number;
  tempC?: number;
  humidityPct?: number;
  batteryV?: number;
  source?: 'sensor' | 'manual';
  /** The reading before the newest, for drop (open window) detection. */
  prevTs?: number;
  prevTempC?: number;
  /** Since when the value has not changed (stuck-sensor detection). */
  unchangedSince?: number;
  /** When the broker last told us anything of it (reading or status). */
  lastSeenTs?: number;
  /** Retained status from the device (its last will sets false). */
  statusOnline?: boolean;
  fw?: string;
  /** `LiveState.version` when anything of this sensor last changed (0: never). */
  stamp?: number;
}

export interface SubstationLive {
  latest?: SubstationReading;
}

type Snapshot = {
  sensors: Array<[string, Omit<SensorLive, 'info'>]>;
  substations: Array<[string, SubstationLive]>;
  observation?: WeatherObservation;
  forecast?: WeatherForecast;
};

// The numbers kept per sensor, `STRIDE` per sensor ordinal in one Float64Array; NaN is "not known".
const TS = 0;
const TEMP = 1;
const HUM = 2;
const BAT = 3;
const PREV_TS = 4;
const PREV_TEMP = 5;
const UNCHANGED = 6;
const SEEN = 7;
const STAMP = 8;
const STRIDE = 9;
const NUMBERS = [
  ['ts', TS],
  ['tempC', TEMP],
  ['humidityPct', HUM],
  ['batteryV', BAT],
  ['prevTs', PREV_TS],
  ['prevTempC', PREV_TEMP],
  ['unchangedSince', UNCHANGED],
  ['lastSeenTs', SEEN],
] as const;
// Flags per sensor: where the newest reading came from, and the retained status.
const SOURCE_SENSOR = 1;
const SOURCE_MANUAL = 2;
const STATUS_KNOWN = 4;
const STATUS_ONLINE = 8;

const known = (x: number): number | undefined => (Number.isNaN(x) ? undefined : x);
const orNaN = (x: number | undefined): number => x ?? Number.NaN;

/**
 * The live picture: the latest value of every sensor, substation and the weather, kept in memory so
 * the rules and the dashboard work while the reading store is down (docs/architecture.md decision 6).
 * Building statistics are computed on demand from the sensors, so they are never out of date.
 *
 * Sensor values live in typed arrays by the registry's sensor ordinal (a million sensors in tens of
 * megabytes, no object per sensor); `sensor()` and `buildingSensors()` hand out copies. Every change
 * moves `version`, and the sensor's and its building's stamps with it, so a reader that remembers
 * the version it last saw (the rules' incremental evaluation) finds what changed since.
 */
export class LiveState {
  private values = new Float64Array(0);
  private flags = new Uint8Array(0);
  private sensorBuilding = new Uint32Array(0);
  private buildingStamps = new Float64Array(0);
  private readonly fw = new Map<number, string>();
  private substations = new Map<string, SubstationLive>();
  private changes = 0;
  observation?: WeatherObservation;
  forecast?: WeatherForecast;

  constructor(
    private registry: RegistryIndex,
    /** A sensor counts as fresh/online for this many of its report intervals. */
    private offlineAfterIntervals = 3,
  ) {
    this.setRegistry(registry);
  }

  /** Moves with every change of a sensor (readings, status, a reload, a restore). */
  get version(): number {
    return this.changes;
  }

  /** Adopts a new registry after a config reload, keeping what is known of sensors that remain. */
  setRegistry(registry: RegistryIndex, offlineAfterIntervals = this.offlineAfterIntervals): void {
    const old = this.registry === registry ? undefined : this.registry;
    const oldValues = this.values;
    const oldFlags = this.flags;
    const oldFw = new Map(this.fw);
    this.registry = registry;
    this.offlineAfterIntervals = offlineAfterIntervals;
    const n = registry.sensorList.length;
    if (old || this.values.length !== n * STRIDE) {
      this.values = new Float64Array(n * STRIDE).fill(Number.NaN);
      this.flags = new Uint8Array(n);
      this.fw.clear();
      for (const info of registry.sensorList) {
        const from = old?.sensors.get(info.sensor.id)?.ordinal;
        if (from === undefined || !old) continue;
        this.values.set(oldValues.subarray(from * STRIDE, (from + 1) * STRIDE), info.ordinal * STRIDE);
        this.flags[info.ordinal] = oldFlags[from]!;
        const fw = oldFw.get(from);
        if (fw !== undefined) this.fw.set(info.ordinal, fw);
      }
    }
    this.sensorBuilding = new Uint32Array(n);
    for (const info of registry.sensorList)
      this.sensorBuilding[info.ordinal] = registry.buildingOrdinal.get(info.building.id) ?? 0;
    this.buildingStamps = new Float64Array(registry.buildingOrdinal.size);
    this.touchAll();
    const subs = new Map<string, SubstationLive>();
    for (const id of registry.substations.keys()) subs.set(id, this.substations.get(id) ?? {});
    this.substations = subs;
  }

  get index(): RegistryIndex {
    return this.registry;
  }

  applyRoom(readings: readonly RoomReading[]): void {
    const v = this.values;
    this.changes++;
    for (const r of readings) {
      const o = this.registry.sensors.get(r.sensorId)?.ordinal;
      if (o === undefined) continue;
      const at = o * STRIDE;
      this.touch(o);
      if (!(r.ts <= v[at + SEEN]!)) v[at + SEEN] = r.ts; // NaN (never seen) compares false
      const ts = v[at + TS]!;
      if (r.ts <= ts) continue; // late or duplicate: history only
      const tempC = v[at + TEMP]!;
      if (!Number.isNaN(tempC) && !Number.isNaN(ts)) {
        v[at + PREV_TS] = ts;
        v[at + PREV_TEMP] = tempC;
        if (r.tempC !== tempC) v[at + UNCHANGED] = r.ts;
      } else {
        v[at + UNCHANGED] = r.ts;
      }
      v[at + TS] = r.ts;
      v[at + TEMP] = r.tempC;
      v[at + HUM] = orNaN(r.humidityPct);
      v[at + BAT] = orNaN(r.batteryV);
      const f = this.flags[o]! & ~(SOURCE_SENSOR | SOURCE_MANUAL);
      this.flags[o] = f | (r.source === 'manual' ? SOURCE_MANUAL : r.source === 'sensor' ? SOURCE_SENSOR : 0);
    }
  }

  applySubstation(readings: readonly SubstationReading[]): void {
    for (const r of readings) {
      const s = this.substations.get(r.substationId);
      if (!s) continue;
      if (!s.latest || r.ts > s.latest.ts) s.latest = r;
    }
  }

  applyObservation(o: WeatherObservation): void {
    if (!this.observation || o.ts > this.observation.ts) this.observation = o;
  }

  applyForecast(f: WeatherForecast): void {
    if (!this.forecast || f.issued >= this.forecast.issued) this.forecast = f;
  }

  /** The forecast feed's verdict on the forecast in force (docs/ingest.md "Forecast feed"). */
  setForecastStale(stale: boolean): void {
    if (this.forecast && (this.forecast.stale === true) !== stale)
      this.forecast = { ...this.forecast, stale };
  }

  applyStatus(sensorId: string, online: boolean, ts: number, fw?: string): void {
    const o = this.registry.sensors.get(sensorId)?.ordinal;
    if (o === undefined) return;
    this.changes++;
    this.touch(o);
    this.flags[o] = (this.flags[o]! & ~STATUS_ONLINE) | STATUS_KNOWN | (online ? STATUS_ONLINE : 0);
    if (fw) this.fw.set(o, fw);
    const at = o * STRIDE + SEEN;
    if (online && !(ts <= this.values[at]!)) this.values[at] = ts;
  }

  sensor(id: string): SensorLive | undefined {
    const info = this.registry.sensors.get(id);
    return info && this.copy(info);
  }

  *allSensors(): IterableIterator<SensorLive> {
    for (const info of this.registry.sensorList) yield this.copy(info);
  }

  substation(id: string): SubstationLive | undefined {
    return this.substations.get(id);
  }

  /** Online: heard from within `offlineAfterIntervals` report intervals, and no last will since. */
  isOnline(s: SensorLive, now: number): boolean {
    if (s.statusOnline === false) return false;
    return (
      s.lastSeenTs !== undefined &&
      now - s.lastSeenTs <= s.info.sensor.intervalS * 1000 * this.offlineAfterIntervals
    );
  }

  isFresh(s: SensorLive, now: number): boolean {
    return s.ts !== undefined && now - s.ts <= s.info.sensor.intervalS * 1000 * this.offlineAfterIntervals;
  }

  /** How long after its last reading (or word) a sensor stops counting as fresh (online), ms. */
  freshForMs(info: SensorInfo): number {
    return info.sensor.intervalS * 1000 * this.offlineAfterIntervals;
  }

  sensorCounts(now: number): { online: number; offline: number } {
    let online = 0;
    for (const info of this.registry.sensorList) {
      const seen = this.values[info.ordinal * STRIDE + SEEN]!;
      const lastWill = (this.flags[info.ordinal]! & (STATUS_KNOWN | STATUS_ONLINE)) === STATUS_KNOWN;
      if (!lastWill && now - seen <= this.freshForMs(info)) online++; // NaN compares false
    }
    return { online, offline: this.registry.sensorList.length - online };
  }

  buildingSensors(buildingId: string): SensorLive[] {
    const infos = this.registry.sensorsByBuilding.get(buildingId) ?? [];
    const out: SensorLive[] = new Array(infos.length);
    for (let i = 0; i < infos.length; i++) out[i] = this.copy(infos[i]!);
    return out;
  }

  /** `version` when anything of the building's sensors last changed (0: nothing since the registry). */
  buildingStamp(buildingId: string): number {
    const b = this.registry.buildingOrdinal.get(buildingId);
    return b === undefined ? this.changes : this.buildingStamps[b]!;
  }

  buildingStats(buildingId: string, now: number): BuildingStats | undefined {
    return buildingStats(this, buildingId, now);
  }

  /** A compact copy for checkpointing; `restore` reads it back. */
  snapshot(): Snapshot {
    const sensors: Snapshot['sensors'] = [];
    for (const info of this.registry.sensorList) {
      if (Number.isNaN(this.values[info.ordinal * STRIDE + SEEN]!)) continue;
      const { info: _info, stamp: _stamp, ...rest } = this.copy(info);
      sensors.push([info.sensor.id, rest]);
    }
    return {
      sensors,
      substations: [...this.substations.entries()].filter(([, s]) => s.latest),
      observation: this.observation,
      forecast: this.forecast,
    };
  }

  restore(snap: Snapshot): void {
    for (const [id, rest] of snap.sensors) {
      const o = this.registry.sensors.get(id)?.ordinal;
      if (o === undefined) continue;
      const at = o * STRIDE;
      for (const [key, i] of NUMBERS) if (rest[key] !== undefined) this.values[at + i] = rest[key];
      if (rest.source)
        this.flags[o] = (this.flags[o]! & ~(SOURCE_SENSOR | SOURCE_MANUAL)) | sourceFlag(rest.source);
      if (rest.statusOnline !== undefined)
        this.flags[o] =
          (this.flags[o]! & ~STATUS_ONLINE) | STATUS_KNOWN | (rest.statusOnline ? STATUS_ONLINE : 0);
      if (rest.fw !== undefined) this.fw.set(o, rest.fw);
    }
    for (const [id, sub] of snap.substations) if (this.substations.has(id)) this.substations.set(id, sub);
    if (snap.observation) this.observation = snap.observation;
    if (snap.forecast) this.forecast = snap.forecast;
    this.touchAll();
  }

  private touch(o: number): void {
    this.values[o * STRIDE + STAMP] = this.changes;
    this.buildingStamps[this.sensorBuilding[o]!] = this.changes;
  }

  /** Everything counts as changed (a reload, a restore). */
  private touchAll(): void {
    this.changes++;
    for (let o = 0; o < this.flags.length; o++) this.values[o * STRIDE + STAMP] = this.changes;
    this.buildingStamps.fill(this.changes);
  }

  private copy(info: SensorInfo): SensorLive {
    const o = info.ordinal;
    const v = this.values;
    const at = o * STRIDE;
    const f = this.flags[o]!;
    return {
      info,
      ts: known(v[at + TS]!),
      tempC: known(v[at + TEMP]!),
      humidityPct: known(v[at + HUM]!),
      batteryV: known(v[at + BAT]!),
      source: f & SOURCE_MANUAL ? 'manual' : f & SOURCE_SENSOR ? 'sensor' : undefined,
      prevTs: known(v[at + PREV_TS]!),
      prevTempC: known(v[at + PREV_TEMP]!),
      unchangedSince: known(v[at + UNCHANGED]!),
      lastSeenTs: known(v[at + SEEN]!),
      statusOnline: f & STATUS_KNOWN ? (f & STATUS_ONLINE) !== 0 : undefined,
      fw: this.fw.get(o),
      stamp: v[at + STAMP]!,
    };
  }
}

const sourceFlag = (s: 'sensor' | 'manual'): number => (s === 'manual' ? SOURCE_MANUAL : SOURCE_SENSOR);
