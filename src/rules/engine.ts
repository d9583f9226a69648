import { type RulesConfig, rulesSchema } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import { POSITION_CLASSES } from '../core/registry.ts';
import type { SensorLive } from '../state/live-state.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import type { Problem, Proposal, RecheckOutcome, SetpointInForce, Ticket } from '../tickets/types.ts';
import { ComplianceAccumulator } from './compliance.ts';
import { changedKeys } from './config-diff.ts';
import { type Diagnosed, diagnose, type ResponseEstimate, substationMeasure } from './diagnosis.ts';
import { RULES } from './index.ts';
import { ConditionTracker, type Entry as TrackerEntry } from './tracker.ts';
import { coldLineC, type Finding, type Observation, type RuleContext, type RuleNode } from './types.ts';
import { type BuildingPicture, buildingPicture, type LiveView, round2 } from './view.ts';

const HOUR_MS = 3_600_000;
/** Hourly samples kept per target for the slope fit and the lag estimate (two weeks). */
const SAMPLE_KEEP = 24 * 14;
const SUPPLY_PROBLEMS: readonly Problem[] = ['substation_cold', 'curve_slope', 'overheat'];
const BUILDING_FLOW_PROBLEMS: readonly Problem[] = ['building_cold', 'building_overheat'];

interface Sample {
  ts: number;
  valueC: number;
  outdoorC?: number;
}

export interface TickReport {
  ts: number;
  findings: Finding[];
  created: string[];
  updated: number;
  suppressed: Array<{ targetId: string; problem: Problem; reason: string }>;
  applied: string[];
}

export interface EngineSnapshot {
  ts: number;
  conditions: Array<[string, TrackerEntry]>;
  samples: Array<[string, Sample[]]>;
  outdoor: Array<{ ts: number; c: number }>;
  excludedUntil: Array<[string, number]>;
  normalGapC: number;
}

export type ApplyRulesResult = { ok: true; changed: string[] } | { ok: false; issues: string[] };

/**
 * The rules engine: on each clock tick (not per message, so a silent building is still judged) it
 * runs every rule on the live state, passes the observations through hysteresis, minimum duration
 * and flapping detection, diagnoses the active findings into sized proposals and hands them to the
 * ticket service. It also estimates each target's response (gain, lag) from the samples it keeps and
 * from every re-check, and accumulates compliance figures.
 */
export class RulesEngine {
  private cfg: RulesConfig;
  private timer: TimerHandle | undefined;
  private readonly tracker = new ConditionTracker();
  private readonly samples = new Map<string, Sample[]>();
  private readonly excludedUntil = new Map<string, number>();
  /** Observed outdoor temperature every tick over the last day (cold-spell baseline). */
  private outdoorSamples: Array<{ ts: number; c: number }> = [];
  private normalGapC: number;
  private lastReport: TickReport | undefined;
  private ticking = false;
  private readonly buildingStates = new Map<string, BuildingState>();
  /** When each (target, problem) was last handed to the ticket service (see recheck.refreshS). */
  private readonly lastProposed = new Map<string, { ts: number; flapping: boolean }>();
  readonly compliance: ComplianceAccumulator;

  constructor(
    private readonly clock: Clock,
    private readonly live: LiveView,
    private readonly tickets: TicketService,
    rules: RulesConfig,
    private readonly log: Logger,
    /** When given, building colour changes are announced as `buildingStatus` (the dashboard's view wins). */
    private readonly bus?: EventBus<HeatEvents>,
    private readonly nodes: readonly RuleNode[] = RULES,
  ) {
    this.cfg = rules;
    this.normalGapC = rules.imbalanceInside.priorGapC;
    this.compliance = new ComplianceAccumulator(
      () => this.live.index,
      () => this.cfg,
    );
  }

  get rules(): RulesConfig {
    return this.cfg;
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => {
      void this.tick().catch((err: unknown) => this.log.error({ err }, 'rules tick failed'));
    }, this.cfg.tick.intervalS * 1000);
  }

  stop(): void {
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Validates and adopts new thresholds; returns the dotted keys that changed. A refused config
   * leaves the last good rules in force and says why (`rules.yaml: path: message`).
   */
  applyRules(next: unknown): ApplyRulesResult {
    const parsed = rulesSchema.safeParse(next);
    if (!parsed.success)
      return {
        ok: false,
        issues: parsed.error.issues.map(
          (i) => `rules.yaml: ${i.path.map(String).join('.') || '(root)'}: ${i.message}`,
        ),
      };
    const changed = changedKeys(this.cfg, parsed.data);
    this.cfg = parsed.data;
    if (changed.includes('tick.intervalS') && this.timer) {
      this.stop();
      this.start();
    }
    if (changed.length) this.log.info({ changed }, 'rules reloaded');
    return { ok: true, changed };
  }

  status(): {
    normalGapC: number;
    findings: Finding[];
    excludedSensors: string[];
    lastTick?: TickReport;
  } {
    const now = this.clock.now();
    return {
      normalGapC: round2(this.normalGapC),
      findings: this.tracker.findings(),
      excludedSensors: [...this.excludedUntil].filter(([, t]) => t > now).map(([id]) => id),
      lastTick: this.lastReport,
    };
  }

  /** What a restart must not forget: condition states, hourly samples, exclusions, the learnt gap. */
  snapshot(): EngineSnapshot {
    return {
      ts: this.clock.now(),
      conditions: this.tracker.snapshot(),
      samples: [...this.samples],
      outdoor: [...this.outdoorSamples],
      excludedUntil: [...this.excludedUntil],
      normalGapC: this.normalGapC,
    };
  }

  restore(s: EngineSnapshot): void {
    this.tracker.restore(s.conditions);
    this.samples.clear();
    for (const [k, v] of s.samples) this.samples.set(k, v);
    this.outdoorSamples = [...s.outdoor];
    this.excludedUntil.clear();
    for (const [k, v] of s.excludedUntil) this.excludedUntil.set(k, v);
    this.normalGapC = s.normalGapC;
  }

  /** Response estimate of a substation or building: learnt values over the configured priors. */
  response(targetId: string): ResponseEstimate {
    const r = this.cfg.response;
    const learnt = this.tickets.response(targetId);
    return {
      gainCPerC: learnt.gainCPerC ?? r.priorGainCPerC,
      valveGainCPerPct: learnt.valveGain ?? r.priorValveGainCPerPct,
      outdoorGainCPerC: r.priorOutdoorGainCPerC,
      lagH: learnt.lagH ?? r.priorLagH,
    };
  }

  /** One evaluation at the clock's now. Safe to call directly (tests, dry-run); ticks never overlap. */
  async tick(): Promise<TickReport> {
    const now = this.clock.now();
    const report: TickReport = {
      ts: now,
      findings: [],
      created: [],
      updated: 0,
      suppressed: [],
      applied: [],
    };
    if (this.ticking) return report;
    this.ticking = true;
    try {
      const cfg = this.cfg;
      const excluded = new Set<string>();
      const pictures = new Map<string, BuildingPicture>();
      const sensorLists = new Map<string, SensorLive[]>();
      const weights = { ...cfg.buildingCold.classWeights };
      for (const c of POSITION_CLASSES) weights[c] ??= 1;
      const ctx: RuleContext = {
        cfg,
        now,
        normalGapC: this.normalGapC,
        excludedSensors: excluded,
        recentOutdoor: this.recentOutdoor(now),
        lagH: (sid) => this.response(sid).lagH || cfg.coldSpell.defaultLeadH,
        picture: (b) => {
          let p = pictures.get(b);
          if (!p) {
            p = buildingPicture(this.live, b, now, weights, excluded, ctx.sensors(b));
            pictures.set(b, p);
          }
          return p;
        },
        // Live state does not change within a tick (nothing awaits before applyDue), so one read serves all.
        sensors: (b) => {
          let list = sensorLists.get(b);
          if (!list) {
            list = this.live.buildingSensors(b);
            sensorLists.set(b, list);
          }
          return list;
        },
        tracked: (rule, targetId) => this.tracker.has(rule, targetId),
      };
      for (const node of this.nodes) {
        if (!node.enabled(cfg)) continue;
        let obs: Observation[];
        try {
          obs = node.evaluate(this.live, ctx);
        } catch (err) {
          this.log.error({ err, rule: node.id }, 'rule failed; the others still run');
          continue;
        }
        if (node.id === 'sensor-health') this.updateExclusions(obs, now, excluded);
        this.tracker.update(obs, now, {
          minDurationMs: node.minDurationS(cfg) * 1000,
          maxRaises: cfg.flapping.maxRaises,
          windowMs: cfg.flapping.windowH * HOUR_MS,
        });
      }
      this.tracker.expire(now, 2 * cfg.tick.intervalS * 1000 + HOUR_MS);
      const findings = this.tracker.findings();
      report.findings = findings;
      this.learnNormalGap(findings, ctx);
      this.recordSamples(now, ctx);
      this.sampleCompliance(now, ctx);
      this.announceBuildingStates(findings, now);
      this.propose(this.diagnose(findings, ctx), report);
      report.applied = await this.tickets.applyDue();
      this.lastReport = report;
      return report;
    } finally {
      this.ticking = false;
    }
  }

  /** Diagnoses the current findings (also used to pick the next proposal after an escalation). */
  private diagnose(findings: Finding[], ctx: RuleContext): Diagnosed[] {
    return diagnose({
      cfg: ctx.cfg,
      now: ctx.now,
      index: this.live.index,
      findings,
      picture: ctx.picture,
      outdoorC: this.outdoorC(),
      normalGapC: this.normalGapC,
      setpoint: (sid) => this.tickets.setpointOf(sid),
      response: (id) => this.response(id),
      slopeFit: (sid) => this.slopeFit(sid),
    });
  }

  private propose(diagnosed: Diagnosed[], report: TickReport): void {
    const settlingSupply = new Map<string, Ticket>();
    for (const t of this.tickets.settling())
      if (SUPPLY_PROBLEMS.includes(t.problem)) settlingSupply.set(t.substationId, t);
    for (const { proposal, flapping } of diagnosed) {
      // A supply change on the estate is settling: building flow changes wait for its re-check.
      const blocking = settlingSupply.get(proposal.substationId);
      if (blocking && BUILDING_FLOW_PROBLEMS.includes(proposal.problem)) {
        const reason = `estate supply adjustment ${blocking.id} settling until its re-check`;
        this.tickets.noteSuppressed(proposal.targetId, proposal.problem, reason);
        report.suppressed.push({ targetId: proposal.targetId, problem: proposal.problem, reason });
        continue;
      }
      // A repeat within refreshS changes nothing the ticket service would keep: skip the round trip.
      const key = `${proposal.targetId}|${proposal.problem}`;
      const last = this.lastProposed.get(key);
      if (last && last.flapping === flapping && report.ts - last.ts < this.cfg.recheck.refreshS * 1000)
        continue;
      this.lastProposed.set(key, { ts: report.ts, flapping });
      const p = this.tickets.openFor(proposal.targetId, proposal.problem)
        ? proposal
        : this.withParent(proposal);
      const r = this.tickets.propose(p, { flapping });
      if (r.outcome === 'created') {
        report.created.push(r.ticket.id);
        // Exposed units only: a waiting valve proposal for the same building was the wrong remedy.
        if (p.problem === 'exposed_cold') {
          const wrong = this.tickets.openFor(p.targetId, 'building_cold');
          if (wrong) this.tickets.supersede(wrong.id, 'rules', `only exposed units are cold: ${r.ticket.id}`);
        }
        if (p.problem === 'substation_cold' || p.problem === 'curve_slope')
          for (const t of this.tickets.list({ status: 'open', substationId: p.substationId }))
            if (BUILDING_FLOW_PROBLEMS.includes(t.problem))
              this.tickets.supersede(t.id, 'rules', `superseded by estate-wide ${r.ticket.id}`);
      } else if (r.outcome === 'updated') report.updated++;
      else if (r.outcome === 'suppressed')
        report.suppressed.push({
          targetId: p.targetId,
          problem: p.problem,
          reason: r.ticket.suppressedReason ?? 'settling',
        });
    }
  }

  /** Links a repeat of an escalated problem to its parent; past the escalation limit a person decides. */
  private withParent(p: Proposal): Proposal {
    const prev = this.tickets
      .list({ targetId: p.targetId, problem: p.problem })
      .filter((t) => t.status === 'escalated')
      .pop();
    if (!prev) return p;
    const escalations = (prev.escalations ?? 0) + 1;
    if (escalations > this.cfg.recheck.maxEscalations && p.action.kind !== 'field') {
      const task = `${p.targetId}: ${escalations - 1} adjustments did not bring it back in band; needs an engineer on site (${p.summary})`;
      return {
        ...p,
        parentId: prev.id,
        escalations,
        summary: task,
        action: { kind: 'field', task },
        autoApprovable: false,
      };
    }
    return { ...p, parentId: prev.id, escalations };
  }

  // ---- re-checks ------------------------------------------------------------------------------

  /**
   * Judges an applied ticket at its re-check: the target's value now against the baseline and the
   * prediction, corrected for the outdoor temperature change; learns gain and lag from it. Pure with
   * respect to the ticket store (RecheckScheduler records the outcome).
   */
  evaluateRecheck(t: Ticket): { outcome: RecheckOutcome; revert?: SetpointInForce } {
    const now = this.clock.now();
    const cfg = this.cfg;
    const line = coldLineC(cfg);
    const weights = { ...cfg.buildingCold.classWeights };
    const pictureCache = new Map<string, BuildingPicture>();
    const excluded = new Set(this.status().excludedSensors);
    const picture = (b: string) => {
      let p = pictureCache.get(b);
      if (!p) {
        p = buildingPicture(this.live, b, now, weights, excluded);
        pictureCache.set(b, p);
      }
      return p;
    };
    const measure = this.measure(t.problem, t.targetId, t.substationId, picture);
    const outdoorNowC = this.outdoorC();
    const base = t.baseline;
    const outdoorShiftC =
      outdoorNowC !== undefined && base.outdoorC !== undefined ? outdoorNowC - base.outdoorC : 0;
    const resp = this.response(t.targetKind === 'substation' ? t.substationId : t.targetId);
    const correctedDeltaC =
      measure === undefined ? 0 : measure - base.valueC - resp.outdoorGainCPerC * outdoorShiftC;
    let resolved: boolean;
    let why: string;
    if (measure === undefined) {
      resolved = false;
      why = 'no fresh readings of the target at the re-check';
    } else if (t.problem === 'overheat' || t.problem === 'building_overheat') {
      resolved = measure <= cfg.recheck.hotBandC;
      why = `${round2(measure)} °C ${resolved ? '≤' : '>'} ${cfg.recheck.hotBandC} °C`;
    } else if (t.problem === 'exposed_cold' || t.problem === 'coverage' || t.problem === 'sensor_fault') {
      const rule = { exposed_cold: 'imbalance-inside', coverage: 'coverage', sensor_fault: 'sensor-health' }[
        t.problem
      ];
      const ph = this.tracker.phaseOf(rule, t.targetId);
      resolved = ph?.phase !== 'active';
      why = resolved ? `${rule} no longer active` : `${rule} still active`;
    } else {
      const band = line + cfg.recheck.bandOffsetC;
      resolved = measure >= band;
      why = `${round2(measure)} °C ${resolved ? '≥' : '<'} ${round2(band)} °C`;
    }
    // Learn the response from what the adjustment did (issue #4: updated after every re-check).
    let observedGain: number | undefined;
    const a = t.action;
    const lr = cfg.response.learnRate;
    const clampGain = (g: number) =>
      Math.min(cfg.response.maxGainCPerC, Math.max(cfg.response.minGainCPerC, g));
    if (measure !== undefined && (a.kind === 'supply-offset' || a.kind === 'slope')) {
      const supplyDeltaC =
        a.kind === 'supply-offset'
          ? a.deltaC
          : a.delta *
            (this.live.index.substations.get(t.substationId)!.curve.refOutdoorC - (base.outdoorC ?? 0));
      if (Math.abs(supplyDeltaC) >= 0.5) {
        observedGain = correctedDeltaC / supplyDeltaC;
        const learnt = clampGain((1 - lr) * resp.gainCPerC + lr * observedGain);
        this.tickets.saveResponse(t.substationId, { gainCPerC: learnt, lagH: this.lagFrom(t, measure) });
      }
    } else if (measure !== undefined && a.kind === 'valves' && a.valves[t.targetId] !== undefined) {
      const stepPct = a.valves[t.targetId]! - (a.previous[t.targetId] ?? cfg.limits.nominalValvePct);
      if (Math.abs(stepPct) >= 2) {
        observedGain = correctedDeltaC / stepPct;
        const v = Math.min(1, Math.max(0.005, (1 - lr) * resp.valveGainCPerPct + lr * observedGain));
        this.tickets.saveResponse(t.targetId, { valveGain: v, lagH: this.lagFrom(t, measure) });
      }
    }
    const outcome: RecheckOutcome = {
      ts: now,
      resolved,
      measuredC: round2(measure ?? Number.NaN),
      baselineC: base.valueC,
      correctedDeltaC: round2(correctedDeltaC),
      predictedDeltaC: t.predicted.deltaC,
      outdoorNowC,
      observedGain: observedGain === undefined ? undefined : round2(observedGain),
      text: `${resolved ? 'back in band' : 'not in band'}: ${why}; change ${round2(correctedDeltaC)} °C (outdoor-corrected by ${round2(outdoorShiftC)} °C outdoor), predicted ${t.predicted.deltaC} °C`,
    };
    // Pre-heating ends with its re-check: the extra offset comes off whatever the outcome.
    const revert =
      a.kind === 'preheat' ? { ...this.tickets.setpointOf(t.substationId), preheatOffsetC: 0 } : undefined;
    return { outcome, revert };
  }

  /** After an escalation: diagnose again now so the next proposal follows at once. */
  async proposeNext(): Promise<TickReport> {
    this.lastProposed.clear();
    return this.tick();
  }

  private measure(
    problem: Problem,
    targetId: string,
    substationId: string,
    picture: (b: string) => BuildingPicture,
  ): number | undefined {
    if (['substation_cold', 'curve_slope', 'overheat', 'cold_spell'].includes(problem))
      return substationMeasure(this.live.index, substationId, picture);
    if (problem === 'exposed_cold') return picture(targetId).exposedMeanC;
    if (problem === 'coverage' || problem === 'sensor_fault') return 0;
    return picture(targetId).weightedMeanC;
  }

  /** Time the target took to 63 % of its change since apply, from the hourly samples (hours). */
  private lagFrom(t: Ticket, measureC: number): number | undefined {
    const applied = t.appliedTs;
    if (applied === undefined) return undefined;
    const key = t.targetKind === 'substation' ? `s:${t.substationId}` : `b:${t.targetId}`;
    const total = measureC - t.baseline.valueC;
    if (Math.abs(total) < 0.3) return undefined;
    const hit = (this.samples.get(key) ?? []).find(
      (s) => s.ts > applied && (s.valueC - t.baseline.valueC) / total >= 0.63,
    );
    if (!hit) return undefined;
    const observed = (hit.ts - applied) / HOUR_MS;
    const prev = this.response(t.targetKind === 'substation' ? t.substationId : t.targetId).lagH;
    return (1 - this.cfg.response.learnRate) * prev + this.cfg.response.learnRate * observed;
  }

  // ---- learning from live data ------------------------------------------------------------------

  private updateExclusions(obs: Observation[], now: number, excluded: Set<string>): void {
    for (const o of obs) {
      if (o.level !== 'raise') continue;
      const until =
        o.evidence.kind === 'open-window' ? now + this.cfg.sensorHealth.openWindowHoldS * 1000 : now + 1;
      if ((this.excludedUntil.get(o.targetId) ?? 0) < until) this.excludedUntil.set(o.targetId, until);
    }
    for (const [id, until] of this.excludedUntil) {
      if (until >= now) excluded.add(id);
      else this.excludedUntil.delete(id);
    }
  }

  /**
   * The normal middle − exposed gap, measured across healthy buildings (median, robust to the few
   * unbalanced ones) and blended with the configured prior by its weight in buildings.
   */
  private learnNormalGap(findings: Finding[], ctx: RuleContext): void {
    const c = this.cfg.imbalanceInside;
    const sick = new Set(
      findings
        .filter((f) => ['building-under-temp', 'imbalance-inside', 'imbalance-between'].includes(f.rule))
        .map((f) => f.targetId),
    );
    const gaps: number[] = [];
    for (const b of this.live.index.buildings.values()) {
      if (sick.has(b.id)) continue;
      const p = ctx.picture(b.id);
      if (p.exposedMeanC !== undefined && p.middleMeanC !== undefined)
        gaps.push(p.middleMeanC - p.exposedMeanC);
    }
    if (gaps.length === 0) {
      this.normalGapC = c.priorGapC;
      return;
    }
    gaps.sort((a, b) => a - b);
    const med = gaps[gaps.length >> 1]!;
    this.normalGapC =
      (c.priorGapC * c.priorWeightBuildings + med * gaps.length) / (c.priorWeightBuildings + gaps.length);
  }

  private recordSamples(now: number, ctx: RuleContext): void {
    const hour = Math.floor(now / HOUR_MS) * HOUR_MS;
    const outdoorC = this.outdoorC();
    if (outdoorC !== undefined) {
      this.outdoorSamples.push({ ts: now, c: outdoorC });
      while (this.outdoorSamples.length > 0 && now - this.outdoorSamples[0]!.ts > 24 * HOUR_MS)
        this.outdoorSamples.shift();
    }
    const push = (key: string, valueC: number | undefined) => {
      if (valueC === undefined) return;
      const list = this.samples.get(key) ?? [];
      const last = list[list.length - 1];
      if (last && last.ts === hour) return;
      list.push({ ts: hour, valueC, outdoorC });
      if (list.length > SAMPLE_KEEP) list.shift();
      this.samples.set(key, list);
    };
    for (const b of this.live.index.buildings.values()) push(`b:${b.id}`, ctx.picture(b.id).weightedMeanC);
    for (const sid of this.live.index.substations.keys())
      push(`s:${sid}`, substationMeasure(this.live.index, sid, ctx.picture));
  }

  /**
   * Fills the hourly samples (slope fit, lag estimates) from stored history, so a restart does not
   * start the estimates from nothing: building class means and substation outdoor temperature for
   * the last `hours`. Errors leave the samples as they were (the store may be down at start).
   */
  async seedFromHistory(
    store: Pick<ReadingStore, 'roomHistory' | 'substationHistory'>,
    hours: number,
  ): Promise<number> {
    const now = this.clock.now();
    const fromMs = Math.floor((now - hours * HOUR_MS) / HOUR_MS) * HOUR_MS;
    const q = { fromMs, toMs: now, everyMs: HOUR_MS };
    const w = this.cfg.buildingCold.classWeights;
    let seeded = 0;
    try {
      const outdoor = new Map<number, number>();
      for (const sid of this.live.index.substations.keys())
        for (const p of await store.substationHistory({ substationId: sid, ...q }))
          if (p.outdoorTempC !== undefined) outdoor.set(p.ts, p.outdoorTempC);
      const byBuilding = new Map<string, Map<number, number>>();
      for (const b of this.live.index.buildings.values()) {
        const acc = new Map<number, { sum: number; w: number }>();
        for (const c of POSITION_CLASSES)
          for (const p of await store.roomHistory({ buildingId: b.id, positionClass: c, ...q })) {
            const a = acc.get(p.ts) ?? { sum: 0, w: 0 };
            a.sum += p.meanC * w[c];
            a.w += w[c];
            acc.set(p.ts, a);
          }
        const series = new Map<number, number>();
        for (const [ts, a] of acc) if (a.w > 0) series.set(ts, a.sum / a.w);
        byBuilding.set(b.id, series);
        this.samples.set(
          `b:${b.id}`,
          [...series]
            .sort((x, y) => x[0] - y[0])
            .map(([ts, valueC]) => ({ ts, valueC, outdoorC: outdoor.get(ts) })),
        );
        seeded += series.size;
      }
      for (const [sid, buildings] of this.live.index.buildingsBySubstation) {
        const hoursSeen = new Set<number>();
        for (const b of buildings) for (const ts of byBuilding.get(b.id)?.keys() ?? []) hoursSeen.add(ts);
        const list: Sample[] = [];
        for (const ts of [...hoursSeen].sort((a, b) => a - b)) {
          const xs = buildings
            .map((b) => byBuilding.get(b.id)?.get(ts))
            .filter((x): x is number => x !== undefined);
          if (xs.length === 0) continue;
          xs.sort((a, b) => a - b);
          const m = xs.length >> 1;
          list.push({
            ts,
            valueC: xs.length % 2 ? xs[m]! : (xs[m - 1]! + xs[m]!) / 2,
            outdoorC: outdoor.get(ts),
          });
        }
        this.samples.set(`s:${sid}`, list.slice(-SAMPLE_KEEP));
      }
    } catch (err) {
      this.log.warn({ err }, 'history not available; estimates start from the live samples');
    }
    return seeded;
  }

  /** Least-squares slope of the substation's room measure against outdoor temperature. */
  slopeFit(substationId: string): { slope: number; samples: number; spanC: number } | undefined {
    const xs = (this.samples.get(`s:${substationId}`) ?? []).filter((s) => s.outdoorC !== undefined);
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

  private sampleCompliance(now: number, ctx: RuleContext): void {
    for (const b of this.live.index.buildings.values())
      for (const s of ctx.sensors(b.id)) {
        if (s.ts === undefined || s.tempC === undefined || !this.live.isFresh(s, now)) continue;
        this.compliance.sampleLatest(s.info.sensor.id, s.ts, s.tempC);
      }
  }

  /** The rules' judgement of each building, in the dashboard's colours. */
  stateOf(buildingId: string): BuildingState {
    return this.buildingStates.get(buildingId) ?? 'ok';
  }

  private announceBuildingStates(findings: Finding[], now: number): void {
    const rank: Record<string, BuildingState> = {
      coverage: 'stale',
      'building-under-temp': 'cold',
      'imbalance-inside': 'unbalanced',
      'imbalance-between': 'unbalanced',
      'building-over-temp': 'overheated',
    };
    const order: BuildingState[] = ['cold', 'unbalanced', 'stale', 'overheated'];
    const next = new Map<string, BuildingState>();
    for (const f of findings) {
      const st = rank[f.rule];
      if (!st || f.targetKind !== 'building') continue;
      const cur = next.get(f.targetId);
      if (!cur || order.indexOf(st) < order.indexOf(cur)) next.set(f.targetId, st);
    }
    for (const b of this.live.index.buildings.keys()) {
      const st = next.get(b) ?? 'ok';
      const prev = this.buildingStates.get(b);
      if (prev === st) continue;
      this.buildingStates.set(b, st);
      if (prev !== undefined || st !== 'ok')
        this.bus?.emit('buildingStatus', { buildingId: b, state: st, previous: prev, ts: now });
    }
  }

  private recentOutdoor(now: number): { meanC: number; minC: number } | undefined {
    const xs = this.outdoorSamples.filter((o) => now - o.ts <= 24 * HOUR_MS);
    if (xs.length < 12 || now - xs[0]!.ts < 18 * HOUR_MS) return undefined;
    return { meanC: xs.reduce((a, o) => a + o.c, 0) / xs.length, minC: Math.min(...xs.map((o) => o.c)) };
  }

  private outdoorC(): number | undefined {
    if (this.live.observation) return this.live.observation.outdoorTempC;
    for (const sid of this.live.index.substations.keys()) {
      const o = this.live.substation(sid)?.latest?.outdoorTempC;
      if (o !== undefined) return o;
    }
    return undefined;
  }
}
