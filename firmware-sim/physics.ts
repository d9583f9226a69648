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
import type { SimConfig } from '../src/config/sim-schema.ts';
import { curveSupplyC, type Registry } from '../src/core/registry.ts';
import {
  applySetpointTo,
  type BuildingState,
  chooseFaults,
  meterSubstation,
  newSubState,
  type SimSetpoint,
  type SubState,
  type SubstationTelemetry,
  targetSupply,
  updateFlowShares,
  WATER_KWH_PER_M3K,
} from './hydraulics.ts';
import { HOUR_MS, type SimForecast, SimWeather } from './sim-weather.ts';
import { buildingHeat, newUnits, sizeUnits, steadyBuilding, type Units } from './thermal.ts';

// The model is split by concern: substations and hydraulics (hydraulics.ts), the buildings' thermal
// model (thermal.ts) and the weather (sim-weather.ts); importers keep importing it all from here.
export type { SimSetpoint, SubstationTelemetry } from './hydraulics.ts';
export { type SimForecast, spellDepth } from './sim-weather.ts';
export { exposureLoss, flowOutputShare, unitVariation } from './thermal.ts';

export class SimNetwork {
  private t: number;
  private readonly seed: number;
  private readonly cfg: SimConfig;
  private readonly weather: SimWeather;
  private readonly subs: SubState[] = [];
  private readonly subIndex = new Map<string, number>();
  private readonly bldgs: BuildingState[] = [];
  private readonly bldgIndex = new Map<string, number>();
  private readonly sensorUnit = new Map<string, number>();
  private readonly u: Units;
  private readonly underSupplied: string[];
  private readonly unbalanced: string[];
  private queuedCount = 0;

  constructor(registry: Registry, scenario: SimConfig, startMs: number) {
    this.cfg = scenario;
    this.seed = scenario.seed;
    this.t = startMs;
    this.weather = new SimWeather(scenario, startMs);
    const p = scenario.physics;

    registry.substations.forEach((s, i) => {
      this.subIndex.set(s.id, i);
      this.subs.push(newSubState(s, p));
    });

    const known = registry.buildings.filter((b) => this.subIndex.has(b.substationId));
    const faults = chooseFaults(
      known.map((b) => b.id),
      this.cfg.faults,
      this.seed,
    );
    this.underSupplied = faults.underSupplied;
    this.unbalanced = faults.unbalanced;
    const under = new Set(this.underSupplied);
    const unbal = new Set(this.unbalanced);

    let units = 0;
    for (const b of known) units += b.floors * b.unitsPerFloor;
    this.u = newUnits(units);

    let next = 0;
    for (const b of known) next = this.addBuilding(b, next, under.has(b.id), unbal.has(b.id));

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
    return this.u.tempC[b.first + (floor - 1) * b.unitsPerFloor + (column - 1)]!;
  }

  sensorTempC(sensorId: string): number {
    const i = this.sensorUnit.get(sensorId);
    return i === undefined ? Number.NaN : this.u.tempC[i]!;
  }

  outdoorTempC(): number {
    return this.outdoorAt(this.t);
  }

  /**
   * The weather service's view of the next hours: the scripted profile (daily cycle and cold spells
   * are known ahead), the current anomaly fading out, and a seeded error growing with the horizon.
   */
  forecast(): SimForecast {
    return this.weather.forecast(this.t);
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
    applySetpointTo(this.subs[si]!, si, sp, this.bldgs, this.bldgIndex);
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

  /** Sizes one building's units for the design point and registers it with its substation. */
  private addBuilding(
    b: Registry['buildings'][number],
    next: number,
    underSupplied: boolean,
    unbalanced: boolean,
  ): number {
    const p = this.cfg.physics;
    const uaMid = p.uaMiddleWPerK / 1000;
    const gainsKw = p.internalGainsW / 1000;
    const n = p.radiatorExponent;
    const subIdx = this.subIndex.get(b.substationId)!;
    const sub = this.subs[subIdx]!;
    // Radiators sized for the design point on this substation's curve (a healthy middle unit).
    const effDesign = curveSupplyC(sub.curve, p.designOutdoorC) - p.networkDropC;
    const needKw = uaMid * (p.designIndoorC - p.designOutdoorC) - gainsKw;
    const kMid = Math.max(0, needKw) / Math.max(1, effDesign - p.designIndoorC) ** n;
    const bi = this.bldgs.length;
    const count = b.floors * b.unitsPerFloor;
    const designKw = sizeUnits(this.u, b, {
      p,
      seed: this.seed,
      next,
      uaMid,
      kMid,
      effDesign,
      unbalanced,
      unbalancedExposedFactor: this.cfg.faults.unbalancedExposedFactor,
    });
    this.bldgIndex.set(b.id, bi);
    sub.buildings.push(bi);
    this.bldgs.push({
      id: b.id,
      sub: subIdx,
      floors: b.floors,
      unitsPerFloor: b.unitsPerFloor,
      first: next,
      count,
      hydraulic: underSupplied ? this.cfg.faults.underSupplyFactor : 1,
      entryPct: p.nominalEntryValvePct,
      flowShare: 1,
      // Nominal flow carries the design heat with the design supply→return drop.
      nominalFlowM3h: designKw / (WATER_KWH_PER_M3K * p.designDeltaTK),
    });
    return next + count;
  }

  private updateFlowShares(si: number): void {
    updateFlowShares(this.subs[si]!, this.bldgs, this.cfg.physics);
  }

  private targetSupply(s: SubState, outdoorC: number): number {
    return targetSupply(s, outdoorC);
  }

  private outdoorAt(ms: number): number {
    return this.weather.outdoorAt(ms);
  }

  /** One explicit-Euler sub-step (stable: every time constant is far longer than a minute). */
  private subStep(dtMs: number): void {
    const p = this.cfg.physics;
    const u = this.u;
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
        const { flowM3h, returnC } = buildingHeat(u, p, b, s.supplyC - p.networkDropC);
        for (let i = b.first; i < b.first + b.count; i++) {
          const T = u.tempC[i]!;
          u.tempC[i] = T + (dtH * (u.qKw[i]! + gainsKw - u.uaKwK[i]! * (T - outdoor))) / u.capKWhK[i]!;
        }
        flowSum += flowM3h;
        returnSum += flowM3h * returnC;
      }
      meterSubstation(s, flowSum, returnSum);
      s.heatKWh += s.heatKw * dtH;
    }
    this.t += dtMs;
  }

  /** Starts every unit at its steady state for the starting weather, so a run has no warm-up. */
  private initSteadyState(): void {
    const p = this.cfg.physics;
    const outdoor = this.outdoorAt(this.t);
    for (const s of this.subs) {
      s.supplyC = this.targetSupply(s, outdoor);
      const eff = s.supplyC - p.networkDropC;
      for (const bi of s.buildings) steadyBuilding(this.u, p, this.bldgs[bi]!, eff, outdoor);
      // prime telemetry values with a zero-length balance
      let flowSum = 0;
      let returnSum = 0;
      for (const bi of s.buildings) {
        const r = buildingHeat(this.u, p, this.bldgs[bi]!, eff);
        flowSum += r.flowM3h;
        returnSum += r.flowM3h * r.returnC;
      }
      meterSubstation(s, flowSum, returnSum);
    }
  }
}
