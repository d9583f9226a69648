import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { Db, Migration } from '../storage/sqlite.ts';
import { ConfirmationWatcher } from '../tickets/confirmation.ts';
import { RecheckScheduler } from '../tickets/recheck-scheduler.ts';
import { notifiersFor, ReminderScheduler } from '../tickets/reminders.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import type { SetpointPayload, SetpointPublisher } from '../tickets/types.ts';
import { type ApplyRulesResult, type EngineSnapshot, RulesEngine } from './engine.ts';
import { responseMigrations, SqliteResponseStore } from './response-store.ts';
import { type LiveView, partitionView } from './view.ts';

/**
 * The rules engine's checkpoint (one row, so a restart keeps minimum durations, flapping and samples)
 * and the responses it learnt. Applied after `ticketMigrations`.
 */
export const rulesMigrations: readonly Migration[] = [
  {
    id: 'rules-001',
    sql: `CREATE TABLE rules_checkpoint (
      id   INTEGER PRIMARY KEY CHECK (id = 1),
      body TEXT NOT NULL,
      ts   INTEGER NOT NULL
    );`,
  },
  ...responseMigrations,
];

export interface RulesModuleDeps {
  clock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveView;
  /** The ops database, opened with `ticketMigrations` and `rulesMigrations` (synchronous FULL). */
  opsDb: Db;
  rules: RulesConfig;
  /** Publishes a retained QoS 1 message and resolves once the broker acknowledged it. */
  publishRetained(topic: string, body: unknown): Promise<void>;
  /** `heat/substations/{id}/setpoint` under the configured topic root. */
  setpointTopic(substationId: string): string;
  /** The substations this instance judges (service `partition.substations`); empty: all of them. */
  partition?: readonly string[];
  log: Logger;
}

/**
 * The rules engine, the ticket service, the re-check scheduler and the reminders, built and started
 * in order. `main.ts` creates it once; `stop()` stops them in reverse. The setpoint publisher is the
 * service MQTT client behind the `SetpointPublisher` port.
 */
export class RulesModule {
  readonly tickets: TicketService;
  readonly engine: RulesEngine;
  readonly rechecks: RecheckScheduler;
  readonly reminders: ReminderScheduler;
  readonly confirmations: ConfirmationWatcher;

  private readonly db: Db;
  private readonly clock: Clock;
  private checkpointTimer: TimerHandle | undefined;

  constructor(deps: RulesModuleDeps) {
    this.db = deps.opsDb;
    this.clock = deps.clock;
    const log = deps.log.child({ module: 'rules' });
    const publisher: SetpointPublisher = {
      publish: (substationId: string, payload: SetpointPayload) =>
        deps.publishRetained(deps.setpointTopic(substationId), payload),
    };
    const rules = () => this.engine.rules;
    this.tickets = new TicketService(
      deps.opsDb,
      deps.clock,
      deps.bus,
      publisher,
      rules,
      log.child({ module: 'tickets' }),
    );
    const live = partitionView(deps.live, deps.partition ?? []);
    this.engine = new RulesEngine(deps.clock, live, this.tickets, deps.rules, log, deps.bus, {
      responses: new SqliteResponseStore(deps.opsDb, () => deps.clock.now()),
    });
    this.rechecks = new RecheckScheduler(
      deps.clock,
      this.tickets,
      this.engine,
      rules,
      log.child({ module: 'recheck' }),
      (sid) => live.index.substations.has(sid),
    );
    this.confirmations = new ConfirmationWatcher(
      deps.clock,
      this.tickets.outbox,
      (sid) => deps.live.substation(sid)?.latest,
      rules,
      deps.bus,
      (id, kind, actor, reason) => this.tickets.note(id, kind, actor, reason),
      log.child({ module: 'setpoint' }),
    );
    this.reminders = new ReminderScheduler(
      deps.clock,
      live,
      this.tickets,
      rules,
      notifiersFor(deps.rules, log.child({ module: 'reminders' })),
      log.child({ module: 'reminders' }),
    );
  }

  /**
   * Restores the engine's checkpoint (or, without one, seeds the estimates from stored history when a
   * store is given), then the engine ticks, re-checks that fell due while heatwatch was down run,
   * and reminders start. The checkpoint is written every `tick.checkpointS` and at stop.
   */
  async start(history?: Pick<ReadingStore, 'roomHistory' | 'substationHistory'>): Promise<void> {
    const row = this.db.prepare('SELECT body FROM rules_checkpoint WHERE id = 1').get() as
      | { body: string }
      | undefined;
    if (row) this.engine.restore(JSON.parse(row.body) as EngineSnapshot);
    else if (history) await this.engine.seedFromHistory(history, this.engine.rules.diagnosis.historySeedH);
    this.checkpointTimer = this.clock.setInterval(
      () => this.checkpoint(),
      this.engine.rules.tick.checkpointS * 1000,
    );
    this.engine.start();
    // Commands left in the outbox by a crash go out first; then their confirmation is watched.
    this.tickets.outbox.start();
    this.confirmations.start();
    await this.rechecks.start();
    this.reminders.start();
  }

  async stop(): Promise<void> {
    this.reminders.stop();
    this.rechecks.stop();
    this.confirmations.stop();
    this.tickets.outbox.stop();
    this.engine.stop();
    this.checkpointTimer?.cancel();
    this.checkpointTimer = undefined;
    this.checkpoint();
  }

  /** Writes the engine's state to the ops database (one row, replaced). */
  checkpoint(): void {
    this.db
      .prepare('INSERT OR REPLACE INTO rules_checkpoint (id, body, ts) VALUES (1, ?, ?)')
      .run(JSON.stringify(this.engine.snapshot()), this.clock.now());
  }

  /** Config reload of config/rules.yaml: validated; returns what changed or why it was refused. */
  applyRules(next: unknown): ApplyRulesResult {
    return this.engine.applyRules(next);
  }
}
