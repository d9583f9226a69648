/**
 * heatwatch itself on the twin: the production RulesEngine, TicketService and RecheckScheduler,
 * direct-coupled under the run's ManualClock (no broker). `acting` applies safe steps on their own and
 * has an operator approve the rest after a delay; `watching` lets the engine propose and applies
 * nothing, so the curves stay as they are.
 */
import type { RulesConfig } from '../../src/config/rules-schema.ts';
import type { ManualClock } from '../../src/core/clock.ts';
import { EventBus } from '../../src/core/event-bus.ts';
import type { HeatEvents } from '../../src/core/events.ts';
import { silentLogger } from '../../src/core/log.ts';
import { RulesEngine } from '../../src/rules/engine.ts';
import type { LiveState } from '../../src/state/live-state.ts';
import { sqliteSql } from '../../src/storage/sql.ts';
import type { Db } from '../../src/storage/sqlite.ts';
import { openDb } from '../../src/storage/sqlite.ts';
import { ConfirmationWatcher } from '../../src/tickets/confirmation.ts';
import { ticketMigrations } from '../../src/tickets/migrations.ts';
import { RecheckScheduler } from '../../src/tickets/recheck-scheduler.ts';
import { TicketService } from '../../src/tickets/ticket-service.ts';
import type { SetpointPayload } from '../../src/tickets/types.ts';
import type { SimSetpoint } from '../physics.ts';
import type { Strategy, StrategyView, TicketFigures } from './strategies.ts';

const HOUR_MS = 3_600_000;
const OPERATOR = 'operator';

export class EngineStrategy implements Strategy {
  private readonly db: Db;
  private readonly tickets: TicketService;
  private readonly engine: RulesEngine;
  private readonly scheduler: RecheckScheduler;
  private readonly confirmations: ConfirmationWatcher;
  private view: StrategyView | undefined;
  private operatorActions = 0;
  private started = false;
  private readonly buildingIds: string[];

  constructor(
    readonly name: 'acting' | 'watching',
    private readonly clock: ManualClock,
    live: LiveState,
    rules: RulesConfig,
    private readonly approveDelayH: number,
    stepMin: number,
  ) {
    const acting = name === 'acting';
    this.buildingIds = [...live.index.buildings.keys()];
    const cfg: RulesConfig = {
      ...rules,
      autoApprove: { ...rules.autoApprove, enabled: acting },
      // Readings change once per twin step; a second tick within it would judge the same picture.
      tick: { ...rules.tick, intervalS: Math.max(rules.tick.intervalS, stepMin * 60) },
    };
    this.db = openDb(':memory:', { synchronous: 'NORMAL', migrations: ticketMigrations });
    const log = silentLogger();
    const publisher = {
      publish: async (substationId: string, payload: SetpointPayload) => {
        // Watching never applies anything, so nothing reaches here; acting delivers to the twin.
        await this.view?.send(substationId, toSimSetpoint(payload));
      },
    };
    let current = cfg;
    this.tickets = new TicketService(
      sqliteSql(this.db),
      clock,
      new EventBus<HeatEvents>(),
      publisher,
      () => current,
      log,
    );
    this.engine = new RulesEngine(clock, live, this.tickets, cfg, log);
    current = this.engine.rules;
    this.scheduler = new RecheckScheduler(clock, this.tickets, this.engine, () => this.engine.rules, log);
    // As in production: a command the substation does not report back in force becomes a finding.
    this.confirmations = new ConfirmationWatcher(
      clock,
      this.tickets.outbox,
      (sid) => live.substation(sid)?.latest,
      () => this.engine.rules,
      undefined,
      (id, kind, actor, reason) => this.tickets.note(id, kind, actor, reason),
      log,
    );
  }

  async afterStep(view: StrategyView): Promise<void> {
    this.view = view;
    if (!this.started) {
      this.started = true;
      this.engine.start();
      await this.scheduler.start();
      this.confirmations.start();
    }
    // The run loop has stepped the twin and fed the readings; now heatwatch's timers fire up to now.
    await this.clock.advanceAsync(view.now - this.clock.now());
    if (this.name === 'acting') await this.operate();
    // Setpoint commands wait in the ticket outbox; deliver this step's before the twin steps on.
    await this.tickets.outbox.drainOnce();
  }

  /** The operator: approves and applies what waited for a person, once it has waited the delay. */
  private async operate(): Promise<void> {
    const now = this.clock.now();
    for (const t of await this.tickets.list({ status: 'proposed' })) {
      if (now - t.createdTs < this.approveDelayH * HOUR_MS) continue;
      try {
        await this.tickets.approve(t.id, OPERATOR, 'approved by the simulated operator');
        await this.tickets.apply(t.id, OPERATOR, 'applied by the simulated operator');
        this.operatorActions++;
      } catch {
        // Superseded or changed meanwhile: the next step sees its new state.
      }
    }
  }

  async finish(): Promise<TicketFigures> {
    this.engine.stop();
    this.scheduler.stop();
    this.confirmations.stop();
    const byProblem: TicketFigures['byProblem'] = {};
    const rechecks = { resolved: 0, escalated: 0, deferred: 0 };
    for (const t of await this.tickets.list()) {
      const row = byProblem[t.problem] ?? {};
      row[t.status] = (row[t.status] ?? 0) + 1;
      byProblem[t.problem] = row;
      for (const e of (await this.tickets.get(t.id))?.events ?? []) {
        if (e.actor === 'recheck' && e.toStatus === 'resolved') rechecks.resolved++;
        if (e.actor === 'recheck' && e.toStatus === 'escalated') rechecks.escalated++;
        if (e.kind.includes('defer')) rechecks.deferred++;
      }
    }
    this.db.close();
    const position: TicketFigures['position'] = {};
    for (const b of this.buildingIds) position[b] = this.engine.positionEffect(b);
    return { byProblem, operatorActions: this.operatorActions, rechecks, position };
  }
}

function toSimSetpoint(p: SetpointPayload): SimSetpoint {
  const out: SimSetpoint = { supplyOffset: p.supplyOffset, setpointId: p.setpointId };
  if (p.slopeDelta !== undefined) out.slopeDelta = p.slopeDelta;
  if (p.buildingValves) out.buildingValves = p.buildingValves;
  return out;
}
