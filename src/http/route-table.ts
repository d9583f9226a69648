import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { Errors, HwError } from '../core/errors.ts';
import { type AuditLog, auditRequest } from './audit.ts';
import type { Principal } from './auth.ts';
import type { Role } from './ports.ts';
import { errorSchema } from './schemas.ts';

export type Access = Role | 'public';

export interface RouteContext<P, Q, B> {
  params: P;
  query: Q;
  body: B;
  principal: Principal | undefined;
  req: FastifyRequest;
  reply: FastifyReply;
}

/** One row of the route table: everything fastify, the docs and the audit log need to know. */
export interface RouteDef<P = unknown, Q = unknown, B = unknown, R = unknown> {
  method: 'GET' | 'POST';
  url: string;
  access: Access;
  summary: string;
  tag: string;
  params?: z.ZodType<P>;
  query?: z.ZodType<Q>;
  body?: z.ZodType<B>;
  /** JSON response; absent for routes that write their own body (text, CSV, SSE). */
  response?: z.ZodType<R>;
  produces?: string;
  /** Audit action for writes, e.g. `ticket.approve`. Every POST has one. */
  audit?: string;
  /**
   * Lets `?token=` and the `hw_token` cookie authenticate: only /api/live, which EventSource opens
   * without headers and which writes nothing (a cookie rides along on cross-site requests too).
   */
  tokenInQuery?: boolean;
  handler(ctx: RouteContext<P, Q, B>): Promise<R> | R;
}

export const defineRoute = <P, Q, B, R>(def: RouteDef<P, Q, B, R>): RouteDef => def as unknown as RouteDef;

function parseOr400<T>(schema: z.ZodType<T> | undefined, value: unknown, where: string): T {
  if (!schema) return undefined as T;
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issue = r.error.issues[0]!;
  const path = issue.path.map(String).join('.');
  const field = path ? `${where}.${path}` : where;
  throw Errors.badRequest(`${field}: ${issue.message}`, field);
}

export interface RouteEnv {
  audit: AuditLog;
  now(): number;
}

/** Registers every route of the table with input parsing, output checking and auditing. */
export function registerRoutes(app: FastifyInstance, routes: RouteDef[], env: RouteEnv): void {
  for (const def of routes) {
    app.route({
      method: def.method,
      url: def.url,
      config: { access: def.access, tokenInQuery: def.tokenInQuery === true, audit: def.audit },
      handler: async (req, reply) => {
        const principal = req.principal;
        let target: string | undefined;
        try {
          const params = parseOr400(def.params, req.params, 'params');
          const query = parseOr400(def.query, req.query, 'query');
          const body = parseOr400(def.body, req.body ?? undefined, 'body');
          target = (params as { id?: string } | undefined)?.id;
          const out = await def.handler({ params, query, body, principal, req, reply });
          if (def.audit) await auditWrite(env, req, def.audit, target, 'ok', 200);
          if (!def.response) return out;
          const checked = def.response.safeParse(out);
          // An output that breaks the contract is our bug: a 500 with the detail in the log only.
          if (!checked.success) {
            req.log.error(
              { issues: checked.error.issues.slice(0, 5), url: def.url },
              'response broke its schema',
            );
            throw new Error('response schema mismatch');
          }
          return checked.data;
        } catch (err) {
          if (def.audit) {
            const status = err instanceof HwError ? err.statusCode : 500;
            // The request's own error goes on; an audit log that cannot take the row is logged.
            await auditWrite(
              env,
              req,
              def.audit,
              target,
              status < 500 ? 'refused' : 'failed',
              status,
              err,
            ).catch((auditErr: unknown) => req.log.error({ err: auditErr }, 'audit row not written'));
          }
          throw err;
        }
      },
    });
  }
}

function auditWrite(
  env: RouteEnv,
  req: FastifyRequest,
  action: string,
  target: string | undefined,
  outcome: 'ok' | 'refused' | 'failed',
  status: number,
  err?: unknown,
): Promise<void> {
  return auditRequest(env.audit, env.now(), req, {
    action,
    target,
    outcome,
    status,
    detail: err instanceof HwError ? `${err.code}: ${err.message}` : err ? 'internal error' : undefined,
  });
}

const toJson = (schema: z.ZodType, io: 'input' | 'output'): Record<string, unknown> => {
  const { $schema: _s, ...rest } = z.toJSONSchema(schema, {
    io,
    unrepresentable: 'any',
    reused: 'inline',
  }) as Record<string, unknown>;
  // A schema with a meta id (errorSchema) comes back as a $ref into its own $defs, which an OpenAPI
  // document cannot resolve from inside components: hand over the definition itself.
  const ref = typeof rest.$ref === 'string' ? /^#\/\$defs\/(.+)$/.exec(rest.$ref) : null;
  const defs = rest.$defs as Record<string, Record<string, unknown>> | undefined;
  return ref && defs?.[ref[1]!] ? defs[ref[1]!]! : rest;
};

/** OpenAPI 3.1 document generated from the route table (served at /api/docs). */
export function openApiDocument(routes: RouteDef[], info: { title: string; version: string }): unknown {
  const paths: Record<string, Record<string, unknown>> = {};
  const errorRef = { $ref: '#/components/schemas/Error' };
  const errResponse = (description: string) => ({
    description,
    content: { 'application/json': { schema: errorRef } },
  });
  for (const r of routes) {
    const path = r.url.replace(/:([A-Za-z]+)/g, '{$1}');
    const parameters: unknown[] = [];
    for (const [where, schema] of [
      ['path', r.params],
      ['query', r.query],
    ] as const) {
      if (!schema) continue;
      const js = toJson(schema, 'input') as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, s] of Object.entries(js.properties ?? {})) {
        parameters.push({
          name,
          in: where,
          required: where === 'path' || (js.required ?? []).includes(name),
          schema: s,
        });
      }
    }
    const responses: Record<string, unknown> = {
      200: r.response
        ? { description: 'OK', content: { 'application/json': { schema: toJson(r.response, 'output') } } }
        : { description: 'OK', content: { [r.produces ?? 'text/plain']: {} } },
      400: errResponse('Invalid input; `field` names the part at fault.'),
      429: errResponse('Rate limited.'),
    };
    if (r.access !== 'public') {
      responses[401] = errResponse('Missing, unknown or expired token.');
      responses[403] = errResponse(`Needs role ${r.access} or higher.`);
    }
    paths[path] ??= {};
    paths[path][r.method.toLowerCase()] = {
      summary: r.summary,
      tags: [r.tag],
      'x-heatwatch-role': r.access,
      ...(r.access === 'public' ? { security: [] } : {}),
      ...(parameters.length ? { parameters } : {}),
      ...(r.body
        ? {
            requestBody: {
              required: true,
              content: { 'application/json': { schema: toJson(r.body, 'input') } },
            },
          }
        : {}),
      responses,
    };
  }
  return {
    openapi: '3.1.0',
    info,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: { Error: toJson(errorSchema, 'output') },
    },
    security: [{ bearer: [] }],
    paths,
  };
}
