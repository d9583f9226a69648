/**
 * The network as heatwatch knows it: substations, the buildings they serve, and the room sensors in
 * a sample of units. Pure data and derivations; loading and validation live in src/config.
 */

/** Where a unit sits in its building (docs/domain.md "Position classes"). A unit can be top and gable. */
export type PositionClass = 'top' | 'ground' | 'gable' | 'middle';
export const POSITION_CLASSES: readonly PositionClass[] = ['top', 'ground', 'gable', 'middle'];
export const EXPOSED_CLASSES: readonly PositionClass[] = ['top', 'ground', 'gable'];

/**
 * Supply temperature as a falling function of outdoor temperature (docs/domain.md "Who heats what"):
 * `refSupplyC + slope * (refOutdoorC - outdoorC) + offsetC`, clamped to [minSupplyC, maxSupplyC].
 * The dispatch centre moves `offsetC` (curve level) and `slope` (steepness).
 */
export interface HeatingCurve {
  refOutdoorC: number;
  refSupplyC: number;
  slope: number;
  minSupplyC: number;
  maxSupplyC: number;
}

export interface Substation {
  id: string;
  name: string;
  curve: HeatingCurve;
}

export interface Building {
  id: string;
  name: string;
  /** The street of its address (hotspots of repeated complaints are watched per street). */
  street?: string;
  substationId: string;
  floors: number;
  unitsPerFloor: number;
}

export interface Sensor {
  id: string;
  buildingId: string;
  floor: number;
  column: number;
  /** Nominal report interval; staleness is judged against it. */
  intervalS: number;
  /** A per-device password hash (scrypt, see src/mqtt/auth.ts); absent: derived from the group key. */
  passwordHash?: string;
  /** LoRaWAN DevEUI, lower-case hex: how a network server's uplink names this sensor. */
  devEui?: string;
  /** Device model: picks the vendor payload decoder when the network server sends raw bytes only. */
  model?: string;
}

export interface Registry {
  substations: Substation[];
  buildings: Building[];
  sensors: Sensor[];
}

/** The position classes of a unit: floor 1 = ground, top floor = top, first or last column = gable. */
export function positionClasses(
  floor: number,
  column: number,
  floors: number,
  unitsPerFloor: number,
): PositionClass[] {
  const out: PositionClass[] = [];
  if (floor === floors) out.push('top');
  if (floor === 1) out.push('ground');
  if (column === 1 || column === unitsPerFloor) out.push('gable');
  if (out.length === 0) out.push('middle');
  return out;
}

export const isExposed = (classes: readonly PositionClass[]): boolean => !classes.includes('middle');

export function curveSupplyC(curve: HeatingCurve, outdoorC: number, offsetC = 0, slopeDelta = 0): number {
  const raw = curve.refSupplyC + (curve.slope + slopeDelta) * (curve.refOutdoorC - outdoorC) + offsetC;
  return Math.min(curve.maxSupplyC, Math.max(curve.minSupplyC, raw));
}

/** A sensor with everything ingestion adds to its readings, looked up once per registry version. */
export interface SensorInfo {
  sensor: Sensor;
  building: Building;
  substation: Substation;
  /** Shared by every unit of the same classes and frozen: never mutate it. */
  classes: PositionClass[];
  /** Its place in this registry version's sensor order (live state keeps its values by it). */
  ordinal: number;
}

/**
 * One frozen array per combination of classes (there are few), so a network of a million sensors
 * does not hold a million small arrays.
 */
const internedClasses = new Map<string, PositionClass[]>();
function internClasses(classes: PositionClass[]): PositionClass[] {
  const key = classes.join(',');
  let shared = internedClasses.get(key);
  if (!shared) {
    shared = Object.freeze(classes) as PositionClass[];
    internedClasses.set(key, shared);
  }
  return shared;
}

/** Indexes over a registry, rebuilt when the config changes. */
export class RegistryIndex {
  readonly substations = new Map<string, Substation>();
  readonly buildings = new Map<string, Building>();
  readonly sensors = new Map<string, SensorInfo>();
  /** By lower-case DevEUI, for uplinks from a LoRaWAN network server. */
  readonly sensorsByDevEui = new Map<string, SensorInfo>();
  readonly buildingsBySubstation = new Map<string, Building[]>();
  readonly sensorsByBuilding = new Map<string, SensorInfo[]>();
  /** Every sensor by its `ordinal`. */
  readonly sensorList: SensorInfo[] = [];
  /** Each building's place in the registry's building order. */
  readonly buildingOrdinal = new Map<string, number>();

  constructor(readonly registry: Registry) {
    for (const s of registry.substations) {
      this.substations.set(s.id, s);
      this.buildingsBySubstation.set(s.id, []);
    }
    for (const b of registry.buildings) {
      this.buildings.set(b.id, b);
      if (!this.buildingOrdinal.has(b.id)) this.buildingOrdinal.set(b.id, this.buildingOrdinal.size);
      this.buildingsBySubstation.get(b.substationId)?.push(b);
      this.sensorsByBuilding.set(b.id, []);
    }
    for (const sensor of registry.sensors) {
      const building = this.buildings.get(sensor.buildingId);
      const substation = building && this.substations.get(building.substationId);
      if (!building || !substation) continue; // the config schema refuses such entries
      const info: SensorInfo = {
        sensor,
        building,
        substation,
        classes: internClasses(
          positionClasses(sensor.floor, sensor.column, building.floors, building.unitsPerFloor),
        ),
        // A repeated id (the config schema refuses it) keeps its first place; the last entry wins.
        ordinal: this.sensors.get(sensor.id)?.ordinal ?? this.sensorList.length,
      };
      this.sensors.set(sensor.id, info);
      this.sensorList[info.ordinal] = info;
      if (sensor.devEui) this.sensorsByDevEui.set(sensor.devEui, info);
      this.sensorsByBuilding.get(building.id)?.push(info);
    }
  }
}

/**
 * docs/domain.md sampling rule: top, ground and gable units together must make up at least 40 % of the
 * sample. Returns the exposed share of the given sensors' units (0..1) and whether every class is
 * covered at all.
 */
export function samplingCoverage(infos: readonly SensorInfo[]): {
  exposedShare: number;
  missingClasses: PositionClass[];
} {
  if (infos.length === 0) return { exposedShare: 0, missingClasses: [...POSITION_CLASSES] };
  const seen = new Set<PositionClass>();
  let exposed = 0;
  for (const i of infos) {
    for (const c of i.classes) seen.add(c);
    if (isExposed(i.classes)) exposed++;
  }
  // Only classes the building has can be missing: a two-unit-wide block has no middle unit, a
  // one-storey one no top floor apart from its ground floor.
  const b = infos[0]!.building;
  const possible = classesOf(b.floors, b.unitsPerFloor);
  return {
    exposedShare: exposed / infos.length,
    missingClasses: POSITION_CLASSES.filter((c) => possible.has(c) && !seen.has(c)),
  };
}

/** Every position class some unit of a floors × unitsPerFloor building belongs to (few shapes: kept). */
const shapeClasses = new Map<string, Set<PositionClass>>();
function classesOf(floors: number, unitsPerFloor: number): Set<PositionClass> {
  const key = `${floors}x${unitsPerFloor}`;
  const known = shapeClasses.get(key);
  if (known) return known;
  const out = new Set<PositionClass>();
  shapeClasses.set(key, out);
  for (let f = 1; f <= floors; f++)
    for (let c = 1; c <= unitsPerFloor; c++)
      for (const k of positionClasses(f, c, floors, unitsPerFloor)) out.add(k);
  return out;
}
