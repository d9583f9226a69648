import type { FastifyError, FastifyInstance } from 'fastify';
import { HwError } from '../core/errors.ts';

/** Fastify's own 4xx codes mapped to ours, so clients see one vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'HW_ERR_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'HW_ERR_BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'HW_ERR_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'HW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'HW_ERR_BAD_REQUEST',
};

/**
 * One error shape for every error: `{ statusCode, code, message, field? }`. Details of 5xx errors
 * stay in the log (with the request id), never in the response.
 */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError | HwError, req, reply) => {
    if (err instanceof HwError) {
      if (err.statusCode >= 500) req.log.warn({ code: err.code }, err.message);
      return reply.code(err.statusCode).send({
        statusCode: err.statusCode,
        code: err.code,
        message: err.message,
        ...(err.field ? { field: err.field } : {}),
      });
    }
    const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
    if (status >= 500) {
      req.log.error({ err }, 'request failed');
      return reply.code(500).send({
        statusCode: 500,
        code: 'HW_ERR_INTERNAL',
        message: `Something went wrong on our side; the log has the details under request ${req.id}.`,
      });
    }
    return reply.code(status).send({
      statusCode: status,
      code: FASTIFY_CODES[err.code] ?? 'HW_ERR_BAD_REQUEST',
      message: err.message,
      ...(err.code?.startsWith('FST_ERR_CTP') ? { field: 'body' } : {}),
    });
  });
  app.setNotFoundHandler((req, reply) => {
    reply.code(404).send({
      statusCode: 404,
      code: 'HW_ERR_NOT_FOUND',
      message: `No route ${req.method} ${req.url.split('?')[0]}.`,
    });
  });
}
