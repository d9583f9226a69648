import { hostname } from 'node:os';
import type { HeatwatchConfig } from '../config/loader.ts';
import { lastFetched, METRIC, outboxMetrics, RULES_TICK_BUCKETS_S, timeEachCall } from '../core/metrics.ts';
import type { ServiceMqttClient } from '../mqtt/client.ts';
import type { Topics } from '../mqtt/topics.ts';
import { instanceName, startCityRules } from '../ops/city.ts';
import type { TakePartition } from '../ops/partition-runner.ts';
import { StoredUnitHours } from '../rules/compliance.ts';
import { RulesModule, type RulesModuleDeps } from '../rules/module.ts';
import type { LiveState } from '../state/live-state.ts';
import type { ReadingStore } from '../storage/reading-store.ts';
import type { SqlDb } from '../storage/sql.ts';
import { TicketService } from '../tickets/ticket-service.ts';
import { TicketStore } from '../tickets/ticket-store.ts';
import type { AppContext } from './context.ts';

export interface RulesDeps {
  opsSql: SqlDb;
  store: ReadingStore;
  live: LiveState;
  /** Setpoints go out retained through the service client. */
  mqttClient: Pick<ServiceMqttClient, 'publishRetained'>;
  topics: Topics;
  /** The config in force (the watcher's): what a reload changed is read from here. */
  current(): HeatwatchConfig;
}

export interface RulesBlock {
  /** The single-process rules: absent in a city (`ops.kind: postgres`) and on an API instance. */
  rules?: RulesModule;
  /** The ticket queue for the API and households: the rules', or in a city every ticket of it. */
  tickets?: TicketService;
  unitHours: StoredUnitHours;
  /** This instance's name among the city's (leases, claims, the live feed's origin). */
  instance: string;
}

/** What every RulesModule of this process shares, partitioned or not. */
type SharedRulesDeps = Omit<RulesModuleDeps, 'ops' | 'checkpointKey' | 'partition' | 'instance'> & {
  instance: string;
};

/**
 * Rules and tickets: judged on the live state on a clock tick; setpoints go out retained through the
 * service client; re-checks are rows, so ones due while down run now. A city (ops.kind postgres):
 * the rules run per partition lease, fenced (src/ops/city.ts).
 */
export async function startRules(ctx: AppContext, d: RulesDeps): Promise<RulesBlock> {
  const { config, svc } = ctx;
  const city = d.opsSql.dialect === 'postgres';
  const instance = instanceName(config, hostname(), process.pid);
  const shared: SharedRulesDeps = {
    clock: ctx.clock,
    bus: ctx.bus,
    live: d.live,
    rules: config.rules,
    log: ctx.log,
    instance,
    publishRetained: (topic, body) => d.mqttClient.publishRetained(topic, body),
    setpointTopic: (id) => d.topics.setpoint(id),
  };
  let rules: RulesModule | undefined;
  let tickets: TicketService | undefined;
  if (city) tickets = await startCity(ctx, d, shared);
  else if (svc.role !== 'api') {
    rules = await startSingleRules(ctx, d, shared);
    tickets = rules.tickets;
  }
  // Compliance has one source: the rules' judgement of each unit-hour in the reading store, read
  // by the daily bulletin and the compliance page alike.
  const unitHours = new StoredUnitHours(
    d.store,
    () => d.live.index,
    () => d.current().rules,
  );
  return { rules, tickets, unitHours, instance };
}

/** One RulesModule over every substation (or `partition.substations`), with its figures on /metrics. */
async function startSingleRules(
  ctx: AppContext,
  d: RulesDeps,
  shared: SharedRulesDeps,
): Promise<RulesModule> {
  const { metrics, log } = ctx;
  const mod = new RulesModule({ ...shared, ops: d.opsSql, partition: ctx.svc.partition.substations });
  await mod.start(d.store);
  ctx.modules.add({
    name: 'rules',
    stop: () => mod.stop(),
    // Validated by the loader already; the engine reports the keys that changed.
    onConfig: (next, prev) => {
      if (JSON.stringify(next.rules) === JSON.stringify(prev.rules)) return;
      log.info({ applied: mod.applyRules(next.rules) }, 'rules reloaded');
    },
  });
  metrics.gauge(
    'heatwatch_rules_paused',
    '1 while the rules pause because the ticket store (ops database) is not reachable',
    () => (mod.engine.pause.since === undefined ? 0 : 1),
  );
  const ticketCounts = lastFetched(() => mod.tickets.counts(), {});
  metrics.gauge('heatwatch_tickets', 'Adjustment tickets by status', () =>
    Object.entries(ticketCounts()).map(([status, value]) => ({ labels: { status }, value })),
  );
  outboxMetrics(metrics, mod.tickets.outbox, ctx.clock);
  timeEachCall(
    mod.engine,
    'tick',
    metrics.histogram(METRIC.rulesTickSeconds, 'Rules tick duration.', RULES_TICK_BUCKETS_S),
  );
  return mod;
}

/**
 * A takeover frees the re-checks the previous holder had claimed on the partition, in the acquiring
 * transaction: that holder's token is fenced off, so they would otherwise wait out `recheck.claimS`
 * unjudged (docs/deploy.md "Partitions that fail over by themselves").
 */
export const freeClaimsOnTakeover: TakePartition = async (q, p) => ({
  recheckClaimsReleased: await new TicketStore(q).releaseRecheckClaims(p.substations),
});

/** A city: every ticket for the API; unless this is an API instance, the rules per partition lease. */
async function startCity(ctx: AppContext, d: RulesDeps, shared: SharedRulesDeps): Promise<TicketService> {
  const { config, modules } = ctx;
  // Every ticket of the city for the API (reads, operator actions), unfenced: an operator's
  // action is no partition's write; the transition table and compare-and-set keep it consistent.
  const tickets = new TicketService(
    d.opsSql,
    ctx.clock,
    ctx.bus,
    { publish: (sid, payload) => d.mqttClient.publishRetained(d.topics.setpoint(sid), payload) },
    () => d.current().rules,
    ctx.log.child({ module: 'tickets' }),
    { instance: shared.instance },
  );
  modules.add({ name: 'tickets', stop: () => tickets.outbox.stop() });
  if (ctx.svc.role === 'api') return tickets;
  const partitions = await startCityRules({
    config,
    db: d.opsSql,
    substationIds: [...config.registry.substations.keys()],
    holder: shared.instance,
    wallClock: ctx.wallClock,
    log: ctx.log,
    taking: freeClaimsOnTakeover,
    build: (p) => {
      const mod = new RulesModule({ ...shared, ops: p.db, checkpointKey: p.name, partition: p.substations });
      return {
        start: () => mod.start(d.store),
        stop: () => mod.stop(),
        applyRules: (n) => mod.applyRules(n),
      };
    },
  });
  modules.add(partitions);
  return tickets;
}
