import { EXPOSED_CLASSES, POSITION_CLASSES, type PositionClass } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import type { LiveView } from '../state/live-view.ts';

export type { LiveView } from '../state/live-view.ts';

export interface UnitTemp {
  sensorId: string;
  floor: number;
  column: number;
  classes: PositionClass[];
  tempC: number;
}

/** A building's fresh units and their position-class picture. */
export interface BuildingPicture {
  buildingId: string;
  substationId: string;
  sensors: number;
  units: UnitTemp[];
  classMeans: Partial<Record<PositionClass, { meanC: number; count: number }>>;
  /** Class means averaged with the configured class weights (a middle-heavy sample cannot hide corners). */
  weightedMeanC?: number;
  exposedMeanC?: number;
  middleMeanC?: number;
}

export const round1 = (x: number): number => Math.round(x * 10) / 10;
export const round2 = (x: number): number => Math.round(x * 100) / 100;

export function buildingPicture(
  view: LiveView,
  buildingId: string,
  now: number,
  weights: Record<PositionClass, number>,
  excluded: ReadonlySet<string>,
  sensors: SensorLive[] = view.buildingSensors(buildingId),
): BuildingPicture {
  const b = view.index.buildings.get(buildingId);
  const units: UnitTemp[] = [];
  for (const s of sensors) {
    if (s.tempC === undefined || !view.isFresh(s, now) || excluded.has(s.info.sensor.id)) continue;
    units.push({
      sensorId: s.info.sensor.id,
      floor: s.info.sensor.floor,
      column: s.info.sensor.column,
      classes: s.info.classes,
      tempC: s.tempC,
    });
  }
  return pictureOf(buildingId, b?.substationId ?? '', sensors.length, units, weights);
}

/** Pure: the picture of a set of unit temperatures (also used by replay and compliance). */
export function pictureOf(
  buildingId: string,
  substationId: string,
  sensors: number,
  units: UnitTemp[],
  weights: Record<PositionClass, number>,
): BuildingPicture {
  // Per class, indexed as POSITION_CLASSES: this runs for every building on every tick.
  const classN = POSITION_CLASSES.map(() => 0);
  const classSum = POSITION_CLASSES.map(() => 0);
  let exN = 0;
  let exSum = 0;
  let midN = 0;
  let midSum = 0;
  for (const u of units) {
    let exposed = false;
    for (const c of u.classes) {
      const i = POSITION_CLASSES.indexOf(c);
      classN[i]!++;
      classSum[i]! += u.tempC;
      if (EXPOSED_CLASSES.includes(c)) exposed = true;
    }
    if (exposed) {
      exN++;
      exSum += u.tempC;
    } else {
      midN++;
      midSum += u.tempC;
    }
  }
  const classMeans: BuildingPicture['classMeans'] = {};
  let wSum = 0;
  let w = 0;
  for (let i = 0; i < POSITION_CLASSES.length; i++) {
    const c = POSITION_CLASSES[i]!;
    const n = classN[i]!;
    if (n === 0) continue;
    const sum = classSum[i]!;
    classMeans[c] = { meanC: round2(sum / n), count: n };
    wSum += (sum / n) * weights[c];
    w += weights[c];
  }
  return {
    buildingId,
    substationId,
    sensors,
    units,
    classMeans,
    weightedMeanC: w > 0 ? wSum / w : undefined,
    exposedMeanC: exN > 0 ? exSum / exN : undefined,
    middleMeanC: midN > 0 ? midSum / midN : undefined,
  };
}

/** Evidence rows a ticket keeps of a building. */
export function pictureEvidence(p: BuildingPicture, coldBelowC: number): Record<string, unknown> {
  return {
    classMeans: p.classMeans,
    weightedMeanC: p.weightedMeanC === undefined ? undefined : round2(p.weightedMeanC),
    exposedMeanC: p.exposedMeanC === undefined ? undefined : round2(p.exposedMeanC),
    middleMeanC: p.middleMeanC === undefined ? undefined : round2(p.middleMeanC),
    freshUnits: p.units.length,
    coldUnits: p.units
      .filter((u) => u.tempC < coldBelowC)
      .sort((a, b) => a.tempC - b.tempC)
      .slice(0, 12)
      .map((u) => ({
        sensorId: u.sensorId,
        floor: u.floor,
        column: u.column,
        tempC: u.tempC,
        classes: u.classes,
      })),
  };
}
