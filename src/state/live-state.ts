import type {
  RoomReading,
  SubstationReading,
  WeatherForecast,
  WeatherObservation,
} from '../core/readings.ts';
import {
  EXPOSED_CLASSES,
  POSITION_CLASSES,
  type PositionClass,
  type RegistryIndex,
  type SensorInfo,
} from '../core/registry.ts';

/** What the service knows now of one room sensor. */
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
}

export interface ClassStats {
  count: number;
  meanC: number;
  minC: number;
  /** Age of the oldest reading that went into the mean, ms. */
  oldestAgeMs: number;
}

export interface BuildingStats {
  buildingId: string;
  substationId: string;
  sensors: number;
  fresh: number;
  /** Position-class statistics over fresh readings; a unit that is top and gable counts in both. */
  classes: Partial<Record<PositionClass, ClassStats>>;
  /** Mean over all fresh units. */
  meanC?: number;
  minC?: number;
  /** Mean over exposed (top, ground, gable) units and over middle units. */
  exposedMeanC?: number;
  middleMeanC?: number;
  newestTs?: number;
}

export interface SubstationLive {
  latest?: SubstationReading;
}

/**
 * The live picture: the latest value of every sensor, substation and the weather, kept in memory so
 * the rules and the dashboard work while the reading store is down (docs/architecture.md decision 6).
 * Building statistics are computed on demand from the sensors, so they are never out of date.
 */
export class LiveState {
  private sensors = new Map<string, SensorLive>();
  private substations = new Map<string, SubstationLive>();
  observation?: WeatherObservation;
  forecast?: WeatherForecast;

  constructor(
    private registry: RegistryIndex,
    /** A sensor counts as fresh/online for this many of its report intervals. */
    private offlineAfterIntervals = 3,
  ) {
    this.setRegistry(registry);
  }

  /** Adopts a new registry after a config reload, keeping what is known of sensors that remain. */
  setRegistry(registry: RegistryIndex, offlineAfterIntervals = this.offlineAfterIntervals): void {
    this.registry = registry;
    this.offlineAfterIntervals = offlineAfterIntervals;
    const next = new Map<string, SensorLive>();
    for (const [id, info] of registry.sensors) {
      const old = this.sensors.get(id);
      next.set(id, old ? { ...old, info } : { info });
    }
    this.sensors = next;
    const subs = new Map<string, SubstationLive>();
    for (const id of registry.substations.keys()) subs.set(id, this.substations.get(id) ?? {});
    this.substations = subs;
  }

  get index(): RegistryIndex {
    return this.registry;
  }

  applyRoom(readings: readonly RoomReading[]): void {
    for (const r of readings) {
      const s = this.sensors.get(r.sensorId);
      if (!s) continue;
      if (s.lastSeenTs === undefined || r.ts > s.lastSeenTs) s.lastSeenTs = r.ts;
      if (s.ts !== undefined && r.ts <= s.ts) continue; // late or duplicate: history only
      if (s.tempC !== undefined && s.ts !== undefined) {
        s.prevTs = s.ts;
        s.prevTempC = s.tempC;
        if (r.tempC !== s.tempC) s.unchangedSince = r.ts;
      } else {
        s.unchangedSince = r.ts;
      }
      s.ts = r.ts;
      s.tempC = r.tempC;
      s.humidityPct = r.humidityPct;
      s.batteryV = r.batteryV;
      s.source = r.source;
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
    const s = this.sensors.get(sensorId);
    if (!s) return;
    s.statusOnline = online;
    if (fw) s.fw = fw;
    if (online && (s.lastSeenTs === undefined || ts > s.lastSeenTs)) s.lastSeenTs = ts;
  }

  sensor(id: string): SensorLive | undefined {
    return this.sensors.get(id);
  }

  allSensors(): IterableIterator<SensorLive> {
    return this.sensors.values();
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

  sensorCounts(now: number): { online: number; offline: number } {
    let online = 0;
    for (const s of this.sensors.values()) if (this.isOnline(s, now)) online++;
    return { online, offline: this.sensors.size - online };
  }

  buildingSensors(buildingId: string): SensorLive[] {
    const infos = this.registry.sensorsByBuilding.get(buildingId) ?? [];
    const out: SensorLive[] = [];
    for (const i of infos) {
      const s = this.sensors.get(i.sensor.id);
      if (s) out.push(s);
    }
    return out;
  }

  buildingStats(buildingId: string, now: number): BuildingStats | undefined {
    const b = this.registry.buildings.get(buildingId);
    if (!b) return undefined;
    const acc = new Map<PositionClass, { n: number; sum: number; min: number; oldest: number }>();
    let n = 0;
    let sum = 0;
    let min = Number.POSITIVE_INFINITY;
    let newest: number | undefined;
    let exN = 0;
    let exSum = 0;
    let midN = 0;
    let midSum = 0;
    const sensors = this.buildingSensors(buildingId);
    for (const s of sensors) {
      if (!this.isFresh(s, now) || s.tempC === undefined || s.ts === undefined) continue;
      const t = s.tempC;
      n++;
      sum += t;
      if (t < min) min = t;
      if (newest === undefined || s.ts > newest) newest = s.ts;
      const exposed = s.info.classes.some((c) => EXPOSED_CLASSES.includes(c));
      if (exposed) {
        exN++;
        exSum += t;
      } else {
        midN++;
        midSum += t;
      }
      for (const c of s.info.classes) {
        const a = acc.get(c) ?? { n: 0, sum: 0, min: Number.POSITIVE_INFINITY, oldest: 0 };
        a.n++;
        a.sum += t;
        if (t < a.min) a.min = t;
        a.oldest = Math.max(a.oldest, now - s.ts);
        acc.set(c, a);
      }
    }
    const classes: Partial<Record<PositionClass, ClassStats>> = {};
    for (const c of POSITION_CLASSES) {
      const a = acc.get(c);
      if (a) classes[c] = { count: a.n, meanC: a.sum / a.n, minC: a.min, oldestAgeMs: a.oldest };
    }
    return {
      buildingId,
      substationId: b.substationId,
      sensors: sensors.length,
      fresh: n,
      classes,
      meanC: n > 0 ? sum / n : undefined,
      minC: n > 0 ? min : undefined,
      exposedMeanC: exN > 0 ? exSum / exN : undefined,
      middleMeanC: midN > 0 ? midSum / midN : undefined,
      newestTs: newest,
    };
  }

  /** A compact copy for checkpointing; `restore` reads it back. */
  snapshot(): {
    sensors: Array<[string, Omit<SensorLive, 'info'>]>;
    substations: Array<[string, SubstationLive]>;
    observation?: WeatherObservation;
    forecast?: WeatherForecast;
  } {
    const sensors: Array<[string, Omit<SensorLive, 'info'>]> = [];
    for (const [id, s] of this.sensors) {
      if (s.lastSeenTs === undefined) continue;
      const { info: _info, ...rest } = s;
      sensors.push([id, rest]);
    }
    return {
      sensors,
      substations: [...this.substations.entries()].filter(([, s]) => s.latest),
      observation: this.observation,
      forecast: this.forecast,
    };
  }

  restore(snap: ReturnType<LiveState['snapshot']>): void {
    for (const [id, rest] of snap.sensors) {
      const s = this.sensors.get(id);
      if (s) Object.assign(s, rest);
    }
    for (const [id, sub] of snap.substations) if (this.substations.has(id)) this.substations.set(id, sub);
    if (snap.observation) this.observation = snap.observation;
    if (snap.forecast) this.forecast = snap.forecast;
  }
}
