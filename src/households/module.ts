import type { HouseholdsConfig } from '../config/households-schema.ts';
import type { RulesConfig } from '../config/rules-schema.ts';
import type { Clock, TimerHandle } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { RegistryIndex } from '../core/registry.ts';
import type { UnitHoursSource } from '../rules/compliance.ts';
import type { SqlDb } from '../storage/sql.ts';
import { OutboxDeliverer } from './outbox.ts';
import { type CronSchedule, Reporter } from './reporter.ts';
import type { TicketLike } from './reports.ts';
import { type HouseholdDeps, HouseholdService } from './service.ts';
import { SqlHouseholdsStore } from './sql-store.ts';
import type { HouseholdsStore } from './store.ts';

export { householdsMigrations } from './migrations.ts';

const OPEN_TICKET = new Set(['proposed', 'approved', 'applied', 'rechecking']);

export interface HouseholdsModuleDeps {
  /** The ops database (SQLite or PostgreSQL), migrated with `householdsMigrations`. */
  sql: SqlDb;
  clock: Clock;
  /** Transport timers (outbox polling, retry backoff) run in wall time. */
  wallClock: Clock;
  bus: EventBus<HeatEvents>;
  cfg: () => HouseholdsConfig;
  rules: () => RulesConfig;
  /** Tickets for the digest and the bulletin (TicketService.list). */
  /** The tickets (read from the ticket store, which may be a database server: async). */
  tickets?: () => TicketLike[] | Promise<TicketLike[]>;
  fieldTask?: HouseholdDeps['fieldTask'];
  index: () => RegistryIndex;
  /** Unit-hours for the bulletin's compliance figures (the rules' one source); absent: none counted. */
  unitHours?: UnitHoursSource;
  sensorTempC?: (sensorId: string) => number | undefined;
  webhookSecret?: string;
  log: Logger;
  fetchFn?: typeof fetch;
  /** The site's IANA time zone (`http.locale.timeZone`): the digest's and bulletin's cron run in it. */
  timeZone: string;
  /** The digest's and bulletin's cron (node-cron on the wall clock, in `timeZone`, when absent). */
  schedule?: CronSchedule;
}

/**
 * The households module as src/app/households.ts starts it: the service on the ops database, its bus listeners
 * (cold flats, readings, tickets), the periodic due check and the webhook outbox.
 */
export class HouseholdsModule {
  readonly store: HouseholdsStore;
  readonly service: HouseholdService;
  readonly outbox: OutboxDeliverer;
  readonly reporter: Reporter;
  private readonly offs: Array<() => void> = [];
  private timer: TimerHandle | undefined;

  constructor(private readonly d: HouseholdsModuleDeps) {
    this.store = new SqlHouseholdsStore(d.sql);
    const log = d.log.child({ module: 'households' });
    this.service = new HouseholdService({
      ...d,
      openTickets: async (buildingId, substationId) =>
        ((await d.tickets?.()) ?? [])
          .filter(
            (t) => OPEN_TICKET.has(t.status) && (t.targetId === buildingId || t.targetId === substationId),
          )
          .map((t) => t.id),
      requiredTempC: () => d.rules().requiredTempC,
      store: this.store,
      log,
    });
    this.reporter = new Reporter({ ...d, store: this.store, log });
    this.outbox = new OutboxDeliverer(
      this.store,
      () => d.cfg().outbox,
      d.webhookSecret,
      d.wallClock,
      log,
      d.fetchFn,
    );
  }

  async start(): Promise<void> {
    await this.service.start();
    const log = this.d.log.child({ module: 'households' });
    const guard = (what: string, p: Promise<unknown> | undefined) =>
      void p?.catch((err: unknown) => log.error({ err }, `households: ${what} failed`));
    this.offs.push(
      this.d.bus.on('unitFinding', 'households', (f) => guard('cold flat', this.service.onUnitFinding(f))),
      this.d.bus.on('roomReadings', 'households', (r) => guard('readings', this.service.onRoomReadings(r))),
      this.d.bus.on('ticketChanged', 'households', (t) => guard('ticket link', this.service.onTicket(t))),
    );
    this.timer = this.d.clock.setInterval(
      () => guard('due check', this.service.checkDue()),
      this.d.cfg().cases.checkIntervalMs,
    );
    this.outbox.start();
    this.reporter.start();
  }

  async stop(): Promise<void> {
    this.timer?.cancel();
    this.outbox.stop();
    this.reporter.stop();
    for (const off of this.offs.splice(0)) off();
    await this.service.idle();
  }
}
