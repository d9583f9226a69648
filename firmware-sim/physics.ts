/**
 * The simulated heating network: pure and deterministic (seeded, no wall clock, no I/O).
 *
 * Model (docs/domain.md "Who heats what", "Why some flats are colder"):
 * - each unit is one thermal node: C·dT/dt = Q_radiator − UA·(T − T_out) + gains, with a larger UA for
 *   top, ground and gable units (they add up, so a top gable corner loses most);
 * - radiator output Q = K · g(φ) · (T_eff − T)^n, n ≈ 1.3 (EN 442), where T_eff is the supply
 *   temperature arriving at the building and g(φ) the output share at flow share φ (entry-valve
 *   opening × hydraulic factor × the substation's pump/valve), saturating as real radiators do;
 *   a building's heat is also capped by what its flow can carry (flow · c · (T_supply − T_room));
 * - the substation's supply follows its heating curve (curveSupplyC) plus offset and slope change,
 *   through a first-order lag of the network water; return temperature and metered heat come from
 *   the energy balance of the buildings it serves;
 * - outdoor temperature: a daily cycle, smooth seeded variation, and scripted cold spells.
 * Radiators are sized so a healthy middle unit holds `designIndoorC` at `designOutdoorC`; exposed
 * units' radiators are undersized relative to their extra loss (sizing exponent < 1), so they sit
 * lower, as docs/domain.md describes.
 */
import type { ColdSpell, SimConfig } from '../src/config/sim-schema.ts';
import { curveSupplyC, type PositionClass, positionClasses, type Registry } from '../src/core/registry.ts';
import { hash01, hashGauss, smoothNoise } from './random.ts';

const HOUR_MS = 3_600_000;
/** Volumetric heat capacity of water at ~50 °C, kWh per m³ per K. */
const WATER_KWH_PER_M3K = 1.163;

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

export interface SimForecast {
  issued: number;
  points: Array<{ ts: number; outdoorTempC: number }>;
}

interface SubState {
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

interface BuildingState {
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

const clamp = (x: number, lo: number, hi: number): number => Math.min(hi, Math.max(lo, x));

export class SimNetwork {
  private t: number;
  private readonly startMs: number;
  private readonly seed: number;
  private readonly cfg: SimConfig;
  private readonly subs: SubState[] = [];
  private readonly subIndex = new Map<string, number>();
  private readonly bldgs: BuildingState[] = [];
  private readonly bldgIndex = new Map<string, number>();
  private readonly sensorUnit = new Map<string, number>();
  // per-unit state in typed arrays: 100 000 sensors means ~500 000 units
  private readonly tempC: Float64Array;
  private readonly uaKwK: Float64Array;
  private readonly capKWhK: Float64Array;
  private readonly kRad: Float64Array;
  private readonly unitFlow: Float64Array;
  private readonly qKw: Float64Array;
  private readonly underSupplied: string[];
  private readonly unbalanced: string[];
  private queuedCount = 0;

  constructor(registry: Registry, scenario: SimConfig, startMs: number) {
    this.cfg = scenario;
    this.seed = scenario.seed;
    this.startMs = startMs;
    this.t = startMs;
    const p = scenario.physics;

    registry.substations.forEach((s, i) => {
      this.subIndex.set(s.id, i);
      this.subs.push({
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
      });
    });

    const known = registry.buildings.filter((b) => this.subIndex.has(b.substationId));
    const faults = this.chooseFaults(known.map((b) => b.id));
    this.underSupplied = faults.underSupplied;
    this.unbalanced = faults.unbalanced;
    const under = new Set(this.underSupplied);
    const unbal = new Set(this.unbalanced);

    let units = 0;
    for (const b of known) units += b.floors * b.unitsPerFloor;
    this.tempC = new Float64Array(units);
    this.uaKwK = new Float64Array(units);
    this.capKWhK = new Float64Array(units);
    this.kRad = new Float64Array(units);
    this.unitFlow = new Float64Array(units);
    this.qKw = new Float64Array(units);

    const uaMid = p.uaMiddleWPerK / 1000;
    const gainsKw = p.internalGainsW / 1000;
    const n = p.radiatorExponent;
    let next = 0;
    for (const b of known) {
      const subIdx = this.subIndex.get(b.substationId)!;
      const sub = this.subs[subIdx]!;
      // Radiators sized for the design point on this substation's curve (a healthy middle unit).
      const effDesign = curveSupplyC(sub.curve, p.designOutdoorC) - p.networkDropC;
      const needKw = uaMid * (p.designIndoorC - p.designOutdoorC) - gainsKw;
      const kMid = Math.max(0, needKw) / Math.max(1, effDesign - p.designIndoorC) ** n;
      const bi = this.bldgs.length;
      const count = b.floors * b.unitsPerFloor;
      let designKw = 0;
      for (let floor = 1; floor <= b.floors; floor++) {
        for (let col = 1; col <= b.unitsPerFloor; col++) {
          const i = next + (floor - 1) * b.unitsPerFloor + (col - 1);
          const classes = positionClasses(floor, col, b.floors, b.unitsPerFloor);
          const loss = exposureLoss(classes, p);
          const uaVar = unitVariation(p.unitVariationPct, this.seed, 'ua', b.id, floor, col);
          const kVar = unitVariation(p.unitVariationPct, this.seed, 'rad', b.id, floor, col);
          this.uaKwK[i] = uaMid * loss * uaVar;
          // Same thermal mass per unit; the time constant follows from the middle unit's.
          this.capKWhK[i] = p.timeConstantH * uaMid;
          this.kRad[i] = kMid * loss ** p.radiatorSizingExponent * kVar;
          const exposed = !classes.includes('middle');
          this.unitFlow[i] = unbal.has(b.id) && exposed ? scenario.faults.unbalancedExposedFactor : 1;
          designKw += this.kRad[i]! * Math.max(0, effDesign - p.designIndoorC) ** n;
        }
      }
      this.bldgIndex.set(b.id, bi);
      sub.buildings.push(bi);
      this.bldgs.push({
        id: b.id,
        sub: subIdx,
        floors: b.floors,
        unitsPerFloor: b.unitsPerFloor,
        first: next,
        count,
        hydraulic: under.has(b.id) ? scenario.faults.underSupplyFactor : 1,
        entryPct: p.nominalEntryValvePct,
        flowShare: 1,
        // Nominal flow carries the design heat with the design supply→return drop.
        nominalFlowM3h: designKw / (WATER_KWH_PER_M3K * p.designDeltaTK),
      });
      next += count;
    }

    for (const s of registry.sensors) {
      const bi = this.bldgIndex.get(s.buildingId);
      if (bi === undefined) continue;
      const b = this.bldgs[bi]!;
      if (s.floor < 1 || s.floor > b.floors || s.column < 1 || s.column > b.unitsPerFloor) continue;
      this.sensorUnit.set(s.id, b.first + (s.floor - 1) * b.unitsPerFloor + (s.column - 1));
    }

    for (let si = 0; si < this.subs.length; si++) this.updateFlowShares(si);
    this.initSteadyState();
  }

  get nowMs(): number {
    return this.t;
  }

  /** Advances the physics by `dtMs`, in sub-steps of at most `physics.maxStepS`. */
  step(dtMs: number): void {
    if (!(dtMs > 0) || !Number.isFinite(dtMs)) return;
    const maxMs = this.cfg.physics.maxStepS * 1000;
    let left = dtMs;
    while (left > 0) {
      const h = Math.min(maxMs, left);
      if (this.queuedCount > 0) this.applyQueued();
      this.subStep(h);
      left -= h;
    }
  }

  unitTempC(buildingId: string, floor: number, column: number): number {
    const bi = this.bldgIndex.get(buildingId);
    if (bi === undefined) return Number.NaN;
    const b = this.bldgs[bi]!;
    if (floor < 1 || floor > b.floors || column < 1 || column > b.unitsPerFloor) return Number.NaN;
    return this.tempC[b.first + (floor - 1) * b.unitsPerFloor + (column - 1)]!;
  }

  sensorTempC(sensorId: string): number {
    const i = this.sensorUnit.get(sensorId);
    return i === undefined ? Number.NaN : this.tempC[i]!;
  }

  outdoorTempC(): number {
    return this.outdoorAt(this.t);
  }

  /**
   * The weather service's view of the next hours: the scripted profile (daily cycle and cold spells
   * are known ahead), the current anomaly fading out, and a seeded error growing with the horizon.
   */
  forecast(): SimForecast {
    const w = this.cfg.weather;
    const issued = this.t;
    const anomaly = this.noiseAt(issued);
    const firstHour = Math.ceil(issued / HOUR_MS) * HOUR_MS;
    const points: SimForecast['points'] = [];
    const issueKey = Math.floor(issued / HOUR_MS);
    for (let k = 0; k < w.forecastHorizonH; k++) {
      const ts = firstHour + k * HOUR_MS;
      const aheadH = (ts - issued) / HOUR_MS;
      const err =
        w.forecastErrorC * Math.sqrt(aheadH / 72) * smoothNoise(this.seed, `fc${issueKey}`, aheadH, 12);
      const value = this.scriptedAt(ts) + anomaly * Math.exp(-aheadH / w.noiseHours) + err;
      points.push({ ts, outdoorTempC: Math.round(value * 10) / 10 });
    }
    return { issued, points };
  }

  substationTelemetry(substationId: string): SubstationTelemetry {
    const si = this.subIndex.get(substationId);
    const s = si === undefined ? undefined : this.subs[si];
    if (!s)
      return {
        ts: this.t,
        supplyTempC: Number.NaN,
        returnTempC: Number.NaN,
        flowM3h: Number.NaN,
        heatKw: Number.NaN,
        valvePct: Number.NaN,
        outdoorTempC: this.outdoorTempC(),
        supplyOffsetC: Number.NaN,
      };
    return {
      ts: this.t,
      supplyTempC: s.supplyC,
      returnTempC: s.returnC,
      flowM3h: s.flowM3h,
      heatKw: s.heatKw,
      valvePct: s.valvePct,
      outdoorTempC: this.outdoorTempC(),
      supplyOffsetC: s.offsetC,
      setpointId: s.setpointId,
    };
  }

  /**
   * A command as the substation's controller receives it (config `controller`): a controller listed
   * in `ignoring` drops it, one with `applyDelayS` applies it that much later, otherwise at once.
   * Returns what the controller did with it.
   */
  receiveSetpoint(substationId: string, sp: SimSetpoint): 'applied' | 'queued' | 'ignored' {
    const si = this.subIndex.get(substationId);
    if (si === undefined || this.cfg.controller.ignoring.includes(substationId)) return 'ignored';
    const delayMs = this.cfg.controller.applyDelayS * 1000;
    if (delayMs <= 0) {
      this.applySetpoint(substationId, sp);
      return 'applied';
    }
    this.subs[si]!.queued.push({ dueMs: this.t + delayMs, sp });
    this.queuedCount++;
    return 'queued';
  }

  /** Applies the queued commands that have come due, in the order they arrived. */
  private applyQueued(): void {
    for (const s of this.subs) {
      while (s.queued.length > 0 && s.queued[0]!.dueMs <= this.t) {
        this.applySetpoint(s.id, s.queued.shift()!.sp);
        this.queuedCount--;
      }
    }
  }

  /**
   * Applies a setpoint with absolute semantics: each field present is the value in force from now
   * on; absent fields keep theirs. Values are clamped to what the equipment can do, never thrown at.
   */
  applySetpoint(substationId: string, sp: SimSetpoint): void {
    const si = this.subIndex.get(substationId);
    if (si === undefined) return;
    const s = this.subs[si]!;
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
        const bi = this.bldgIndex.get(id);
        if (bi === undefined || !finite(pct) || this.bldgs[bi]!.sub !== si) continue;
        this.bldgs[bi]!.entryPct = clamp(pct, 0, 100);
      }
    }
    this.updateFlowShares(si);
  }

  heatDeliveredKWh(substationId?: string): number {
    if (substationId !== undefined) {
      const si = this.subIndex.get(substationId);
      return si === undefined ? 0 : this.subs[si]!.heatKWh;
    }
    return this.subs.reduce((a, s) => a + s.heatKWh, 0);
  }

  faults(): { underSupplied: string[]; unbalanced: string[] } {
    return { underSupplied: [...this.underSupplied], unbalanced: [...this.unbalanced] };
  }

  /** The supply temperature a substation is steering to right now (curve or fixed), °C. */
  supplyTargetC(substationId: string): number {
    const si = this.subIndex.get(substationId);
    return si === undefined ? Number.NaN : this.targetSupply(this.subs[si]!, this.outdoorTempC());
  }

  /** Flow share of a building (1 = nominal), for diagnostics and tests. */
  buildingFlowShare(buildingId: string): number {
    const bi = this.bldgIndex.get(buildingId);
    return bi === undefined ? Number.NaN : this.bldgs[bi]!.flowShare;
  }

  // ---------------------------------------------------------------------------------------------

  private chooseFaults(ids: string[]): { underSupplied: string[]; unbalanced: string[] } {
    const f = this.cfg.faults;
    const known = new Set(ids);
    const pick = (name: string, share: number, exclude: Set<string>): string[] => {
      const pool = ids.filter((id) => !exclude.has(id));
      const k = share > 0 ? Math.max(ids.length >= 4 ? 1 : 0, Math.round(share * ids.length)) : 0;
      return pool
        .map((id) => ({ id, r: hash01(this.seed, name, id) }))
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
  private updateFlowShares(si: number): void {
    const s = this.subs[si]!;
    const p = this.cfg.physics;
    const weights = s.buildings.map((bi) => {
      const b = this.bldgs[bi]!;
      return (b.entryPct / p.nominalEntryValvePct) * b.hydraulic;
    });
    const total = weights.reduce((a, w) => a + w, 0);
    const nb = s.buildings.length;
    const valveScale = s.valvePct / p.nominalValvePct;
    s.buildings.forEach((bi, k) => {
      this.bldgs[bi]!.flowShare = total > 0 ? weights[k]! * valveScale * Math.sqrt(nb / total) : 0;
    });
  }

  private flowOutput(phi: number): number {
    return flowOutputShare(phi, this.cfg.physics.flowShapeK);
  }

  private targetSupply(s: SubState, outdoorC: number): number {
    return s.supplyOverrideC ?? curveSupplyC(s.curve, outdoorC, s.offsetC, s.slopeDelta);
  }

  private coldSpellAt(ms: number): number {
    const h = (ms - this.startMs) / HOUR_MS;
    let depth = 0;
    for (const spell of this.cfg.weather.coldSpells) depth += spellDepth(spell, h);
    return depth;
  }

  /** Normal profile (mean + daily cycle) minus scripted cold spells: what a forecaster knows. */
  private scriptedAt(ms: number): number {
    const w = this.cfg.weather;
    const hourOfDay = (ms / HOUR_MS) % 24;
    const daily = w.dailyAmplitudeC * Math.cos((2 * Math.PI * (hourOfDay - w.warmestHour)) / 24);
    return w.meanC + daily - this.coldSpellAt(ms);
  }

  private noiseAt(ms: number): number {
    const w = this.cfg.weather;
    return w.noiseC * smoothNoise(this.seed, 'weather', ms / HOUR_MS, w.noiseHours);
  }

  private outdoorAt(ms: number): number {
    return this.scriptedAt(ms) + this.noiseAt(ms);
  }

  /** One explicit-Euler sub-step (stable: every time constant is far longer than a minute). */
  private subStep(dtMs: number): void {
    const p = this.cfg.physics;
    const dtH = dtMs / HOUR_MS;
    const outdoor = this.outdoorAt(this.t + dtMs / 2);
    const lag = p.networkLagMin > 0 ? 1 - Math.exp(-(dtH * 60) / p.networkLagMin) : 1;
    const gainsKw = p.internalGainsW / 1000;
    for (const s of this.subs) {
      s.supplyC += (this.targetSupply(s, outdoor) - s.supplyC) * lag;
      let flowSum = 0;
      let returnSum = 0;
      for (const bi of s.buildings) {
        const b = this.bldgs[bi]!;
        const { flowM3h, returnC } = this.buildingHeat(b, s.supplyC - p.networkDropC);
        for (let i = b.first; i < b.first + b.count; i++) {
          const T = this.tempC[i]!;
          this.tempC[i] =
            T + (dtH * (this.qKw[i]! + gainsKw - this.uaKwK[i]! * (T - outdoor))) / this.capKWhK[i]!;
        }
        flowSum += flowM3h;
        returnSum += flowM3h * returnC;
      }
      s.flowM3h = flowSum;
      s.returnC = flowSum > 0 ? returnSum / flowSum : s.supplyC;
      // The meter measures flow · c · (supply − return); that includes the network's own losses.
      s.heatKw = flowSum * WATER_KWH_PER_M3K * Math.max(0, s.supplyC - s.returnC);
      s.heatKWh += s.heatKw * dtH;
    }
    this.t += dtMs;
  }

  /**
   * Radiator output of every unit of a building into `qKw`, capped by what the building's flow can
   * carry; returns the building's totals and return temperature.
   */
  private buildingHeat(
    b: BuildingState,
    effSupplyC: number,
  ): { heatKw: number; flowM3h: number; returnC: number } {
    const n = this.cfg.physics.radiatorExponent;
    let sum = 0;
    let roomSum = 0;
    for (let i = b.first; i < b.first + b.count; i++) {
      const T = this.tempC[i]!;
      roomSum += T;
      const dT = effSupplyC - T;
      const q = dT > 0 ? this.kRad[i]! * this.flowOutput(b.flowShare * this.unitFlow[i]!) * dT ** n : 0;
      this.qKw[i] = q;
      sum += q;
    }
    const flowM3h = b.nominalFlowM3h * b.flowShare;
    const roomMean = b.count > 0 ? roomSum / b.count : effSupplyC;
    // Water cannot come back colder than the rooms it heats (1 K short of them at the least).
    const capKw = flowM3h * WATER_KWH_PER_M3K * Math.max(0, effSupplyC - roomMean - 1);
    if (sum > capKw) {
      const scale = sum > 0 ? capKw / sum : 0;
      for (let i = b.first; i < b.first + b.count; i++) this.qKw[i] = this.qKw[i]! * scale;
      sum = capKw;
    }
    const returnC = flowM3h > 0 ? effSupplyC - sum / (flowM3h * WATER_KWH_PER_M3K) : roomMean;
    return { heatKw: sum, flowM3h, returnC };
  }

  /** Starts every unit at its steady state for the starting weather, so a run has no warm-up. */
  private initSteadyState(): void {
    const p = this.cfg.physics;
    const n = p.radiatorExponent;
    const outdoor = this.outdoorAt(this.t);
    const gainsKw = p.internalGainsW / 1000;
    for (const s of this.subs) {
      s.supplyC = this.targetSupply(s, outdoor);
      const eff = s.supplyC - p.networkDropC;
      for (const bi of s.buildings) {
        const b = this.bldgs[bi]!;
        let scale = 1;
        for (let iter = 0; iter < 8; iter++) {
          for (let i = b.first; i < b.first + b.count; i++) {
            const k = this.kRad[i]! * this.flowOutput(b.flowShare * this.unitFlow[i]!) * scale;
            this.tempC[i] = steadyTemp(k, n, eff, this.uaKwK[i]!, outdoor, gainsKw);
          }
          const before = scale;
          // find the cap scale implied by these temperatures
          const { heatKw } = this.buildingHeatUnscaled(b, eff);
          const flowM3h = b.nominalFlowM3h * b.flowShare;
          let roomMean = 0;
          for (let i = b.first; i < b.first + b.count; i++) roomMean += this.tempC[i]!;
          roomMean /= Math.max(1, b.count);
          const capKw = flowM3h * WATER_KWH_PER_M3K * Math.max(0, eff - roomMean - 1);
          scale = heatKw > capKw && heatKw > 0 ? capKw / heatKw : 1;
          scale = (scale + before) / 2;
          if (Math.abs(scale - before) < 1e-4) break;
        }
      }
      // prime telemetry values with a zero-length balance
      let flowSum = 0;
      let returnSum = 0;
      for (const bi of s.buildings) {
        const r = this.buildingHeat(this.bldgs[bi]!, eff);
        flowSum += r.flowM3h;
        returnSum += r.flowM3h * r.returnC;
      }
      s.flowM3h = flowSum;
      s.returnC = flowSum > 0 ? returnSum / flowSum : s.supplyC;
      s.heatKw = flowSum * WATER_KWH_PER_M3K * Math.max(0, s.supplyC - s.returnC);
    }
  }

  private buildingHeatUnscaled(b: BuildingState, effSupplyC: number): { heatKw: number } {
    const n = this.cfg.physics.radiatorExponent;
    let sum = 0;
    for (let i = b.first; i < b.first + b.count; i++) {
      const dT = effSupplyC - this.tempC[i]!;
      if (dT > 0) sum += this.kRad[i]! * this.flowOutput(b.flowShare * this.unitFlow[i]!) * dT ** n;
    }
    return { heatKw: sum };
  }
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

/** Depth of one cold spell `h` hours after the start: ramp down, hold, ramp up. */
export function spellDepth(spell: ColdSpell, h: number): number {
  const t = h - spell.startH;
  if (t <= 0) return 0;
  const ramp = spell.rampH;
  if (t < ramp) return (spell.depthC * t) / ramp;
  if (t <= ramp + spell.durationH) return spell.depthC;
  const after = t - ramp - spell.durationH;
  if (after < ramp) return spell.depthC * (1 - after / ramp);
  return 0;
}

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
