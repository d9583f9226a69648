/**
 * Coded errors: each has a stable code an operator can search for, an HTTP status, and a message a
 * person can act on. Shaped after fastify's lib/errors.js.
 */
export class HwError extends Error {
  constructor(
    readonly code: string,
    readonly statusCode: number,
    message: string,
    readonly field?: string,
  ) {
    super(message);
    this.name = 'HwError';
  }
}

type Factory = (message?: string, field?: string) => HwError;

const define =
  (code: string, statusCode: number, fallback: string): Factory =>
  (message, field) =>
    new HwError(code, statusCode, message ?? fallback, field);

export const Errors = {
  badRequest: define('HW_ERR_BAD_REQUEST', 400, 'The request is not valid.'),
  unauthorized: define('HW_ERR_UNAUTHORIZED', 401, 'A valid bearer token is required.'),
  forbidden: define('HW_ERR_FORBIDDEN', 403, 'Your role does not allow this action.'),
  notFound: define('HW_ERR_NOT_FOUND', 404, 'No such resource.'),
  conflict: define('HW_ERR_CONFLICT', 409, 'The resource is not in a state that allows this action.'),
  tooMany: define('HW_ERR_RATE_LIMITED', 429, 'Too many requests; slow down and retry.'),
  storeDown: define(
    'HW_ERR_STORE_UNAVAILABLE',
    503,
    'The reading store is not reachable; try again shortly.',
  ),
  config: define('HW_ERR_CONFIG', 400, 'The configuration is not valid.'),
} as const;
