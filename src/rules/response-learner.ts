import type { RulesConfig } from '../config/rules-schema.ts';
import type { Ticket } from '../tickets/types.ts';
import type { LearntPosition, ResponseStore } from './ports.ts';

const HOUR_MS = 3_600_000;
/** Hourly samples kept per target for the slope fit and the lag estimate (two weeks). */
const SAMPLE_KEEP = 24 * 14;

/** What the engine knows of how a target responds (estimated from history, updated by re-checks). */
export interface ResponseEstimate {
  /** °C of room per °C of supply. */
  gainCPerC: number;
  /** °C of room per % of entry-valve opening. */
  valveGainCPerPct: number;
  /** °C of room per °C of outdoor with the curve in force. */
  outdoorGainCPerC: number;
  /** Hours to most of the effect. */
  lagH: number;
}

export interface Sample {
  ts: number;
  valueC: number;
  outdoorC?: number;
}

export interface SlopeFit {
  slope: number;
  samples: number;
  spanC: number;
}

/** Sample keys: a building's class-weighted mean, a substation's median building. */
export const buildingKey = (id: string): string => `b:${id}`;
export const substationKey = (id: string): string => `s:${id}`;

/**
 * The response learner: keeps hourly samples of every building and substation (and the outdoor
 * temperature of the last day), fits how rooms follow the outdoor temperature, and learns each
 * target's gain and lag from every re-check into its own store, starting from the configured priors.
 */
export class ResponseLearner {
  private readonly samples = new Map<string, Sample[]>();
  /** Observed outdoor temperature every tick over the last day (cold-spell baseline). */
  private outdoor: Array<{ ts: number; c: number }> = [];
  /** Each building's own position effect (read from the store once, written by `flushPositions`). */
  private readonly positions = new Map<string, LearntPosition | undefined>();
  private readonly dirtyPositions = new Set<string>();

  constructor(
    private readonly store: ResponseStore,
    private readonly cfg: () => RulesConfig,
  ) {}

  /** Learnt values over the configured priors. */
  response(targetId: string): ResponseEstimate {
    const r = this.cfg().response;
    const learnt = this.store.get(targetId);
    return {
      gainCPerC: learnt.gainCPerC ?? r.priorGainCPerC,
      valveGainCPerPct: learnt.valveGainCPerPct ?? r.priorValveGainCPerPct,
      outdoorGainCPerC: r.priorOutdoorGainCPerC,
      lagH: learnt.lagH ?? r.priorLagH,
    };
  }

  recordOutdoor(now: number, outdoorC: number | undefined): void {
    if (outdoorC === undefined) return;
    this.outdoor.push({ ts: now, c: outdoorC });
    while (this.outdoor.length > 0 && now - this.outdoor[0]!.ts > 24 * HOUR_MS) this.outdoor.shift();
  }

  /** One sample per hour per key (the first value seen in that hour). */
  record(key: string, now: number, valueC: number | undefined, outdoorC: number | undefined): void {
    if (valueC === undefined) return;
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const list = this.samples.get(key) ?? [];
    const last = list[list.length - 1];
    if (last && last.ts === hour) return;
    list.push({ ts: hour, valueC, outdoorC });
    if (list.length > SAMPLE_KEEP) list.shift();
    this.samples.set(key, list);
  }

  /** Replaces a key's samples (seeding from stored history). */
  seed(key: string, list: Sample[]): void {
    this.samples.set(key, list.slice(-SAMPLE_KEEP));
  }

  samplesOf(key: string): readonly Sample[] {
    return this.samples.get(key) ?? [];
  }

  /** Observed outdoor temperature over the last 24 h, once most of a day is known. */
  recentOutdoor(now: number): { meanC: number; minC: number } | undefined {
    const xs = this.outdoor.filter((o) => now - o.ts <= 24 * HOUR_MS);
    if (xs.length < 12 || now - xs[0]!.ts < 18 * HOUR_MS) return undefined;
    return { meanC: xs.reduce((a, o) => a + o.c, 0) / xs.length, minC: Math.min(...xs.map((o) => o.c)) };
  }

  /** Least-squares slope of the substation's room measure against outdoor temperature. */
  slopeFit(substationId: string): SlopeFit | undefined {
    const xs = this.samplesOf(substationKey(substationId)).filter((s) => s.outdoorC !== undefined);
    if (xs.length < 3) return undefined;
    const n = xs.length;
    const mx = xs.reduce((a, s) => a + s.outdoorC!, 0) / n;
    const my = xs.reduce((a, s) => a + s.valueC, 0) / n;
    let sxy = 0;
    let sxx = 0;
    let lo = Number.POSITIVE_INFINITY;
    let hi = Number.NEGATIVE_INFINITY;
    for (const s of xs) {
      sxy += (s.outdoorC! - mx) * (s.valueC - my);
      sxx += (s.outdoorC! - mx) ** 2;
      lo = Math.min(lo, s.outdoorC!);
      hi = Math.max(hi, s.outdoorC!);
    }
    if (sxx === 0) return undefined;
    return { slope: sxy / sxx, samples: n, spanC: hi - lo };
  }

  /**
   * Learns from a re-check: the observed gain (outdoor-corrected change per unit of action) is
   * blended into the estimate with `learnRate`, and the lag from when the samples crossed 63 % of
   * the change. A re-check judged before the response is complete (`elapsedH` since the action,
   * e.g. one judged early) saw only 1 − e^(−elapsed/lag) of it (first order): the observed change
   * is scaled up by that share. Returns the observed gain, if the action was large enough to judge it.
   */
  learnFromRecheck(
    t: Ticket,
    measureC: number,
    correctedDeltaC: number,
    supplyDeltaC: number | undefined,
    elapsedH = Number.POSITIVE_INFINITY,
  ): number | undefined {
    const cfg = this.cfg();
    const lr = cfg.response.learnRate;
    const a = t.action;
    const lagH = this.response(t.targetKind === 'substation' ? t.substationId : t.targetId).lagH;
    // At least half the response counts as seen, so an early judgement cannot blow the gain up.
    const seen = Math.max(0.5, 1 - Math.exp(-Math.max(0, elapsedH) / lagH));
    if (supplyDeltaC !== undefined) {
      if (Math.abs(supplyDeltaC) < 0.5) return undefined;
      const observed = correctedDeltaC / seen / supplyDeltaC;
      const prev = this.response(t.substationId).gainCPerC;
      const gain = Math.min(
        cfg.response.maxGainCPerC,
        Math.max(cfg.response.minGainCPerC, (1 - lr) * prev + lr * observed),
      );
      this.store.save(t.substationId, { gainCPerC: gain, lagH: this.lagFrom(t, measureC) });
      return observed;
    }
    if (a.kind !== 'valves' || a.valves[t.targetId] === undefined) return undefined;
    const stepPct = a.valves[t.targetId]! - (a.previous[t.targetId] ?? cfg.limits.nominalValvePct);
    if (Math.abs(stepPct) < 2) return undefined;
    const observed = correctedDeltaC / seen / stepPct;
    const prev = this.response(t.targetId).valveGainCPerPct;
    const v = Math.min(1, Math.max(0.005, (1 - lr) * prev + lr * observed));
    this.store.save(t.targetId, { valveGainCPerPct: v, lagH: this.lagFrom(t, measureC) });
    return observed;
  }

  /** Time the target took to 63 % of its change since apply, from the hourly samples (hours). */
  private lagFrom(t: Ticket, measureC: number): number | undefined {
    const applied = t.appliedTs;
    if (applied === undefined) return undefined;
    const key = t.targetKind === 'substation' ? substationKey(t.substationId) : buildingKey(t.targetId);
    const total = measureC - t.baseline.valueC;
    if (Math.abs(total) < 0.3) return undefined;
    const hit = this.samplesOf(key).find(
      (s) => s.ts > applied && (s.valueC - t.baseline.valueC) / total >= 0.63,
    );
    if (!hit) return undefined;
    const observed = (hit.ts - applied) / HOUR_MS;
    const prev = this.response(t.targetKind === 'substation' ? t.substationId : t.targetId).lagH;
    const lr = this.cfg().response.learnRate;
    return (1 - lr) * prev + lr * observed;
  }

  /**
   * A building's normal middle − exposed gap: its own learnt mean blended with the network value
   * (`networkGapC`) by samples — the network value counts as `buildingPriorWeightH` hours — and kept
   * within `buildingMaxDeviationC` of it, so no imbalance is learnt away as normal.
   */
  positionGap(buildingId: string, networkGapC: number): { gapC: number; samples: number; ownC?: number } {
    const c = this.cfg().imbalanceInside;
    const own = this.positionOf(buildingId);
    if (!own || own.samples === 0) return { gapC: networkGapC, samples: 0 };
    const w0 = c.buildingPriorWeightH;
    const blended = (networkGapC * w0 + own.gapC * own.samples) / (w0 + own.samples);
    const dev = c.buildingMaxDeviationC;
    return {
      gapC: Math.min(networkGapC + dev, Math.max(networkGapC - dev, blended)),
      samples: own.samples,
      ownC: own.gapC,
    };
  }

  /**
   * One hourly gap of a healthy building into its own running mean (at most `buildingMemoryH` hours
   * weigh in, so it follows the season). Stored at the next `flushPositions`.
   */
  learnPosition(buildingId: string, gapC: number): void {
    const own = this.positionOf(buildingId) ?? { gapC, samples: 0 };
    const n = Math.min(own.samples + 1, this.cfg().imbalanceInside.buildingMemoryH);
    const next = { gapC: own.gapC + (gapC - own.gapC) / n, samples: n };
    this.positions.set(buildingId, next);
    this.dirtyPositions.add(buildingId);
  }

  /** Writes the position effects learnt since the last flush (one write). */
  flushPositions(): void {
    if (this.dirtyPositions.size === 0) return;
    const rows = [...this.dirtyPositions].map((targetId) => ({
      targetId,
      position: this.positions.get(targetId)!,
    }));
    this.dirtyPositions.clear();
    this.store.savePositions(rows);
  }

  private positionOf(buildingId: string): LearntPosition | undefined {
    let p = this.positions.get(buildingId);
    if (p === undefined && !this.positions.has(buildingId)) {
      p = this.store.get(buildingId).position;
      this.positions.set(buildingId, p);
    }
    return p;
  }

  snapshot(): { samples: Array<[string, Sample[]]>; outdoor: Array<{ ts: number; c: number }> } {
    return { samples: [...this.samples], outdoor: [...this.outdoor] };
  }

  restore(s: { samples: Array<[string, Sample[]]>; outdoor: Array<{ ts: number; c: number }> }): void {
    this.samples.clear();
    for (const [k, v] of s.samples) this.samples.set(k, v);
    this.outdoor = [...s.outdoor];
  }
}
