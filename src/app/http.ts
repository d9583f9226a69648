import type { HouseholdsModule } from '../households/module.ts';
import { createHttpModule } from '../http/module.ts';
import type { IngestHealth } from '../ingest/health.ts';
import type { Ingestor } from '../ingest/ingestor.ts';
import { startLiveBridge } from '../ops/city.ts';
import type { AppContext } from './context.ts';
import type { ReadingPath } from './ingestion.ts';
import type { OpsStores } from './ops-stores.ts';
import type { RulesBlock } from './rules.ts';

export interface HttpDeps extends OpsStores, ReadingPath, RulesBlock {
  health: { health(): Promise<IngestHealth> };
  /** The sink of manual readings. */
  ingestor: Ingestor;
  households?: HouseholdsModule;
}

/**
 * HTTP API and dashboard: live state, history from the store, the ingestor as the sink of manual
 * readings; the ticket queue once the rules block provides it. Resolves with the bound port.
 */
export async function startHttp(ctx: AppContext, d: HttpDeps): Promise<number> {
  const { config, bus, log, modules } = ctx;
  const { rules, opsSql } = d;
  const http = await createHttpModule({
    config,
    clock: ctx.clock,
    wallClock: ctx.wallClock,
    bus,
    live: d.live,
    opsDb: d.opsDb,
    opsSql,
    log,
    store: d.store,
    metrics: ctx.metrics,
    health: d.health,
    manual: d.ingestor,
    tickets: d.tickets,
    buildingState: rules?.engine,
    rulesFindings: rules ? () => rules.engine.status().findings : undefined,
    households: d.households,
    unitHours: d.unitHours,
    liveSource: opsSql.dialect === 'postgres' ? 'feed' : 'bus',
  });
  const httpPort = await http.start();
  // users.yaml applies on save: a removed token stops working at once.
  modules.add({ name: 'http', stop: () => http.stop(), onConfig: (next) => http.onConfig(next) });
  // A city: ticket, case and building events of every instance reach this one's live stream.
  const feed = await startLiveBridge({
    config,
    db: opsSql,
    bus,
    hub: http.hub,
    origin: d.instance,
    wallClock: ctx.wallClock,
    log,
  });
  if (feed) modules.add(feed);
  return httpPort;
}
