/**
 * The twin's physics, stepped at a fixed interval. Each unit is one thermal node,
 * C·dT/dt = Q_radiator + gains − UA·w·(T − T_out), with w > 1 while its residents keep a window open
 * (they open it when too warm: over-supply is wasted, not banked). Radiators give
 * K·g(φ)·(T_eff − T)^n, capped by what the building's flow carries. A substation's supply follows its
 * curve through a first-order lag and reaches the buildings after a transport delay; the heat source
 * has a capacity, and when the network asks for more, every building gets its share of less.
 */
import { curveSupplyC, type HeatingCurve, isExposed, positionClasses } from '../../src/core/registry.ts';
import { exposureLoss, flowOutputShare, type SimSetpoint, unitVariation } from '../physics.ts';
import { hashGauss } from '../random.ts';
import type { BuildingPhysics, Estate } from './estate.ts';
import type { TwinScenario } from './scenario.ts';
import type { TwinWeather } from './weather.ts';

const HOUR_MS = 3_600_000;
/** Volumetric heat capacity of water at ~50 °C, kWh per m³ per K. */
const WATER_KWH_PER_M3K = 1.163;
/** A window shuts again this far below the temperature it was opened at, °C. */
const WINDOW_HYSTERESIS_C = 1;

interface Sub {
  id: string;
  curve: HeatingCurve;
  lagMin: number;
  delaySteps: number;
  pipeDropC: number;
  buildings: number[];
  offsetC: number;
  slopeDelta: number;
  /** Id of the last command put in force, reported back as the controller's confirmation. */
  setpointId: string | undefined;
  supplyC: number;
  /** Supply of past steps, newest last, for the transport delay. */
  history: number[];
  returnC: number;
  flowM3h: number;
  heatKw: number;
}

interface Bldg {
  p: BuildingPhysics;
  sub: number;
  first: number;
  count: number;
  entryPct: number;
  flowShare: number;
  designFlowM3h: number;
  heatKw: number;
  flowM3h: number;
}

export interface SubstationMeter {
  supplyTempC: number;
  returnTempC: number;
  flowM3h: number;
  heatKw: number;
  supplyOffsetC: number;
  setpointId?: string;
}

export class TwinPlant {
  private t: number;
  private readonly stepMs: number;
  private readonly subs: Sub[] = [];
  private readonly subIndex = new Map<string, number>();
  private readonly bldgs: Bldg[] = [];
  private readonly bldgIndex = new Map<string, number>();
  private readonly tempC: Float64Array;
  private readonly uaKwK: Float64Array;
  private readonly capKWhK: Float64Array;
  private readonly kRad: Float64Array;
  private readonly unitFlow: Float64Array;
  private readonly windowAboveC: Float64Array;
  private readonly windowOpen: Uint8Array;
  private readonly qKw: Float64Array;
  private readonly capacityKw: number;
  private heatKWh = 0;
  /** Share of the asked-for heat the source delivered in the last step (1: no shortfall). */
  sourceShare = 1;

  constructor(
    private readonly sc: TwinScenario,
    estate: Estate,
    private readonly weather: TwinWeather,
    seed: number,
    startMs: number,
  ) {
    this.t = startMs;
    this.stepMs = sc.stepMin * 60_000;
    const bp = sc.buildings;
    for (const s of estate.substations) {
      const reg = estate.registry.substations.get(s.id)!;
      this.subIndex.set(s.id, this.subs.length);
      this.subs.push({
        id: s.id,
        curve: reg.curve,
        lagMin: s.supplyLagMin,
        delaySteps: Math.round((s.transportDelayH * 60) / sc.stepMin),
        pipeDropC: s.pipeDropC,
        buildings: [],
        offsetC: 0,
        slopeDelta: 0,
        setpointId: undefined,
        supplyC: Number.NaN,
        history: [],
        returnC: 0,
        flowM3h: 0,
        heatKw: 0,
      });
    }
    let units = 0;
    for (const b of estate.buildings) units += b.floors * b.unitsPerFloor;
    this.tempC = new Float64Array(units).fill(bp.designIndoorC);
    this.uaKwK = new Float64Array(units);
    this.capKWhK = new Float64Array(units);
    this.kRad = new Float64Array(units);
    this.unitFlow = new Float64Array(units);
    this.windowAboveC = new Float64Array(units);
    this.windowOpen = new Uint8Array(units);
    this.qKw = new Float64Array(units);
    let designNeedKw = 0;
    let next = 0;
    for (const b of estate.buildings) {
      const si = this.subIndex.get(b.substationId)!;
      const sub = this.subs[si]!;
      const excess = estate.substations[si]!.curveExcessC;
      const designSupply = curveSupplyC(sub.curve, bp.designOutdoorC) - sub.pipeDropC - excess;
      const designDt = Math.max(5, designSupply - bp.designIndoorC);
      const midNeedKw = Math.max(0.1, b.uaMiddleKwK * (bp.designIndoorC - bp.designOutdoorC) - b.gainsKw);
      const kMid = (b.radiatorSizing * midNeedKw) / designDt ** bp.radiatorExponent;
      const count = b.floors * b.unitsPerFloor;
      let designKw = 0;
      for (let floor = 1; floor <= b.floors; floor++)
        for (let col = 1; col <= b.unitsPerFloor; col++) {
          const i = next + (floor - 1) * b.unitsPerFloor + (col - 1);
          const classes = positionClasses(floor, col, b.floors, b.unitsPerFloor);
          const loss = exposureLoss(classes, b);
          const vary = (name: string) => unitVariation(bp.unitVariationPct, seed, name, b.id, floor, col);
          this.uaKwK[i] = b.uaMiddleKwK * loss * vary('twin-ua');
          this.capKWhK[i] = b.timeConstantH * b.uaMiddleKwK;
          this.kRad[i] = kMid * loss ** b.exposedSizingExponent * vary('twin-rad');
          this.unitFlow[i] = isExposed(classes) ? b.exposedFlowFactor : 1;
          this.windowAboveC[i] =
            b.windowOpenAboveC + 0.5 * clamp(hashGauss(seed, 'twin-win', b.id, floor, col), -2, 2);
          designKw += this.kRad[i]! * designDt ** bp.radiatorExponent;
          designNeedKw += this.uaKwK[i]! * (bp.designIndoorC - bp.designOutdoorC) - b.gainsKw;
        }
      this.bldgIndex.set(b.id, this.bldgs.length);
      sub.buildings.push(this.bldgs.length);
      this.bldgs.push({
        p: b,
        sub: si,
        first: next,
        count,
        entryPct: b.entryValveStartPct,
        flowShare: 1,
        designFlowM3h: designKw / (WATER_KWH_PER_M3K * bp.designDeltaTK),
        heatKw: 0,
        flowM3h: 0,
      });
      next += count;
    }
    this.capacityKw = sc.network.sourceCapacityShare * designNeedKw;
    for (let si = 0; si < this.subs.length; si++) this.updateFlowShares(si);
  }

  get nowMs(): number {
    return this.t;
  }

  /** Runs the physics `days` before the current time without counting heat, then sets the clock back. */
  warmUp(days: number): void {
    const start = this.t;
    this.t = start - days * 24 * HOUR_MS;
    while (this.t < start) this.step();
    this.heatKWh = 0;
  }

  /** One fixed step of `stepMin`. */
  step(): void {
    const dtH = this.stepMs / HOUR_MS;
    const outdoor = this.weather.outdoorC(this.t + this.stepMs / 2);
    let askedKw = 0;
    for (const s of this.subs) {
      const target = curveSupplyC(s.curve, outdoor, s.offsetC, s.slopeDelta);
      if (Number.isNaN(s.supplyC)) s.supplyC = target;
      const follow = s.lagMin > 0 ? 1 - Math.exp(-(dtH * 60) / s.lagMin) : 1;
      s.supplyC += (target - s.supplyC) * follow;
      s.history.push(s.supplyC);
      if (s.history.length > s.delaySteps + 1) s.history.shift();
      const arriving = s.history[0]! - s.pipeDropC;
      for (const bi of s.buildings) askedKw += this.buildingHeat(this.bldgs[bi]!, arriving);
    }
    // The source delivers what it can; every unit gets the same share of what it asked for.
    this.sourceShare = askedKw > this.capacityKw ? this.capacityKw / askedKw : 1;
    for (const s of this.subs) {
      let flow = 0;
      let heat = 0;
      for (const bi of s.buildings) {
        const b = this.bldgs[bi]!;
        b.heatKw *= this.sourceShare;
        heat += b.heatKw;
        flow += b.flowM3h;
        this.stepUnits(b, outdoor, dtH);
      }
      s.flowM3h = flow;
      s.heatKw = heat;
      // The meter sees the supply the source could hold: return + heat / (flow · c).
      s.returnC = flow > 0 ? s.supplyC - heat / (flow * WATER_KWH_PER_M3K) / this.sourceShare : s.supplyC;
      this.heatKWh += heat * dtH;
    }
    this.t += this.stepMs;
  }

  private stepUnits(b: Bldg, outdoor: number, dtH: number): void {
    const gains = b.p.gainsKw;
    const wf = b.p.windowLossFactor;
    for (let i = b.first; i < b.first + b.count; i++) {
      const T = this.tempC[i]!;
      if (this.windowOpen[i]) {
        if (T < this.windowAboveC[i]! - WINDOW_HYSTERESIS_C) this.windowOpen[i] = 0;
      } else if (T > this.windowAboveC[i]!) this.windowOpen[i] = 1;
      const ua = this.uaKwK[i]! * (this.windowOpen[i] ? wf : 1);
      const q = this.qKw[i]! * this.sourceShare;
      this.tempC[i] = T + (dtH * (q + gains - ua * (T - outdoor))) / this.capKWhK[i]!;
    }
  }

  /** Radiator output each unit asks for into `qKw`, capped by the building's flow; returns the sum. */
  private buildingHeat(b: Bldg, effSupplyC: number): number {
    const n = this.sc.buildings.radiatorExponent;
    const k = this.sc.buildings.flowShapeK;
    let sum = 0;
    let roomSum = 0;
    for (let i = b.first; i < b.first + b.count; i++) {
      const T = this.tempC[i]!;
      roomSum += T;
      const phi = b.flowShare * this.unitFlow[i]!;
      const g = flowOutputShare(phi, k);
      const dT = effSupplyC - T;
      const q = dT > 0 ? this.kRad[i]! * g * dT ** n : 0;
      this.qKw[i] = q;
      sum += q;
    }
    b.flowM3h = b.designFlowM3h * b.flowShare;
    const capKw = b.flowM3h * WATER_KWH_PER_M3K * Math.max(0, effSupplyC - roomSum / b.count - 1);
    if (sum > capKw) {
      const scale = sum > 0 ? capKw / sum : 0;
      for (let i = b.first; i < b.first + b.count; i++) this.qKw[i] = this.qKw[i]! * scale;
      sum = capKw;
    }
    b.heatKw = sum;
    return sum;
  }

  /**
   * Flow shares within a substation: each building draws in proportion to its entry-valve opening
   * over its design opening; the pump gives more in total when more is open, less than
   * proportionally (square-root system curve).
   */
  private updateFlowShares(si: number): void {
    const s = this.subs[si]!;
    const w = s.buildings.map((bi) => this.bldgs[bi]!.entryPct / this.bldgs[bi]!.p.entryValveDesignPct);
    const total = w.reduce((a, x) => a + x, 0);
    s.buildings.forEach((bi, k) => {
      this.bldgs[bi]!.flowShare = total > 0 ? w[k]! * Math.sqrt(s.buildings.length / total) : 0;
    });
  }

  /** A setpoint with absolute semantics (as the MQTT simulator): fields present are now in force. */
  applySetpoint(substationId: string, sp: SimSetpoint): void {
    const si = this.subIndex.get(substationId);
    if (si === undefined) return;
    const s = this.subs[si]!;
    const finite = (x: unknown): x is number => typeof x === 'number' && Number.isFinite(x);
    if (finite(sp.supplyOffset)) s.offsetC = clamp(sp.supplyOffset, -30, 30);
    if (finite(sp.slopeDelta)) s.slopeDelta = clamp(sp.slopeDelta, -s.curve.slope, 5);
    for (const [id, pct] of Object.entries(sp.buildingValves ?? {})) {
      const bi = this.bldgIndex.get(id);
      if (bi !== undefined && finite(pct) && this.bldgs[bi]!.sub === si)
        this.bldgs[bi]!.entryPct = clamp(pct, 0, 100);
    }
    if (sp.setpointId !== undefined) s.setpointId = sp.setpointId;
    this.updateFlowShares(si);
  }

  offsetOf(substationId: string): number {
    const si = this.subIndex.get(substationId);
    return si === undefined ? 0 : this.subs[si]!.offsetC;
  }

  meter(substationId: string): SubstationMeter {
    const s = this.subs[this.subIndex.get(substationId)!]!;
    return {
      supplyTempC: s.returnC + (s.supplyC - s.returnC) * this.sourceShare,
      returnTempC: s.returnC,
      flowM3h: s.flowM3h,
      heatKw: s.heatKw,
      supplyOffsetC: s.offsetC,
      ...(s.setpointId === undefined ? {} : { setpointId: s.setpointId }),
    };
  }

  unitTempC(buildingId: string, floor: number, column: number): number {
    const b = this.bldgs[this.bldgIndex.get(buildingId)!]!;
    return this.tempC[b.first + (floor - 1) * b.p.unitsPerFloor + (column - 1)]!;
  }

  /** Every unit's temperature (truth, for the comfort figures; never shown to a strategy). */
  get unitTemps(): Float64Array {
    return this.tempC;
  }

  heatDeliveredKWh(): number {
    return this.heatKWh;
  }

  outdoorC(): number {
    return this.weather.outdoorC(this.t);
  }
}

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));
