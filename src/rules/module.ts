import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import { partitionedView } from '../ops/partition.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { SqlDb } from '../storage/sql.ts';
import { type SqlMigration, sqliteMigrations } from '../storage/sql-migrate.ts';
import type { Migration } from '../storage/sqlite.ts';
import { ConfirmationWatcher } from '../tickets/confirmation.ts';
import { RecheckScheduler } from '../tickets/recheck-scheduler.ts';
import { notifiersFor, ReminderScheduler } from '../tickets/reminders.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import type { SetpointPayload, SetpointPublisher } from '../tickets/types.ts';
import { type ApplyRulesResult, type EngineSnapshot, RulesEngine } from './engine.ts';
import { responseMigrations, SqlResponseStore } from './response-store.ts';
import type { LiveView } from './view.ts';

/**
 * The rules engine's checkpoint (so a restart keeps minimum durations, flapping and samples) and the
 * responses it learnt, in both dialects. Applied after the ticket migrations. rules-004: one
 * checkpoint row per partition (several rules instances share a city's database), the single row of
 * earlier releases carried over as `all`.
 */
export const rulesSqlMigrations: readonly SqlMigration[] = [
  {
    id: 'rules-001',
    sqlite: `CREATE TABLE rules_checkpoint (
      id   INTEGER PRIMARY KEY CHECK (id = 1),
      body TEXT NOT NULL,
      ts   INTEGER NOT NULL
    );`,
    postgres: `CREATE TABLE rules_checkpoint (
      id   INTEGER PRIMARY KEY CHECK (id = 1),
      body TEXT NOT NULL,
      ts   BIGINT NOT NULL
    );`,
  },
  ...responseMigrations,
  {
    id: 'rules-004',
    sqlite: `CREATE TABLE rules_checkpoints (
      partition TEXT PRIMARY KEY,
      body      TEXT NOT NULL,
      ts        INTEGER NOT NULL
    );
    INSERT INTO rules_checkpoints SELECT 'all', body, ts FROM rules_checkpoint;`,
    postgres: `CREATE TABLE rules_checkpoints (
      partition TEXT PRIMARY KEY,
      body      TEXT NOT NULL,
      ts        BIGINT NOT NULL
    );
    INSERT INTO rules_checkpoints SELECT 'all', body, ts FROM rules_checkpoint;`,
  },
];

/** The SQLite halves, for the synchronous `openOpsDb` path. */
export const rulesMigrations: readonly Migration[] = sqliteMigrations(rulesSqlMigrations);

export interface RulesModuleDeps {
  clock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveView;
  /**
   * The ops database through the query layer (SQLite opened with `ticketMigrations` and
   * `rulesMigrations`, synchronous FULL; or a city's PostgreSQL, migrated with the SQL migrations).
   */
  ops: SqlDb;
  /** Whose checkpoint row this module keeps (a partition's name; default `all`). */
  checkpointKey?: string;
  /** This instance's name in re-check and outbox claims. */
  instance?: string;
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
 * in order. src/app/rules.ts creates it once per process (per partition in a city); `stop()` stops
 * them in reverse. The setpoint publisher is the service MQTT client behind the `SetpointPublisher`
 * port.
 */
export class RulesModule {
  readonly tickets: TicketService;
  readonly engine: RulesEngine;
  readonly rechecks: RecheckScheduler;
  readonly reminders: ReminderScheduler;
  readonly confirmations: ConfirmationWatcher;

  private readonly db: SqlDb;
  private readonly clock: Clock;
  private readonly responses: SqlResponseStore;
  private readonly checkpointKey: string;
  private readonly log: Logger;
  private checkpointTimer: TimerHandle | undefined;

  constructor(deps: RulesModuleDeps) {
    this.db = deps.ops;
    this.clock = deps.clock;
    this.checkpointKey = deps.checkpointKey ?? 'all';
    const log = deps.log.child({ module: 'rules' });
    this.log = log;
    const publisher: SetpointPublisher = {
      publish: (substationId: string, payload: SetpointPayload) =>
        deps.publishRetained(deps.setpointTopic(substationId), payload),
    };
    const rules = () => this.engine.rules;
    this.tickets = new TicketService(
      deps.ops,
      deps.clock,
      deps.bus,
      publisher,
      rules,
      log.child({ module: 'tickets' }),
      {
        instance: deps.instance,
      },
    );
    this.responses = new SqlResponseStore(
      deps.ops,
      () => deps.clock.now(),
      (err) => log.warn({ err }, 'learnt response not written; kept in memory'),
    );
    const live = partitionedView(deps.live, { substations: [...(deps.partition ?? [])] });
    this.engine = new RulesEngine(deps.clock, live, this.tickets, deps.rules, log, deps.bus, {
      responses: this.responses,
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
      (id, kind, actor, reason, q) => this.tickets.note(id, kind, actor, reason, q),
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
    await this.responses.load();
    const row = await this.db.get<{ body: string }>(
      'SELECT body FROM rules_checkpoints WHERE partition = ?',
      [this.checkpointKey],
    );
    if (row) this.engine.restore(JSON.parse(row.body) as EngineSnapshot);
    else if (history) await this.engine.seedFromHistory(history, this.engine.rules.diagnosis.historySeedH);
    this.checkpointTimer = this.clock.setInterval(
      () =>
        void this.checkpoint().catch((err: unknown) =>
          this.log.warn({ err }, 'rules checkpoint not written'),
        ),
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
    // The database may be unreachable at stop: what the checkpoint missed is relearnt, not lost tickets.
    await this.checkpoint().catch((err: unknown) =>
      this.log.warn({ err }, 'rules checkpoint not written at stop'),
    );
    await this.responses.flush();
  }

  /** Writes the engine's state to the ops database (this module's row, replaced). */
  async checkpoint(): Promise<void> {
    await this.db.run(
      `INSERT INTO rules_checkpoints (partition, body, ts) VALUES (?, ?, ?)
         ON CONFLICT (partition) DO UPDATE SET body = excluded.body, ts = excluded.ts`,
      [this.checkpointKey, JSON.stringify(this.engine.snapshot()), this.clock.now()],
    );
  }

  /** Config reload of config/rules.yaml: validated; returns what changed or why it was refused. */
  applyRules(next: unknown): ApplyRulesResult {
    return this.engine.applyRules(next);
  }
}
