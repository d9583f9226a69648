import { type RulesConfig, rulesSchema } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { BuildingState, HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import {
  NEUTRAL_SETPOINT,
  type Problem,
  type RecheckOutcome,
  type SetpointInForce,
  type Ticket,
} from '../tickets/types.ts';
import { BuildingStates } from './building-states.ts';
import { changedKeys } from './config-diff.ts';
import { diagnose } from './diagnosis.ts';
import { substationMeasure } from './estate.ts';
import { Evaluator } from './evaluation.ts';
import { ForecastTracker, type JudgedForecast } from './forecast-tracker.ts';
import { type HistorySource, seedFromHistory } from './history-seed.ts';
import { RULES } from './index.ts';
import { MeterWatch, type MeterWatchSnapshot } from './meter-watch.ts';
import type { ResponseStore, TicketPort } from './ports.ts';
import { PositionEffect } from './position-effect.ts';
import { followPreheat } from './preheat-follow.ts';
import { ProposalPolicy } from './proposal-policy.ts';
import { judgeRecheck } from './recheck.ts';
import {
  buildingKey,
  type ResponseEstimate,
  ResponseLearner,
  type Sample,
  type SlopeFit,
  substationKey,
} from './response-learner.ts';
import { MemoryResponseStore } from './response-store.ts';
import { StorePause } from './store-pause.ts';
import type { Entry as TrackerEntry } from './tracker.ts';
import type { Finding, RuleContext, RuleNode } from './types.ts';
import { UnitFindingAnnouncer } from './unit-findings.ts';
import { type BuildingPicture, buildingPicture, type LiveView, round2 } from './view.ts';

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
  /** Hourly meter samples and learnt supply lags (absent in checkpoints written before them). */
  meters?: MeterWatchSnapshot;
}

export type ApplyRulesResult = { ok: true; changed: string[] } | { ok: false; issues: string[] };

export interface EngineOptions {
  /** The rules to run (default: every rule, in the order of `RULES`). */
  nodes?: readonly RuleNode[];
  /** Where learnt responses are kept (default: in memory; the rules module passes the ops database). */
  responses?: ResponseStore;
  /**
   * `incremental` (default): a tick judges only buildings whose judgement may have changed
   * (src/rules/incremental.ts); `full`: every building every tick, the reference it is tested against.
   */
  evaluation?: 'incremental' | 'full';
}

/**
 * The rules engine: on each clock tick (not per message, so a silent building is still judged) it
 * evaluates the rules into findings (Evaluator), diagnoses them into sized proposals (diagnose),
 * hands those to the tickets through the proposal policy (ProposalPolicy → TicketPort), and learns
 * each target's response from its samples and every re-check (ResponseLearner).
 */
export class RulesEngine {
  private cfg: RulesConfig;
  private timer: TimerHandle | undefined;
  private readonly nodes: readonly RuleNode[];
  private readonly evaluator: Evaluator;
  private readonly learner: ResponseLearner;
  private readonly policy: ProposalPolicy;
  private readonly position: PositionEffect;
  private readonly states: BuildingStates;
  private readonly forecasts: ForecastTracker;
  private readonly meters: MeterWatch;
  private lastObservationTs: number | undefined;
  /** The forecast issue each open pre-heat was last followed with. */
  private readonly followed = new Map<string, number>();
  private lastReport: TickReport | undefined;
  private ticking = false;
  /** Single cold flats go to households as `unitFinding` (docs/households.md); never a supply change. */
  private readonly unitFindings: UnitFindingAnnouncer;

  constructor(
    private readonly clock: Clock,
    private readonly live: LiveView,
    private readonly tickets: TicketPort,
    rules: RulesConfig,
    private readonly log: Logger,
    /** When given, building colour changes are announced as `buildingStatus` (the dashboard's view wins). */
    bus?: EventBus<HeatEvents>,
    opts: EngineOptions = {},
  ) {
    this.cfg = rules;
    this.nodes = opts.nodes ?? RULES;
    this.evaluator = new Evaluator(live, this.nodes, log, opts.evaluation);
    this.learner = new ResponseLearner(opts.responses ?? new MemoryResponseStore(), () => this.cfg);
    this.policy = new ProposalPolicy(tickets, () => this.cfg);
    this.position = new PositionEffect(this.nodes, rules.imbalanceInside.priorGapC, this.learner);
    this.states = new BuildingStates(this.nodes, bus);
    this.unitFindings = new UnitFindingAnnouncer(bus, this.nodes);
    this.forecasts = new ForecastTracker(() => this.cfg);
    this.meters = new MeterWatch(live, () => this.cfg);
    this.pause = new StorePause(log, bus);
  }

  /** Paused while the ticket store cannot be reached (src/rules/store-pause.ts). */
  readonly pause: StorePause;

  get rules(): RulesConfig {
    return this.cfg;
  }

  start(): void {
    if (this.timer) return;
    this.timer = this.clock.setInterval(() => {
      void this.tick().catch((err: unknown) => {
        if (!this.pause.failed(err, this.clock.now())) this.log.error({ err }, 'rules tick failed');
      });
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

  status(): { normalGapC: number; findings: Finding[]; excludedSensors: string[]; lastTick?: TickReport } {
    return {
      normalGapC: round2(this.position.normalGapC),
      findings: this.evaluator.tracker.findings(),
      excludedSensors: this.evaluator.excludedAt(this.clock.now()),
      lastTick: this.lastReport,
    };
  }

  /** What a restart must not forget: condition states, hourly samples, exclusions, the learnt gap. */
  snapshot(): EngineSnapshot {
    return {
      ts: this.clock.now(),
      ...this.evaluator.snapshot(),
      ...this.learner.snapshot(),
      normalGapC: this.position.normalGapC,
      meters: this.meters.snapshot(),
    };
  }

  restore(s: EngineSnapshot): void {
    this.evaluator.restore(s);
    this.learner.restore(s);
    this.position.normalGapC = s.normalGapC;
    this.meters.restore(s.meters);
  }

  /** Response estimate of a substation or building: learnt values over the configured priors. */
  response(targetId: string): ResponseEstimate {
    return this.learner.response(targetId);
  }

  /** A building's normal middle − exposed gap: its own learnt history blended with the network value. */
  positionEffect(buildingId: string): { gapC: number; ownC?: number; samples: number; networkGapC: number } {
    return {
      ...this.learner.positionGap(buildingId, this.position.normalGapC),
      networkGapC: this.position.normalGapC,
    };
  }

  /** Least-squares slope of the substation's room measure against outdoor temperature. */
  slopeFit(substationId: string): SlopeFit | undefined {
    return this.learner.slopeFit(substationId);
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
      const forecast = this.judgeForecast(now);
      const setpoints = await this.tickets.setpoints();
      const setpointOf = (sid: string) => structuredClone(setpoints.get(sid) ?? NEUTRAL_SETPOINT);
      this.meters.update(now, setpointOf, this.outdoorC());
      const ctx = this.evaluator.context({
        cfg,
        now,
        forecast,
        normalGapC: this.position.normalGapC,
        positionGapC: (b) => this.position.gapOf(b),
        supply: (sid) => this.meters.expectation(sid),
        recentOutdoor: this.learner.recentOutdoor(now),
        lagH: (sid) => this.learner.response(sid).lagH || cfg.coldSpell.defaultLeadH,
      });
      const findings = this.evaluator.run(ctx);
      report.findings = findings;
      this.unitFindings.update(findings, now);
      this.position.learn(cfg, this.live.index, findings, ctx.picture, now, ctx.tracked);
      this.recordSamples(now, ctx);
      this.states.update(this.live.index, findings, now);
      await this.policy.apply(await this.diagnose(findings, ctx, setpointOf), report);
      await this.followPreheats(forecast, now);
      report.applied = await this.tickets.applyDue();
      this.lastReport = report;
      this.pause.ok(now);
      return report;
    } finally {
      this.ticking = false;
    }
  }

  /** Feeds the newest observation to the forecast tracker and returns the forecast to judge. */
  private judgeForecast(now: number): JudgedForecast | undefined {
    const obs = this.live.observation;
    if (obs && obs.ts !== this.lastObservationTs) {
      this.lastObservationTs = obs.ts;
      this.forecasts.observe(obs.ts, obs.outdoorTempC);
    }
    return this.forecasts.update(this.live.forecast, now, this.learner.recentOutdoor(now));
  }

  /** Each open pre-heat follows each new forecast: extended, shortened or cancelled (issue #20 item 1). */
  private async followPreheats(f: JudgedForecast | undefined, now: number): Promise<void> {
    if (!f) return;
    const open = await this.tickets.list({ status: 'open', problem: 'cold_spell' });
    for (const id of this.followed.keys()) if (!open.some((t) => t.id === id)) this.followed.delete(id);
    for (const t of open) {
      if (this.followed.get(t.id) === f.issued) continue;
      this.followed.set(t.id, f.issued);
      const step = followPreheat(t, f, now, this.cfg, this.outdoorC());
      if (step.kind === 'none') continue;
      if (step.kind === 'cancelled' && (t.status === 'proposed' || t.status === 'approved'))
        await this.tickets.supersede(t.id, 'rules', step.reason);
      else await this.tickets.revisePreheat(t.id, step.untilTs, step.kind, step.reason);
    }
  }

  private async diagnose(findings: Finding[], ctx: RuleContext, setpoint: (sid: string) => SetpointInForce) {
    const lowerings = new Map<string, { ticketId: string; deltaC: number }>();
    const opened = new Map<string, { pct: number; ts: number }>();
    for (const t of await this.tickets.settling()) {
      if (t.problem === 'overheat' && t.action.kind === 'supply-offset' && t.action.deltaC < 0)
        lowerings.set(t.substationId, { ticketId: t.id, deltaC: t.action.deltaC });
      if (t.problem === 'building_cold' && t.action.kind === 'valves')
        for (const [b, to] of Object.entries(t.action.valves))
          opened.set(b, {
            pct: to - (t.action.previous[b] ?? ctx.cfg.limits.nominalValvePct),
            ts: t.appliedTs ?? ctx.now,
          });
    }
    return diagnose({
      cfg: ctx.cfg,
      now: ctx.now,
      index: this.live.index,
      findings,
      picture: ctx.picture,
      outdoorC: this.outdoorC(),
      normalGapC: this.position.normalGapC,
      positionGapC: (b) => this.position.gapOf(b),
      setpoint,
      supply: (sid) => this.meters.expectation(sid),
      meterNormal: (sid) => this.meters.normal(sid),
      settlingLowering: (sid) => lowerings.get(sid),
      settlingValve: (b) => opened.get(b),
      response: (id) => this.learner.response(id),
      slopeFit: (sid) => this.learner.slopeFit(sid),
      meter: (sid) => this.live.substation(sid)?.latest,
    });
  }

  /**
   * Judges an applied ticket at its re-check (RecheckScheduler records the outcome): the target's
   * value now against the baseline and the prediction, outdoor-corrected; learns gain and lag from it.
   */
  async evaluateRecheck(t: Ticket): Promise<{ outcome: RecheckOutcome; revert?: SetpointInForce }> {
    const setpoint = await this.tickets.setpointOf(t.substationId);
    const now = this.clock.now();
    const cfg = this.cfg;
    const pictureCache = new Map<string, BuildingPicture>();
    const excluded = new Set(this.evaluator.excludedAt(now));
    const picture = (b: string) => {
      let p = pictureCache.get(b);
      if (!p) {
        p = buildingPicture(this.live, b, now, cfg.buildingCold.classWeights, excluded);
        pictureCache.set(b, p);
      }
      return p;
    };
    return judgeRecheck(
      {
        cfg,
        now,
        index: this.live.index,
        picture,
        outdoorNowC: this.outdoorC(),
        learner: this.learner,
        heatOver: (sid, from, to) => this.meters.heatOver(sid, from, to),
        nodes: this.nodes,
        isActive: (rule, targetId) => this.evaluator.isActive(rule, targetId),
        setpointOf: (sid) => (sid === t.substationId ? setpoint : structuredClone(NEUTRAL_SETPOINT)),
      },
      t,
    );
  }

  /** After an escalation: diagnose again now so the next proposal follows at once. */
  async proposeNext(): Promise<TickReport> {
    this.policy.reset();
    return this.tick();
  }

  /**
   * Seeds the learner's samples from stored history (a restart without a checkpoint). Errors leave
   * the samples as they were: the store may be down at start.
   */
  async seedFromHistory(store: HistorySource, hours: number): Promise<number> {
    try {
      return await seedFromHistory(this.learner, this.live.index, this.cfg, store, this.clock.now(), hours);
    } catch (err) {
      this.log.warn({ err }, 'history not available; estimates start from the live samples');
      return 0;
    }
  }

  /** The rules' judgement of each building, in the dashboard's colours. */
  stateOf(buildingId: string): BuildingState {
    return this.states.stateOf(buildingId);
  }

  private recordSamples(now: number, ctx: RuleContext): void {
    const outdoorC = this.outdoorC();
    this.learner.recordOutdoor(now, outdoorC);
    for (const b of this.live.index.buildings.values())
      this.learner.record(buildingKey(b.id), now, ctx.picture(b.id).weightedMeanC, outdoorC);
    for (const sid of this.live.index.substations.keys())
      this.learner.record(
        substationKey(sid),
        now,
        substationMeasure(this.live.index, sid, ctx.picture),
        outdoorC,
      );
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
