import type { RulesConfig } from '../config/rules-schema.ts';
import type { SubstationReading } from '../core/readings.ts';
import { curveSupplyC } from '../core/registry.ts';
import type { SetpointInForce } from '../tickets/types.ts';
import type { LiveView } from './view.ts';

const HOUR_MS = 3_600_000;
const MIN_MS = 60_000;
/** Hourly meter samples kept per substation (two weeks, as the room samples). */
const SAMPLE_KEEP = 24 * 14;
/** Share of a supply step the meter must show for the step's lag to be read (one time constant). */
const LAG_SHARE = 0.63;

/** One hourly reading of a substation's meter. */
export interface MeterSample {
  ts: number;
  supplyC: number;
  returnC: number;
  flowM3h?: number;
  heatKw?: number;
  outdoorC?: number;
}

/** What the substation's supply should be now, beside what its meter measures. */
export interface SupplyExpectation {
  /** The curve at the controller's outdoor temperature with the setpoint in force, °C. */
  expectedC: number;
  measuredC: number;
  /** Measured − expected, °C. */
  deviationC: number;
  /** The setpoint in force changed last at this time (or was first seen). */
  changedTs: number;
  /** Judged from this time on: the change plus `substationMeter.settleLags` learnt lags. */
  settledTs: number;
  /** Time the supply takes to follow a step (63 %), minutes: learnt, else the prior. */
  lagMin: number;
  lagLearnt: boolean;
  outdoorC: number;
  offsetC: number;
  slopeDelta: number;
}

interface Follow {
  key: string;
  changedTs: number;
  /** A setpoint step whose lag is being read: where supply started and where it should go. */
  step?: { ts: number; fromC: number; toC: number };
}

export interface MeterWatchSnapshot {
  samples: Array<[string, MeterSample[]]>;
  lagMin: Array<[string, number]>;
}

/**
 * The substation meters as evidence (issue #11 §2): what each supply should be under the setpoint in
 * force against what the meter measures (the `supply-tracking` rule judges it after the learnt lag),
 * how long supply takes to follow a setpoint step (learnt per substation from the meter), the normal
 * flow and ΔT of each substation (median of its hourly samples), and the heat delivered over a
 * window (re-check outcomes).
 */
export class MeterWatch {
  private readonly samples = new Map<string, MeterSample[]>();
  private readonly follows = new Map<string, Follow>();
  private readonly lags = new Map<string, number>();
  private current = new Map<string, SupplyExpectation>();

  constructor(
    private readonly live: LiveView,
    private readonly cfg: () => RulesConfig,
  ) {}

  /** Once per tick: every fresh meter reading against the setpoint in force. */
  update(now: number, setpointOf: (substationId: string) => SetpointInForce, outdoorC?: number): void {
    const c = this.cfg().substationMeter;
    const next = new Map<string, SupplyExpectation>();
    for (const sub of this.live.index.substations.values()) {
      const r = this.live.substation(sub.id)?.latest;
      if (!r || now - r.ts > c.maxReadingAgeS * 1000) continue;
      this.record(sub.id, r);
      const out = r.outdoorTempC ?? outdoorC;
      if (out === undefined) continue;
      const sp = setpointOf(sub.id);
      const offsetC = sp.supplyOffsetC + sp.preheatOffsetC;
      const expectedC = curveSupplyC(sub.curve, out, offsetC, sp.slopeDelta);
      const f = this.follow(sub.id, `${offsetC}|${sp.slopeDelta}`, r, expectedC, now);
      const lagMin = this.lagMinOf(sub.id);
      next.set(sub.id, {
        expectedC,
        measuredC: r.supplyTempC,
        deviationC: r.supplyTempC - expectedC,
        changedTs: f.changedTs,
        settledTs: f.changedTs + c.settleLags * lagMin * MIN_MS,
        lagMin,
        lagLearnt: this.lags.has(sub.id),
        outdoorC: out,
        offsetC,
        slopeDelta: sp.slopeDelta,
      });
    }
    this.current = next;
  }

  /** This tick's expectation of a substation's supply (none without a fresh meter reading). */
  expectation(substationId: string): SupplyExpectation | undefined {
    return this.current.get(substationId);
  }

  lagMinOf(substationId: string): number {
    return this.lags.get(substationId) ?? this.cfg().substationMeter.priorSupplyLagMin;
  }

  /** Median flow and ΔT of a substation's kept hourly samples, once there are enough of them. */
  normal(substationId: string): { flowM3h: number; deltaTK: number; samples: number } | undefined {
    const xs = (this.samples.get(substationId) ?? []).filter((s) => s.flowM3h !== undefined);
    if (xs.length < this.cfg().substationMeter.minNormalSamples) return undefined;
    return {
      flowM3h: median(xs.map((s) => s.flowM3h!)),
      deltaTK: median(xs.map((s) => s.supplyC - s.returnC)),
      samples: xs.length,
    };
  }

  /** Heat the meter recorded over [fromTs, toTs): mean kW of the hourly samples × hours. */
  heatOver(
    substationId: string,
    fromTs: number,
    toTs: number,
  ): { kWh: number; meanKw: number; samples: number; outdoorC?: number } | undefined {
    const xs = (this.samples.get(substationId) ?? []).filter(
      (s) => s.ts >= fromTs && s.ts < toTs && s.heatKw !== undefined,
    );
    if (xs.length === 0) return undefined;
    const meanKw = xs.reduce((a, s) => a + s.heatKw!, 0) / xs.length;
    const outs = xs.filter((s) => s.outdoorC !== undefined).map((s) => s.outdoorC!);
    return {
      kWh: (meanKw * (toTs - fromTs)) / HOUR_MS,
      meanKw,
      samples: xs.length,
      outdoorC: outs.length ? outs.reduce((a, x) => a + x, 0) / outs.length : undefined,
    };
  }

  snapshot(): MeterWatchSnapshot {
    return { samples: [...this.samples], lagMin: [...this.lags] };
  }

  restore(s: MeterWatchSnapshot | undefined): void {
    if (!s) return;
    this.samples.clear();
    for (const [k, v] of s.samples) this.samples.set(k, v);
    this.lags.clear();
    for (const [k, v] of s.lagMin) this.lags.set(k, v);
  }

  /** One sample per hour per substation (the first reading seen in that hour). */
  private record(substationId: string, r: SubstationReading): void {
    const hour = Math.floor(r.ts / HOUR_MS) * HOUR_MS;
    const list = this.samples.get(substationId) ?? [];
    if (list.length > 0 && list[list.length - 1]!.ts === hour) return;
    list.push({
      ts: hour,
      supplyC: r.supplyTempC,
      returnC: r.returnTempC,
      flowM3h: r.flowM3h,
      heatKw: r.heatKw,
      outdoorC: r.outdoorTempC,
    });
    if (list.length > SAMPLE_KEEP) list.shift();
    this.samples.set(substationId, list);
  }

  /**
   * Follows the setpoint in force: a change starts a step, and the time the meter takes to cover
   * 63 % of it is blended into the substation's lag (`response.learnRate`). A step the supply never
   * follows is dropped after `settleLags` × 4 lags: not following is the rule's finding, not a lag.
   */
  private follow(sid: string, key: string, r: SubstationReading, expectedC: number, now: number): Follow {
    const c = this.cfg();
    let f = this.follows.get(sid);
    if (!f || f.key !== key) {
      const first = !f;
      f = { key, changedTs: now };
      const fromC = r.supplyTempC;
      if (!first && Math.abs(expectedC - fromC) >= c.substationMeter.learnMinStepC)
        f.step = { ts: now, fromC, toC: expectedC };
      this.follows.set(sid, f);
      return f;
    }
    const s = f.step;
    if (!s) return f;
    const lag = this.lagMinOf(sid);
    if ((r.supplyTempC - s.fromC) / (s.toC - s.fromC) >= LAG_SHARE) {
      const observedMin = Math.max(0, r.ts - s.ts) / MIN_MS;
      const lr = c.response.learnRate;
      this.lags.set(sid, (1 - lr) * lag + lr * observedMin);
      f.step = undefined;
    } else if (now - s.ts > 4 * c.substationMeter.settleLags * lag * MIN_MS) f.step = undefined;
    return f;
  }
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}
