/**
 * What a failed query means for the caller, told from the error alone: the database cannot be
 * reached (answer 503 and let the client retry), or a value the caller passed cannot be stored
 * (a 4xx: the request is wrong, not the server). Postgres (`pg`) and PGlite raise the same SQLSTATE
 * codes for the same statements; only their connection failures differ.
 */

/** SQLSTATE classes and codes of a server that is away, restarting or full. */
const UNAVAILABLE_SQLSTATES = /^(?:08|57P0[1-3]$|53300$|53400$)/;
/** Socket and DNS failures of `pg`'s connection. */
const UNAVAILABLE_SYSCALLS = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** `pg` reports a lost or timed-out connection with a plain Error and one of these messages. */
const UNAVAILABLE_MESSAGES = /Connection terminated|timeout exceeded when trying to connect|not queryable|Connection ended|PGlite is closed/i;
/**
 * Data exceptions of values that came from the request: 22021 NUL in text, 22P05 NUL or a lone
 * surrogate in jsonb, 22003 a number out of range of its column, 22P02 text that is not the type.
 */
const BAD_VALUE_SQLSTATES = new Set(['22021', '22P05', '22003', '22P02']);

export type DatabaseFailure = 'unavailable' | 'bad-value';

export function classifyDatabaseError(err: unknown): DatabaseFailure | undefined {
  if (!(err instanceof Error)) return undefined;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (BAD_VALUE_SQLSTATES.has(code)) return 'bad-value';
    if (UNAVAILABLE_SQLSTATES.test(code) || UNAVAILABLE_SYSCALLS.has(code)) return 'unavailable';
  }
  // PGlite runs Postgres in WebAssembly: a crashed instance throws the runtime's own error.
  if (err.name === 'RuntimeError' || UNAVAILABLE_MESSAGES.test(err.message)) return 'unavailable';
  // An aggregate of connection attempts (IPv4 and IPv6 both refused) carries its causes.
  if (err instanceof AggregateError && err.errors.some((e) => classifyDatabaseError(e) === 'unavailable')) return 'unavailable';
  return undefined;
}
