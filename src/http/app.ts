import fastifyCookie from '@fastify/cookie';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, LogController } from 'fastify';
import type { Logger } from 'pino';
import type { RulesConfig } from '../config/rules-schema.ts';
import type { ServiceConfig } from '../config/service-schema.ts';
import type { UsersConfig } from '../config/users-schema.ts';
import { HTTP_BUCKETS_S, METRIC, type MetricsRegistry } from '../core/metrics.ts';
import { type SqlDb, sqliteSql } from '../storage/sql.ts';
import type { Db } from '../storage/sqlite.ts';
import { AuditLog } from './audit.ts';
import { bootstrapAdmin, TokenAuth } from './auth.ts';
import { AnnouncedStates } from './building-state.ts';
import { buildDashboard, DASHBOARD_DIST, registerDashboard } from './dashboard-assets.ts';
import { registerDocs } from './docs.ts';
import { clientErrorHandler, frameworkErrors, registerErrorHandling } from './errors.ts';
import { LiveHub } from './live-hub.ts';
import type { HttpDeps } from './ports.ts';
import { openApiDocument, type RouteDef, registerRoutes } from './route-table.ts';
import type { RouteDeps } from './routes/context.ts';
import { householdRoutes } from './routes/households.ts';
import { householdReportRoutes } from './routes/households-reports.ts';
import { networkRoutes } from './routes/network.ts';
import { opsRoutes } from './routes/ops.ts';
import { ticketRoutes } from './routes/tickets.ts';
import { registerSecurity } from './security.ts';

export interface AppOptions {
  http: ServiceConfig['http'];
  rules: Pick<RulesConfig, 'requiredTempC' | 'toleranceC' | 'unitHot'>;
  users: UsersConfig;
  adminToken?: string;
  /** The operational database (with `httpMigrations` applied): first-start token, and the audit log unless `opsSql`. */
  db: Db;
  /** Where the audit log lives (ops.db or the city's PostgreSQL, `auditMigrations` applied); default `db`. */
  opsSql?: SqlDb;
  deps: HttpDeps;
  log: Logger;
  /** Receives the first-start admin token, once. Default: printed to stderr. */
  announceAdminToken?: (token: string) => void;
  /** Where the dashboard is built to and served from (tests may use a temp dir). */
  dashboardDir?: string;
  version?: string;
  /** Where the edge records its request histogram and live-client gauge (absent in most tests). */
  registry?: MetricsRegistry;
  /** `feed`: ticket, case and building events reach the live stream from the city's feed (LiveHub). */
  liveSource?: 'bus' | 'feed';
}

export interface HeatwatchHttp {
  app: FastifyInstance;
  auth: TokenAuth;
  hub: LiveHub;
  routes: RouteDef[];
}

/** The first start's admin token, shown once on stderr (only its hash is kept). */
const printAdminToken = (t: string): void => {
  process.stderr.write(
    `\nheatwatch: no API users are configured, so an admin token was created.\n` +
      `It is shown only this once; store it now (only its hash is kept):\n\n  ${t}\n\n`,
  );
};

/** The fastify instance with heatwatch's limits: body size, request deadlines, no request logging. */
function createFastify(o: AppOptions): FastifyInstance {
  return Fastify({
    loggerInstance: o.log as FastifyBaseLogger,
    bodyLimit: o.http.bodyLimitBytes,
    // The token may ride in /api/live's query string; security.ts logs requests without the query.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: false,
    // Slow clients (issue #13 item 10): headers and the whole request each have a deadline.
    requestTimeout: o.http.requestTimeoutMs,
    http: {
      headersTimeout: o.http.headersTimeoutMs,
      requestTimeout: o.http.requestTimeoutMs,
      connectionsCheckingInterval: o.http.timeoutCheckIntervalMs,
    },
    frameworkErrors,
    clientErrorHandler,
  });
}

/**
 * Builds the API and dashboard app from its plugins; never listens (server.ts does). fastify/demo's
 * split: tests drive this through `app.inject()`.
 */
export async function buildApp(o: AppOptions): Promise<HeatwatchHttp> {
  const { deps } = o;
  const app = createFastify(o);
  // Writes take JSON only: a cross-site HTML form can send text/plain without a CORS preflight.
  app.removeContentTypeParser('text/plain');
  const audit = new AuditLog(o.opsSql ?? sqliteSql(o.db));
  const extra = bootstrapAdmin(o.db, {
    users: o.users,
    adminToken: o.adminToken,
    now: deps.clock.now(),
    announce: o.announceAdminToken ?? printAdminToken,
  });
  // Expiry dates are calendar dates people set: judged on the wall clock, never the demo's fast one.
  const auth = new TokenAuth(deps.wallClock, o.users, extra);
  // The rules' judgement; without the engine at hand, what it announced on the bus.
  const announced = deps.buildingState ? undefined : new AnnouncedStates(deps.bus);
  const hub = new LiveHub(
    o.http.sse,
    deps.bus,
    deps.wallClock,
    o.log.child({ module: 'http-live' }),
    o.liveSource,
  );

  // Cookies are parsed only where one may authenticate (the live stream), not on every request.
  await app.register(fastifyCookie, { hook: false });
  registerErrorHandling(app, { audit, now: () => deps.clock.now() });
  registerSecurity(app, {
    auth,
    audit,
    clock: deps.clock,
    wallClock: deps.wallClock,
    rateLimitPerMin: o.http.rateLimitPerMin,
    loginAttemptsPerMin: o.http.loginAttemptsPerMin,
    requestSeconds: o.registry?.histogram(
      METRIC.httpRequestSeconds,
      'HTTP answers by route (its pattern, not the URL), method and status.',
      HTTP_BUCKETS_S,
      ['route', 'method', 'status'],
    ),
  });
  o.registry?.gauge(METRIC.liveClients, 'Open live streams (GET /api/live).', () => hub.stats().clients);

  const routeDeps: RouteDeps = {
    ...deps,
    buildingState: deps.buildingState ?? announced!,
    http: o.http,
    rules: o.rules,
    hub,
    audit,
  };
  const routes: RouteDef[] = [
    ...networkRoutes(routeDeps),
    ...ticketRoutes(routeDeps),
    ...(deps.households ? householdRoutes({ ...routeDeps, households: deps.households }) : []),
    ...(deps.households ? householdReportRoutes({ ...routeDeps, households: deps.households }) : []),
    ...opsRoutes(routeDeps),
  ];
  registerRoutes(app, routes, { audit, now: () => deps.clock.now() });
  await registerDocs(app, openApiDocument(routes, { title: 'heatwatch API', version: o.version ?? '0.1.0' }));

  const dashboardDir = o.dashboardDir ?? DASHBOARD_DIST;
  if (o.http.buildDashboard) await buildDashboard(dashboardDir);
  await registerDashboard(app, dashboardDir);

  app.addHook('onReady', async () => {
    hub.start();
    announced?.start();
  });
  // SSE responses never end on their own; close them first so the server can shut down.
  app.addHook('preClose', async () => {
    announced?.stop();
    hub.stop();
  });
  return { app, auth, hub, routes };
}
