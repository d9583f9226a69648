import fastifySwagger from '@fastify/swagger';
import fastifySwaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SECURITY_HEADERS } from './security-headers.ts';

/**
 * Swagger UI sets one inline style (React), which heatwatch's CSP refuses; on the docs pages only,
 * inline styles are allowed. Scripts stay 'self' only, so the relaxation cannot run code.
 */
const DOCS_CSP = SECURITY_HEADERS['content-security-policy']!.replace(
  "style-src 'self'",
  "style-src 'self' 'unsafe-inline'",
);

/**
 * The API's documentation: Swagger UI at /api/docs and the OpenAPI document at /api/docs/json (and
 * /yaml), both readable without a token so a new engineer can find their way in; "Authorize" takes
 * a bearer token for "try it out". The document stays generated from the route table's zod schemas
 * (route-table.ts `openApiDocument`); @fastify/swagger serves it as given (static mode) because the
 * routes validate with zod in their handler, not with fastify's JSON-schema validation that the
 * plugin's dynamic mode reads.
 */
export async function registerDocs(app: FastifyInstance, document: unknown): Promise<void> {
  await app.register(fastifySwagger, {
    mode: 'static',
    specification: { document: document as never },
  });
  await app.register(fastifySwaggerUi, {
    routePrefix: '/api/docs',
    uiConfig: {
      docExpansion: 'list',
      deepLinking: true,
      persistAuthorization: false,
      tryItOutEnabled: false,
    },
    uiHooks: {
      preHandler: async (_req: FastifyRequest, reply: FastifyReply) => {
        reply.header('content-security-policy', DOCS_CSP);
      },
    },
  });
}
