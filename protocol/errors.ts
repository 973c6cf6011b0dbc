/**
 * The one error class of Harrow's API, CLI, controller and agent. Codes form a closed set and each
 * maps to an HTTP status (fastify's own error list is the model). Messages are written for the
 * user: say what is wrong and what to do next. 5xx messages never carry internals.
 *
 * `strategies/` does not import this (it imports nothing of ours); its `SweepConfigError` is
 * mapped to `INVALID_SWEEP_CONFIG` at the boundary (see `toHarrowError`).
 */
export const ERROR_CODES = {
  INVALID_SWEEP_CONFIG: 400,
  INVALID_REQUEST: 400,
  INVALID_CONFIG: 400,
  UNAUTHORIZED: 401,
  CROSS_SITE_REQUEST: 403,
  FORBIDDEN: 403,
  TOKEN_NOT_FOUND: 404,
  TOKEN_EXISTS: 409,
  SWEEP_NOT_FOUND: 404,
  RUN_NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  INVALID_STATE_TRANSITION: 409,
  STALE_ATTEMPT: 409,
  HOST_NOT_ALLOWED: 421,
  RATE_LIMITED: 429,
  SERVICE_UNAVAILABLE: 503,
  REDIS_UNAVAILABLE: 503,
  DATABASE_UNAVAILABLE: 503,
  IDENTITY_PROVIDER_UNAVAILABLE: 503,
  INTERNAL: 500,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

export interface ErrorIssue {
  path: string;
  message: string;
}

export interface ErrorBody {
  code: ErrorCode;
  message: string;
  details?: unknown;
}

export class HarrowError extends Error {
  override readonly name = 'HarrowError';
  readonly code: ErrorCode;
  readonly status: number;
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, options: { details?: unknown; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.status = ERROR_CODES[code];
    this.details = options.details;
  }

  toBody(): ErrorBody {
    const body: ErrorBody = { code: this.code, message: this.status >= 500 ? publicMessage(this) : this.message };
    if (this.details !== undefined && this.status < 500) body.details = this.details;
    return body;
  }
}

function publicMessage(err: HarrowError): string {
  switch (err.code) {
    case 'DATABASE_UNAVAILABLE':
      return 'The database is unreachable; the server keeps retrying. Try again in a few seconds.';
    case 'REDIS_UNAVAILABLE':
      return 'Redis is unreachable; the server keeps retrying. Try again in a few seconds.';
    case 'SERVICE_UNAVAILABLE':
      return 'The server is not ready yet. Try again in a few seconds.';
    case 'IDENTITY_PROVIDER_UNAVAILABLE':
      return "The identity provider's keys could not be fetched to check this OIDC token (the server log says why). Try again, or use a named token.";
    default:
      return 'Internal server error. The server log has the details.';
  }
}

/** Duck-typed so that `strategies/` can throw its own error class without importing this file. */
interface IssueCarrier {
  name: string;
  message: string;
  issues: ErrorIssue[];
}

function isIssueCarrier(err: unknown): err is IssueCarrier {
  return (
    err instanceof Error &&
    Array.isArray((err as Partial<IssueCarrier>).issues) &&
    (err as Partial<IssueCarrier>).issues!.every(
      (i) => typeof (i as Partial<ErrorIssue>)?.path === 'string' && typeof (i as Partial<ErrorIssue>)?.message === 'string',
    )
  );
}

/** Wraps anything thrown into a HarrowError; sweep-config errors keep their issue list. */
export function toHarrowError(err: unknown): HarrowError {
  if (err instanceof HarrowError) return err;
  if (isIssueCarrier(err)) {
    return new HarrowError('INVALID_SWEEP_CONFIG', err.message, { details: { issues: err.issues }, cause: err });
  }
  return new HarrowError('INTERNAL', err instanceof Error ? err.message : String(err), { cause: err });
}
