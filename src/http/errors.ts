import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HwError } from '../core/errors.ts';
import { type AuditLog, auditRequest } from './audit.ts';
import { SECURITY_HEADERS } from './security-headers.ts';

/** Fastify's own 4xx codes mapped to ours, so clients see one vocabulary. */
const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_INVALID_JSON_BODY: 'HW_ERR_BAD_REQUEST',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'HW_ERR_BAD_REQUEST',
  FST_ERR_CTP_BODY_TOO_LARGE: 'HW_ERR_TOO_LARGE',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'HW_ERR_UNSUPPORTED_MEDIA_TYPE',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'HW_ERR_BAD_REQUEST',
  FST_ERR_BAD_URL: 'HW_ERR_BAD_REQUEST',
  FST_ERR_MAX_PARAM_LENGTH: 'HW_ERR_URI_TOO_LONG',
};

export interface ErrorBody {
  statusCode: number;
  code: string;
  message: string;
  field?: string;
}

const internal = (req: FastifyRequest): ErrorBody => ({
  statusCode: 500,
  code: 'HW_ERR_INTERNAL',
  message: `Something went wrong on our side; the log has the details under request ${req.id}.`,
});

/** Our error shape for any error; 5xx details stay in the log (with the request id), never in the body. */
function toBody(err: FastifyError | HwError, req: FastifyRequest): ErrorBody {
  if (err instanceof HwError) {
    return {
      statusCode: err.statusCode,
      code: err.code,
      message: err.message,
      ...(err.field ? { field: err.field } : {}),
    };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 ? err.statusCode : 500;
  if (status >= 500) return internal(req);
  return {
    statusCode: status,
    code: FASTIFY_CODES[err.code] ?? 'HW_ERR_BAD_REQUEST',
    // Fastify's URL errors quote the whole (possibly huge) path back; ours do not.
    message: err.code === 'FST_ERR_MAX_PARAM_LENGTH' ? 'A path segment is too long.' : err.message,
    ...(err.code?.startsWith('FST_ERR_CTP') ? { field: 'body' } : {}),
  };
}

const sendError = (reply: FastifyReply, body: ErrorBody) =>
  reply.headers(SECURITY_HEADERS).code(body.statusCode).type('application/json; charset=utf-8').send(body);

declare module 'fastify' {
  interface FastifyRequest {
    /** Set once the request has its audit row, so the error path does not write a second one. */
    audited?: boolean;
  }
  interface FastifyContextConfig {
    /** Audit action of a write route, e.g. `ticket.action`. */
    audit?: string;
  }
}

/** Refusals worth a row on write routes; 429 is left out so a flood cannot grow the audit log. */
const AUDITED_REFUSAL = (status: number) => status >= 400 && status !== 429;

/**
 * One error shape for every error: `{ statusCode, code, message, field? }`, with the security
 * headers. Refused writes (401, 403, 413, 415, …) and every 5xx leave an audit row.
 */
export function registerErrorHandling(app: FastifyInstance, env: { audit: AuditLog; now(): number }): void {
  app.setErrorHandler(async (err: FastifyError | HwError, req, reply) => {
    const body = toBody(err, req);
    if (body.statusCode >= 500) {
      if (err instanceof HwError) req.log.warn({ code: err.code }, err.message);
      else req.log.error({ err }, 'request failed');
    }
    const action = req.routeOptions.config?.audit;
    if (!req.audited && ((action && AUDITED_REFUSAL(body.statusCode)) || body.statusCode >= 500)) {
      // The error answer goes out either way; an audit log that cannot take the row is logged.
      await auditRequest(env.audit, env.now(), req, {
        action: action ?? 'request.failed',
        outcome: body.statusCode >= 500 ? 'failed' : 'refused',
        status: body.statusCode,
        detail: `${body.code}: ${body.message}`,
      }).catch((auditErr: unknown) => req.log.error({ err: auditErr }, 'audit row not written'));
    }
    return sendError(reply, body);
  });
  app.setNotFoundHandler((req, reply) =>
    sendError(reply, {
      statusCode: 404,
      code: 'HW_ERR_NOT_FOUND',
      message: `No route ${req.method} ${req.url.split('?')[0]!.slice(0, 200)}.`,
    }),
  );
}

/**
 * Fastify's `frameworkErrors`: errors the router meets before any route or hook runs (a bad
 * percent-encoding, a path segment over the length limit).
 */
export function frameworkErrors(err: FastifyError, req: FastifyRequest, reply: FastifyReply): void {
  // No route ran, so any request body is still unread on the connection: close it rather than let
  // a keep-alive client send its next request into those bytes.
  reply.header('connection', 'close');
  sendError(reply, toBody(err, req));
}

const CLIENT_ERRORS: Record<string, Omit<ErrorBody, 'field'>> = {
  ERR_HTTP_REQUEST_TIMEOUT: {
    statusCode: 408,
    code: 'HW_ERR_TIMEOUT',
    message: 'The request did not arrive in time; the connection is closed.',
  },
  HPE_HEADER_OVERFLOW: {
    statusCode: 431,
    code: 'HW_ERR_HEADERS_TOO_LARGE',
    message: 'The request headers are too large.',
  },
};

/**
 * Fastify's `clientErrorHandler`: what Node's HTTP parser refuses (bad Content-Length, oversized
 * headers, not HTTP at all) and requests that time out. Node hands over the bare socket, so the
 * answer is written by hand, in the error shape with the security headers, and the connection is
 * closed (the stream cannot be trusted after a framing error).
 */
export function clientErrorHandler(
  err: Error & { code?: string; rawPacket?: unknown },
  socket: Socket,
): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  const known = CLIENT_ERRORS[err.code ?? ''];
  const body: ErrorBody = known ?? {
    statusCode: 400,
    code: 'HW_ERR_BAD_REQUEST',
    message: `The request is not valid HTTP (${err.code ?? 'parse error'}).`,
  };
  // A response already under way cannot take a second status line.
  const started = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage?.headersSent;
  if (socket.writable && !started) {
    const json = JSON.stringify(body);
    const lines = [
      `HTTP/1.1 ${body.statusCode} ${statusText(body.statusCode)}`,
      'content-type: application/json; charset=utf-8',
      `content-length: ${Buffer.byteLength(json)}`,
      'connection: close',
      'cache-control: no-store',
      ...Object.entries(SECURITY_HEADERS).map(([k, v]) => `${k}: ${v}`),
    ];
    // The parser may have read the method before it gave up: a HEAD answer carries no body.
    const isHead =
      Buffer.isBuffer(err.rawPacket) && err.rawPacket.subarray(0, 5).toString('latin1') === 'HEAD ';
    socket.end(`${lines.join('\r\n')}\r\n\r\n${isHead ? '' : json}`);
  }
  socket.destroySoon();
}

const statusText = (s: number) =>
  ({ 400: 'Bad Request', 408: 'Request Timeout', 431: 'Request Header Fields Too Large' })[s] ?? 'Error';
