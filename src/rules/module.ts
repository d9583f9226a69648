import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { Db } from '../storage/sqlite.ts';
import { RecheckScheduler } from '../tickets/recheck-scheduler.ts';
import { notifiersFor, ReminderScheduler } from '../tickets/reminders.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import type { SetpointPayload, SetpointPublisher } from '../tickets/types.ts';
import { type ApplyRulesResult, RulesEngine } from './engine.ts';
import type { LiveView } from './view.ts';

export interface RulesModuleDeps {
  clock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveView;
  /** The operational database, opened with `ticketMigrations` among its migrations (synchronous FULL). */
  opsDb: Db;
  rules: RulesConfig;
  /** Publishes a retained QoS 1 message and resolves once the broker acknowledged it. */
  publishRetained(topic: string, body: unknown): Promise<void>;
  /** `heat/substations/{id}/setpoint` under the configured topic root. */
  setpointTopic(substationId: string): string;
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

  constructor(deps: RulesModuleDeps) {
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
    this.engine = new RulesEngine(deps.clock, deps.live, this.tickets, deps.rules, log, deps.bus);
    this.rechecks = new RecheckScheduler(
      deps.clock,
      this.tickets,
      this.engine,
      rules,
      log.child({ module: 'recheck' }),
    );
    this.reminders = new ReminderScheduler(
      deps.clock,
      deps.live,
      this.tickets,
      rules,
      notifiersFor(deps.rules, log.child({ module: 'reminders' })),
      log.child({ module: 'reminders' }),
    );
  }

  /**
   * Seeds the response estimates from stored history (when a store is given), then the engine ticks,
   * then re-checks that fell due while heatwatch was down run, then reminders.
   */
  async start(history?: Pick<ReadingStore, 'roomHistory' | 'substationHistory'>): Promise<void> {
    if (history) await this.engine.seedFromHistory(history, this.engine.rules.diagnosis.historySeedH);
    this.engine.start();
    await this.rechecks.start();
    this.reminders.start();
  }

  async stop(): Promise<void> {
    this.reminders.stop();
    this.rechecks.stop();
    this.engine.stop();
  }

  /** Config reload of config/rules.yaml: validated; returns what changed or why it was refused. */
  applyRules(next: unknown): ApplyRulesResult {
    return this.engine.applyRules(next);
  }
}
