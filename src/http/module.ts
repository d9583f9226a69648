import type { FastifyInstance } from 'fastify';
import type { HeatwatchConfig } from '../config/loader.ts';
import type { Clock } from '../core/clock.ts';
import type { EventBus } from '../core/event-bus.ts';
import type { HeatEvents } from '../core/events.ts';
import type { Logger } from '../core/log.ts';
import type { MetricsRegistry } from '../core/metrics.ts';
import type { UnitHoursSource } from '../rules/compliance.ts';
import type { SqlDb } from '../storage/sql.ts';
import type { Db } from '../storage/sqlite.ts';
import { buildApp } from './app.ts';
import type { TokenAuth } from './auth.ts';
import { UnitHoursCompliance } from './compliance.ts';
import type { LiveHub } from './live-hub.ts';
import type {
  BuildingStateView,
  CompliancePort,
  EngineerPort,
  HealthPort,
  HistoryPort,
  HouseholdsPort,
  LiveView,
  ManualReadingSink,
} from './ports.ts';
import { HttpServer } from './server.ts';
import { TicketServiceAdapter, type TicketServiceLike } from './ticket-adapter.ts';

export interface HttpModuleArgs {
  config: HeatwatchConfig;
  clock: Clock;
  wallClock: Clock;
  bus: EventBus<HeatEvents>;
  live: LiveView;
  /** The operational database, opened with `httpMigrations` among its migrations. */
  opsDb: Db;
  /** The audit log's database: ops.db, or PostgreSQL with `ops.kind: postgres` (default: opsDb). */
  opsSql?: SqlDb;
  log: Logger;
  store?: HistoryPort;
  /** The service's metrics: /metrics serves it; the HTTP edge adds its request histogram and gauges. */
  metrics?: MetricsRegistry;
  health?: HealthPort;
  /** The ingestor: `submit(reading)` makes a manual reading durable like any other. */
  manual?: ManualReadingSink;
  tickets?: TicketServiceLike;
  /** The rules' judgement of each building (the rules engine); absent: what the rules announced on the bus. */
  buildingState?: BuildingStateView;
  compliance?: CompliancePort;
  /** The rules' unit-hours: the compliance page and the season review read them (unless `compliance`). */
  unitHours?: UnitHoursSource;
  engineer?: EngineerPort;
  households?: HouseholdsPort;
  /** The rules engine's current findings (e.g. `() => rules.engine.status().findings`): the dry run. */
  rulesFindings?: () => ReadonlyArray<object>;
  /** Receives the first-start admin token (default: printed to stderr once). */
  announceAdminToken?: (token: string) => void;
  /** `feed` in a city: shared events come from the live feed (src/ops/live-bridge.ts), not the bus. */
  liveSource?: 'bus' | 'feed';
}

export interface HttpModule {
  app: FastifyInstance;
  auth: TokenAuth;
  hub: LiveHub;
  /** Listens; resolves with the bound port. */
  start(): Promise<number>;
  stop(): Promise<void>;
  /** After an accepted config reload: users.yaml takes effect at once (other http keys need a restart). */
  onConfig(config: HeatwatchConfig): void;
}

/** One call for the composition root (src/app/http.ts): builds the API and dashboard from the running modules. */
export async function createHttpModule(a: HttpModuleArgs): Promise<HttpModule> {
  const svc = a.config.service;
  const built = await buildApp({
    http: svc.http,
    rules: a.config.rules,
    users: a.config.users,
    adminToken: a.config.secrets.adminToken,
    db: a.opsDb,
    opsSql: a.opsSql,
    log: a.log.child({ module: 'http' }),
    announceAdminToken: a.announceAdminToken,
    version: a.config.version,
    registry: a.metrics,
    liveSource: a.liveSource,
    deps: {
      clock: a.clock,
      wallClock: a.wallClock,
      bus: a.bus,
      live: a.live,
      buildingState: a.buildingState,
      history: a.store,
      metrics: a.metrics,
      health: a.health,
      manual: a.manual,
      tickets: a.tickets
        ? new TicketServiceAdapter(
            a.tickets,
            () => a.live.index,
            (sid) => a.live.substation(sid)?.latest,
          )
        : undefined,
      compliance:
        a.compliance ?? (a.unitHours ? new UnitHoursCompliance(a.unitHours, () => a.live.index) : undefined),
      households: a.households,
      engineer: a.engineer ?? {
        dryRun: a.rulesFindings
          ? async () => ({ findings: a.rulesFindings!().map((f) => ({ ...f }) as Record<string, unknown>) })
          : undefined,
        configSummary: () => ({
          version: a.config.version,
          site: a.config.service.site,
          // Secrets live in config.secrets only; none of these files carries one.
          files: { rules: a.config.rules, http: a.config.service.http, ingest: a.config.service.ingest },
        }),
      },
    },
  });
  const server = new HttpServer(built.app, svc.http.host, svc.http.port);
  return {
    app: built.app,
    auth: built.auth,
    hub: built.hub,
    async start() {
      await server.start();
      return server.boundPort;
    },
    stop: () => server.stop(),
    onConfig(config) {
      built.auth.setUsers(config.users);
    },
  };
}
