/**
 * The simulated buildings' thermal model (firmware-sim/physics.ts): each unit one thermal node with
 * its loss, thermal mass and radiator, held in typed arrays; radiator output capped by what the
 * building's flow can carry; and the steady state a run starts from.
 */
import type { SimConfig } from '../src/config/sim-schema.ts';
import { type PositionClass, positionClasses, type Registry } from '../src/core/registry.ts';
import { type BuildingState, clamp, WATER_KWH_PER_M3K } from './hydraulics.ts';
import { hashGauss } from './random.ts';

/** Per-unit state in typed arrays: 100 000 sensors means ~500 000 units. */
export interface Units {
  tempC: Float64Array;
  uaKwK: Float64Array;
  capKWhK: Float64Array;
  kRad: Float64Array;
  unitFlow: Float64Array;
  qKw: Float64Array;
}

export function newUnits(units: number): Units {
  return {
    tempC: new Float64Array(units),
    uaKwK: new Float64Array(units),
    capKWhK: new Float64Array(units),
    kRad: new Float64Array(units),
    unitFlow: new Float64Array(units),
    qKw: new Float64Array(units),
  };
}

/** What sizing one building's units needs besides the building itself. */
export interface UnitSizing {
  p: SimConfig['physics'];
  seed: number;
  /** Index of the building's first unit. */
  next: number;
  uaMid: number;
  kMid: number;
  effDesign: number;
  /** Whether the building's exposed units get too little flow, and by what factor. */
  unbalanced: boolean;
  unbalancedExposedFactor: number;
}

/**
 * Sizes every unit of a building (loss, thermal mass, radiator, flow factor) and returns the
 * building's design heat, kW.
 */
export function sizeUnits(u: Units, b: Registry['buildings'][number], z: UnitSizing): number {
  const { p, next, uaMid, kMid, effDesign } = z;
  const n = p.radiatorExponent;
  let designKw = 0;
  for (let floor = 1; floor <= b.floors; floor++) {
    for (let col = 1; col <= b.unitsPerFloor; col++) {
      const i = next + (floor - 1) * b.unitsPerFloor + (col - 1);
      const classes = positionClasses(floor, col, b.floors, b.unitsPerFloor);
      const loss = exposureLoss(classes, p);
      const uaVar = unitVariation(p.unitVariationPct, z.seed, 'ua', b.id, floor, col);
      const kVar = unitVariation(p.unitVariationPct, z.seed, 'rad', b.id, floor, col);
      u.uaKwK[i] = uaMid * loss * uaVar;
      // Same thermal mass per unit; the time constant follows from the middle unit's.
      u.capKWhK[i] = p.timeConstantH * uaMid;
      u.kRad[i] = kMid * loss ** p.radiatorSizingExponent * kVar;
      const exposed = !classes.includes('middle');
      u.unitFlow[i] = z.unbalanced && exposed ? z.unbalancedExposedFactor : 1;
      designKw += u.kRad[i]! * Math.max(0, effDesign - p.designIndoorC) ** n;
    }
  }
  return designKw;
}

/**
 * Radiator output of every unit of a building into `qKw`, capped by what the building's flow can
 * carry; returns the building's totals and return temperature.
 */
export function buildingHeat(
  u: Units,
  p: SimConfig['physics'],
  b: BuildingState,
  effSupplyC: number,
): { heatKw: number; flowM3h: number; returnC: number } {
  const n = p.radiatorExponent;
  let sum = 0;
  let roomSum = 0;
  for (let i = b.first; i < b.first + b.count; i++) {
    const T = u.tempC[i]!;
    roomSum += T;
    const dT = effSupplyC - T;
    const q = dT > 0 ? u.kRad[i]! * flowOutputShare(b.flowShare * u.unitFlow[i]!, p.flowShapeK) * dT ** n : 0;
    u.qKw[i] = q;
    sum += q;
  }
  const flowM3h = b.nominalFlowM3h * b.flowShare;
  const roomMean = b.count > 0 ? roomSum / b.count : effSupplyC;
  // Water cannot come back colder than the rooms it heats (1 K short of them at the least).
  const capKw = flowM3h * WATER_KWH_PER_M3K * Math.max(0, effSupplyC - roomMean - 1);
  if (sum > capKw) {
    const scale = sum > 0 ? capKw / sum : 0;
    for (let i = b.first; i < b.first + b.count; i++) u.qKw[i] = u.qKw[i]! * scale;
    sum = capKw;
  }
  const returnC = flowM3h > 0 ? effSupplyC - sum / (flowM3h * WATER_KWH_PER_M3K) : roomMean;
  return { heatKw: sum, flowM3h, returnC };
}

/**
 * Sets every unit of a building to its steady state at supply `eff` and this outdoor temperature,
 * with the radiators scaled down until the building's flow can carry their output.
 */
export function steadyBuilding(
  u: Units,
  p: SimConfig['physics'],
  b: BuildingState,
  eff: number,
  outdoor: number,
): void {
  const n = p.radiatorExponent;
  const gainsKw = p.internalGainsW / 1000;
  let scale = 1;
  for (let iter = 0; iter < 8; iter++) {
    for (let i = b.first; i < b.first + b.count; i++) {
      const k = u.kRad[i]! * flowOutputShare(b.flowShare * u.unitFlow[i]!, p.flowShapeK) * scale;
      u.tempC[i] = steadyTemp(k, n, eff, u.uaKwK[i]!, outdoor, gainsKw);
    }
    const before = scale;
    // find the cap scale implied by these temperatures
    const { heatKw } = buildingHeatUnscaled(u, p, b, eff);
    const flowM3h = b.nominalFlowM3h * b.flowShare;
    let roomMean = 0;
    for (let i = b.first; i < b.first + b.count; i++) roomMean += u.tempC[i]!;
    roomMean /= Math.max(1, b.count);
    const capKw = flowM3h * WATER_KWH_PER_M3K * Math.max(0, eff - roomMean - 1);
    scale = heatKw > capKw && heatKw > 0 ? capKw / heatKw : 1;
    scale = (scale + before) / 2;
    if (Math.abs(scale - before) < 1e-4) break;
  }
}

function buildingHeatUnscaled(
  u: Units,
  p: SimConfig['physics'],
  b: BuildingState,
  effSupplyC: number,
): { heatKw: number } {
  const n = p.radiatorExponent;
  let sum = 0;
  for (let i = b.first; i < b.first + b.count; i++) {
    const dT = effSupplyC - u.tempC[i]!;
    if (dT > 0) sum += u.kRad[i]! * flowOutputShare(b.flowShare * u.unitFlow[i]!, p.flowShapeK) * dT ** n;
  }
  return { heatKw: sum };
}

/** Heat-loss factor of a unit against a middle unit: exposures add up, so a top gable corner loses most. */
export function exposureLoss(
  classes: readonly PositionClass[],
  extra: { topExtra: number; groundExtra: number; gableExtra: number },
): number {
  let loss = 1;
  if (classes.includes('top')) loss += extra.topExtra;
  if (classes.includes('ground')) loss += extra.groundExtra;
  if (classes.includes('gable')) loss += extra.gableExtra;
  return loss;
}

/** A unit's seeded deviation from its building (residents and rooms differ): 1 ± spread, bounded. */
export const unitVariation = (spreadPct: number, seed: number, ...key: Array<string | number>): number =>
  1 + (spreadPct / 100) * clamp(hashGauss(seed, ...key), -2.5, 2.5);

/** Radiator output share at flow share φ, (1 − e^(−kφ)) / (1 − e^(−k)): saturating, as real radiators do. */
export const flowOutputShare = (phi: number, k: number): number =>
  phi <= 0 ? 0 : (1 - Math.exp(-k * phi)) / (1 - Math.exp(-k));

/**
 * Steady room temperature of one unit: solves k·(eff − T)^n + gains = ua·(T − out). The left side
 * falls and the right side rises with T, so there is exactly one root; Newton's method inside a
 * shrinking bracket finds it in a few steps (735 000 units of a 100 000-sensor network start fast).
 */
function steadyTemp(k: number, n: number, eff: number, ua: number, out: number, gains: number): number {
  const f = (t: number): number => {
    const dT = eff - t;
    return (dT > 0 ? k * dT ** n : 0) + gains - ua * (t - out);
  };
  let lo = Math.min(out, eff) - 1;
  let hi = Math.max(eff, out + gains / ua) + 1;
  let t = Math.min(hi, Math.max(lo, 20));
  for (let it = 0; it < 60; it++) {
    const ft = f(t);
    if (Math.abs(ft) < 1e-9) return t;
    if (ft > 0) lo = t;
    else hi = t;
    const dT = eff - t;
    const slope = -(dT > 0 ? n * k * dT ** (n - 1) : 0) - ua;
    let next = t - ft / slope;
    if (!(next > lo && next < hi)) next = (lo + hi) / 2;
    if (Math.abs(next - t) < 1e-7) return next;
    t = next;
  }
  return t;
}
