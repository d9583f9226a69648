/**
 * The simulated network's substations and hydraulics (firmware-sim/physics.ts): what a substation
 * steers to, how its flow divides among its buildings, which buildings the scripted faults hit, and
 * the setpoints and telemetry its controller exchanges.
 */
import type { SimConfig } from '../src/config/sim-schema.ts';
import { curveSupplyC, type Registry } from '../src/core/registry.ts';
import { hash01 } from './random.ts';

/** Volumetric heat capacity of water at ~50 °C, kWh per m³ per K. */
export const WATER_KWH_PER_M3K = 1.163;

export interface SubstationTelemetry {
  ts: number;
  supplyTempC: number;
  returnTempC: number;
  flowM3h: number;
  heatKw: number;
  valvePct: number;
  outdoorTempC: number;
  supplyOffsetC: number;
  /** The id of the setpoint command the controller last applied (absent before the first one). */
  setpointId?: string;
}

export interface SimSetpoint {
  supplyOffset?: number;
  slopeDelta?: number;
  /** A fixed supply temperature instead of the curve; `null` returns to the curve. */
  supplyTemp?: number | null;
  valve?: number;
  /** Entry-valve opening 0..100 % per building. */
  buildingValves?: Record<string, number>;
  /** The command's id; the controller reports it back once the setpoint is in force. */
  setpointId?: string;
}

export interface SubState {
  id: string;
  curve: Registry['substations'][number]['curve'];
  buildings: number[];
  offsetC: number;
  slopeDelta: number;
  supplyOverrideC: number | null;
  valvePct: number;
  supplyC: number;
  returnC: number;
  flowM3h: number;
  heatKw: number;
  heatKWh: number;
  setpointId?: string;
  /** Commands received but not yet applied (a slow controller), in arrival order. */
  queued: Array<{ dueMs: number; sp: SimSetpoint }>;
}

export interface BuildingState {
  id: string;
  sub: number;
  floors: number;
  unitsPerFloor: number;
  first: number;
  count: number;
  hydraulic: number;
  entryPct: number;
  flowShare: number;
  nominalFlowM3h: number;
}

export const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

/** A substation as it starts: on its curve, nominal valve, no command received yet. */
export function newSubState(s: Registry['substations'][number], p: SimConfig['physics']): SubState {
  return {
    id: s.id,
    curve: s.curve,
    buildings: [],
    offsetC: 0,
    slopeDelta: 0,
    supplyOverrideC: null,
    valvePct: p.nominalValvePct,
    supplyC: 0,
    returnC: 0,
    flowM3h: 0,
    heatKw: 0,
    heatKWh: 0,
    queued: [],
  };
}

export function chooseFaults(
  ids: string[],
  f: SimConfig['faults'],
  seed: number,
): { underSupplied: string[]; unbalanced: string[] } {
  const known = new Set(ids);
  const pick = (name: string, share: number, exclude: Set<string>): string[] => {
    const pool = ids.filter((id) => !exclude.has(id));
    const k = share > 0 ? Math.max(ids.length >= 4 ? 1 : 0, Math.round(share * ids.length)) : 0;
    return pool
      .map((id) => ({ id, r: hash01(seed, name, id) }))
      .sort((a, b) => a.r - b.r)
      .slice(0, Math.min(k, pool.length))
      .map((x) => x.id)
      .sort();
  };
  const underSupplied = f.underSupplied
    ? f.underSupplied.filter((id) => known.has(id))
    : pick('under', f.underSuppliedShare, new Set());
  const unbalanced = f.unbalanced
    ? f.unbalanced.filter((id) => known.has(id))
    : pick('unbal', f.unbalancedShare, new Set(underSupplied));
  return { underSupplied, unbalanced };
}

/**
 * Flow shares within one substation: each building draws in proportion to its entry-valve opening
 * × hydraulic factor; the pump delivers more total flow when more is open, less than
 * proportionally (square-root pump/system curve), and the substation valve scales it all.
 */
export function updateFlowShares(s: SubState, bldgs: BuildingState[], p: SimConfig['physics']): void {
  const weights = s.buildings.map((bi) => {
    const b = bldgs[bi]!;
    return (b.entryPct / p.nominalEntryValvePct) * b.hydraulic;
  });
  const total = weights.reduce((a, w) => a + w, 0);
  const nb = s.buildings.length;
  const valveScale = s.valvePct / p.nominalValvePct;
  s.buildings.forEach((bi, k) => {
    bldgs[bi]!.flowShare = total > 0 ? weights[k]! * valveScale * Math.sqrt(nb / total) : 0;
  });
}

/** The supply temperature a substation steers to at this outdoor temperature (curve or fixed), °C. */
export function targetSupply(s: SubState, outdoorC: number): number {
  return s.supplyOverrideC ?? curveSupplyC(s.curve, outdoorC, s.offsetC, s.slopeDelta);
}

/**
 * Applies a setpoint with absolute semantics: each field present is the value in force from now
 * on; absent fields keep theirs. Values are clamped to what the equipment can do, never thrown at.
 * Building valves apply only to the substation's own buildings (index `si`).
 */
export function applySetpointTo(
  s: SubState,
  si: number,
  sp: SimSetpoint,
  bldgs: BuildingState[],
  bldgIndex: Map<string, number>,
): void {
  const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
  if (finite(sp.supplyOffset)) s.offsetC = clamp(sp.supplyOffset, -30, 30);
  if (finite(sp.slopeDelta)) s.slopeDelta = clamp(sp.slopeDelta, -s.curve.slope, 5);
  if (sp.supplyTemp === null) s.supplyOverrideC = null;
  else if (finite(sp.supplyTemp))
    s.supplyOverrideC = clamp(sp.supplyTemp, s.curve.minSupplyC, s.curve.maxSupplyC);
  if (finite(sp.valve)) s.valvePct = clamp(sp.valve, 0, 100);
  if (typeof sp.setpointId === 'string') s.setpointId = sp.setpointId;
  if (sp.buildingValves && typeof sp.buildingValves === 'object') {
    for (const [id, pct] of Object.entries(sp.buildingValves)) {
      const bi = bldgIndex.get(id);
      if (bi === undefined || !finite(pct) || bldgs[bi]!.sub !== si) continue;
      bldgs[bi]!.entryPct = clamp(pct, 0, 100);
    }
  }
}

/** A substation's meter after a balance: mixed return, and flow · c · (supply − return). */
export function meterSubstation(s: SubState, flowSum: number, returnSum: number): void {
  s.flowM3h = flowSum;
  s.returnC = flowSum > 0 ? returnSum / flowSum : s.supplyC;
  // The meter measures flow · c · (supply − return); that includes the network's own losses.
  s.heatKw = flowSum * WATER_KWH_PER_M3K * Math.max(0, s.supplyC - s.returnC);
}
