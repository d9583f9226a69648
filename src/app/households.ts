import type { HeatwatchConfig } from '../config/loader.ts';
import { HouseholdsModule } from '../households/module.ts';
import type { StoredUnitHours } from '../rules/compliance.ts';
import type { LiveState } from '../state/live-state.ts';
import type { SqlDb } from '../storage/sql.ts';
import type { TicketService } from '../tickets/ticket-service.ts';
import type { AppContext } from './context.ts';

export interface HouseholdsDeps {
  opsSql: SqlDb;
  live: LiveState;
  /** The ticket queue of the rules block, when there is one. */
  tickets?: TicketService;
  unitHours: StoredUnitHours;
  /** The config in force (the watcher's). */
  current(): HeatwatchConfig;
}

/** Households (households.enabled): cold flats, complaints, measurement tasks, work orders (docs/households.md). */
export async function startHouseholds(
  ctx: AppContext,
  d: HouseholdsDeps,
): Promise<HouseholdsModule | undefined> {
  if (!ctx.svc.households.enabled) return undefined;
  const { tickets, live } = d;
  const hh = new HouseholdsModule({
    sql: d.opsSql,
    clock: ctx.clock,
    wallClock: ctx.wallClock,
    bus: ctx.bus,
    cfg: () => d.current().service.households,
    rules: () => d.current().rules,
    tickets: tickets ? () => tickets.list({}) : undefined,
    fieldTask: async (id) => {
      const t = (await tickets?.get(id))?.ticket;
      return t?.action.kind === 'field' ? t : undefined;
    },
    index: () => live.index,
    unitHours: d.unitHours,
    sensorTempC: (id) => live.sensor(id)?.tempC,
    webhookSecret: ctx.config.secrets.webhookSecret,
    timeZone: ctx.svc.http.locale.timeZone,
    log: ctx.log,
  });
  await hh.start();
  ctx.modules.add({ name: 'households', stop: () => hh.stop() });
  return hh;
}
