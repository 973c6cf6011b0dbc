/**
 * What a failed TLS connection means, in one phrase, for every client Harrow opens (the CLI and
 * agents to the controller, the controller and agents to Redis, the controller to Postgres). A
 * certificate that cannot be verified is a configuration mistake, not an outage: callers report it
 * at once with this phrase instead of retrying, and say where the trusted CA is configured.
 */

/** OpenSSL's verification failures: the chain does not end at a CA this process trusts. */
const UNTRUSTED = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_SIGNATURE_FAILURE',
  'CERT_UNTRUSTED',
  'CERT_REJECTED',
  'INVALID_CA',
]);
const EXPIRED = new Set(['CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID']);

interface ErrorLike {
  code?: unknown;
  message?: unknown;
  reason?: unknown;
  cause?: unknown;
  errors?: unknown[];
}

/** The errors of `err`'s cause chain (undici's `fetch failed` wraps the socket's error). */
function chain(err: unknown): ErrorLike[] {
  const out: ErrorLike[] = [];
  let cur: unknown = err;
  for (let depth = 0; depth < 5 && cur !== null && typeof cur === 'object'; depth++) {
    const e = cur as ErrorLike;
    out.push(e);
    cur = e.cause ?? e.errors?.[0];
  }
  return out;
}

/**
 * A phrase naming what is wrong with the TLS connection that failed with `err`, ending with
 * `trustHint` (how to give this client the right CA), or undefined when `err` is not a TLS problem.
 */
export function tlsProblem(err: unknown, trustHint: string): string | undefined {
  for (const e of chain(err)) {
    const code = typeof e.code === 'string' ? e.code : '';
    const message = typeof e.message === 'string' ? e.message : '';
    if (UNTRUSTED.has(code)) return `the server's TLS certificate is not signed by a CA this process trusts (${code}); ${trustHint}`;
    if (EXPIRED.has(code)) return `the server's TLS certificate is not valid now (${code}); renew it`;
    if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
      const reason = typeof e.reason === 'string' ? e.reason : message;
      return `the server's TLS certificate is not issued for the host name in the URL (${reason}); connect with a name the certificate lists, or reissue it with that name`;
    }
    if (code === 'ERR_SSL_WRONG_VERSION_NUMBER' || /wrong version number|packet length too long/i.test(message)) {
      return 'the server does not speak TLS on that port; use the plain scheme (http://, redis://) or the port it serves TLS on';
    }
  }
  return undefined;
}

/**
 * undici's error for a server that hung up before answering: what a plain http:// request to an
 * HTTPS port gets (the TLS server drops a connection that does not start with a handshake).
 */
export function closedBeforeAnswer(err: unknown): boolean {
  return chain(err).some((e) => e.code === 'UND_ERR_SOCKET');
}

export const HTTP_TRUST_HINT = "set NODE_EXTRA_CA_CERTS to the PEM file of the CA that signed the server's certificate (Node reads it when the process starts)";

export const REDIS_TRUST_HINT = "add ?ca=/path/ca.pem to REDIS_URL: the PEM file of the CA that signed the Redis server's certificate";
export const POSTGRES_TRUST_HINT = "add sslrootcert=/path/ca.pem to DATABASE_URL: the PEM file of the CA that signed the Postgres server's certificate";
