import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../core/clock.ts';
import { Errors } from '../core/errors.ts';
import type { Histogram } from '../core/metrics.ts';
import type { AuditLog } from './audit.ts';
import { extractToken, type Principal, type TokenAuth, WindowCounter } from './auth.ts';
import { ROLE_RANK } from './ports.ts';
import type { Access } from './route-table.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
  interface FastifyContextConfig {
    access?: Access;
    tokenInQuery?: boolean;
  }
}

export interface SecurityOptions {
  auth: TokenAuth;
  audit: AuditLog;
  clock: Clock;
  wallClock: Clock;
  rateLimitPerMin: number;
  loginAttemptsPerMin: number;
  requestSeconds?: Histogram;
}

const MINUTE_MS = 60_000;

/**
 * Rate limit, login throttling, bearer auth and role checks, as plain hooks. Order matters: the rate
 * limit runs first so a flood costs one map lookup; a client address with too many failed logins is
 * refused before its token is even hashed.
 */
export function registerSecurity(app: FastifyInstance, o: SecurityOptions): void {
  const requests = new WindowCounter(o.wallClock, MINUTE_MS);
  const failures = new WindowCounter(o.wallClock, MINUTE_MS);

  const retryAfter = (reply: FastifyReply, c: WindowCounter) =>
    reply.header('retry-after', String(Math.max(1, Math.ceil(c.retryAfterMs() / 1000))));

  const failLogin = (req: FastifyRequest, reason: string, detail?: string) => {
    failures.hit(req.ip);
    return o.audit.record({
      ts: o.clock.now(),
      actor: 'anonymous',
      ip: req.ip,
      method: req.method,
      path: req.url.split('?')[0]!.slice(0, 512),
      action: 'login.failed',
      outcome: 'refused',
      status: 401,
      detail: detail ?? reason,
    });
  };

  app.addHook('onRequest', async (req, reply) => {
    for (const [k, v] of Object.entries(SECURITY_HEADERS)) reply.header(k, v);
    if (requests.hit(req.ip) > o.rateLimitPerMin) {
      retryAfter(reply, requests);
      throw Errors.tooMany();
    }
    const access = req.routeOptions.config?.access ?? 'public';
    if (access === 'public') return;
    const token = extractToken(req.headers, req.query, req.routeOptions.config?.tokenInQuery === true, (h) =>
      app.parseCookie(h),
    );
    if (token === undefined) throw Errors.unauthorized();
    if (failures.count(req.ip) >= o.loginAttemptsPerMin) {
      retryAfter(reply, failures);
      throw Errors.tooMany('Too many failed logins from this address; wait a minute and retry.');
    }
    const r = token === '' ? ({ ok: false, reason: 'unknown' } as const) : o.auth.check(token);
    if (!r.ok) {
      await failLogin(req, r.reason === 'expired' ? 'token expired' : 'unknown token');
      throw r.reason === 'expired'
        ? Errors.unauthorized('The token has expired; ask an engineer for a new one.')
        : Errors.unauthorized('The token is not valid.');
    }
    req.principal = r.principal;
    if (ROLE_RANK[r.principal.role] < ROLE_RANK[access]) {
      throw Errors.forbidden(`Your role (${r.principal.role}) does not allow this; it needs ${access}.`);
    }
  });

  app.addHook('onResponse', async (req, reply) => {
    // Labelled by the route pattern: URLs would make one series per id (and per attacker's probe).
    o.requestSeconds?.observe(reply.elapsedTime / 1000, {
      route: req.routeOptions.url ?? 'unmatched',
      method: req.method,
      status: String(reply.statusCode),
    });
    req.log.info(
      {
        method: req.method,
        path: req.url.split('?')[0],
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime),
        user: req.principal?.name,
      },
      'request',
    );
  });

  app.addHook('onSend', async (req, reply, payload) => {
    if (req.url.startsWith('/api/') || req.url.startsWith('/metrics'))
      reply.header('cache-control', 'no-store');
    return payload;
  });
}
