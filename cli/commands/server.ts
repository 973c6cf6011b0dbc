import { lookup } from 'node:dns/promises';
import { connectRedis } from '../../protocol/redis-connection.js';
import type { Command } from '../command.js';
import { parseCliArgs, positionalArgs } from '../cli-args.js';
import { HarrowError } from '../../protocol/errors.js';
import { SECOND } from '../../protocol/time.js';
import { REDIS_TRUST_HINT, tlsProblem } from '../../protocol/tls-problem.js';
import type { ControllerConfig } from '../../controller/config.js';

/** How long a shutdown may take before the process exits anyway (a hung close must not hang forever). */
const SHUTDOWN_BACKSTOP_MS = 10 * SECOND;
/** How long startup waits for Redis before giving up (the database gets 30 s, see controller.ts). */
const REDIS_STARTUP_MS = 15 * SECOND;

export const serverCommand: Command = {
  name: 'server',
  usage: `Usage: harrow server [--host ADDR] [--port N] [--insecure] [--json]

Runs the controller. Configuration comes from the environment (flags override):
  DATABASE_URL             Postgres URL; unset: an embedded database in HARROW_DATA_DIR/db
  HARROW_DATA_DIR          local state directory (default .harrow)
  REDIS_URL                Redis carrying runs to agents (default redis://127.0.0.1:6379)
                           or Sentinels: redis+sentinel://s1:26379,s2:26379/mymaster;
                           TLS: rediss://:PASSWORD@host:6380?ca=/path/ca.pem
  HARROW_PREFIX            prefix of every Redis key (default harrow)
  HARROW_HOST, HARROW_PORT listen address (default 127.0.0.1:8080)
  HARROW_TOKEN             the bootstrap admin token (required off loopback); turns auth on
  HARROW_AUTH              token|proxy|off; unset: on off loopback, with HARROW_TOKEN or once a token exists
  HARROW_TRUSTED_PROXIES   proxy mode: the single-sign-on proxy's IPs/CIDRs (identity headers only from them)
  HARROW_PROXY_USER_HEADER, _EMAIL_HEADER, _GROUPS_HEADER  (default X-Forwarded-User, -Email, -Groups)
  HARROW_SSO_ROLES         groups to roles for proxy and OIDC users: ml-admins=admin,ml-team=member,*=viewer
  HARROW_OIDC_ISSUER, HARROW_OIDC_AUDIENCE  accept OIDC bearer tokens (JWTs) from this issuer, for this client
  HARROW_OIDC_JWKS_URL, HARROW_OIDC_GROUPS_CLAIM  the issuer's keys (default: discovery), the groups claim
  HARROW_METRICS_TOKEN     a token that may read /metrics only
  HARROW_TLS_CERT          PEM certificate (and chain): serve HTTPS only, with HARROW_TLS_KEY
  HARROW_TLS_KEY           PEM private key of HARROW_TLS_CERT
  HARROW_ALLOWED_HOSTS     host names clients use besides localhost and the listen address (a,b:port)
  HARROW_CRASH_TIMEOUT_MS  no heartbeat for this long marks a run crashed (default 30000)
  HARROW_KILL_GRACE_MS     SIGTERM→SIGKILL grace when a run is stopped (default 30000)
  HARROW_LOOKAHEAD         queued runs beyond idle agent slots (default 1)
  HARROW_LOG_LEVEL         fatal|error|warn|info|debug|trace|silent (default info)
  HARROW_LOG_FORMAT        auto (readable on a terminal, JSON otherwise), json or pretty

Options:
  --host ADDR    listen address (overrides HARROW_HOST)
  --port N       listen port (overrides HARROW_PORT)
  --insecure     allow a non-loopback address without HARROW_TOKEN (trusted networks only)
  --json         log JSON lines (HARROW_LOG_FORMAT=json); the start line is one of them

A server that cannot start (the port is taken, the host does not resolve, the database or Redis
cannot be reached) prints one line saying why and exits with status 1.`,
  async run(argv) {
    const { values, positionals } = parseCliArgs(argv, {
      host: { type: 'string' },
      port: { type: 'string' },
      insecure: { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
    });
    positionalArgs(positionals, []);
    // Loaded here, not at the top: `harrow <any verb> --help` must not load the server.
    const { loadControllerConfig } = await import('../../controller/config.js');
    const { startController } = await import('../../controller/controller.js');
    const config = loadControllerConfig({
      ...process.env,
      ...(values.host ? { HARROW_HOST: values.host } : {}),
      ...(values.port ? { HARROW_PORT: values.port } : {}),
      ...(values.json ? { HARROW_LOG_FORMAT: 'json' } : {}),
    });
    let handle;
    try {
      await checkHost(config);
      await checkRedis(config);
      handle = await startController(config, { insecure: values.insecure });
    } catch (err) {
      console.error(`harrow server: ${redact(startupMessage(err, config), config)}`);
      // What started before the failure (database pool, Redis connections, timers) would keep the
      // process alive, serving nothing; a server that cannot serve must end.
      process.exit(1);
    }
    if (values.json) {
      handle.ctx.log.info({ url: handle.url, docs: `${handle.url}/docs`, dashboard: `${handle.url}/` }, 'harrow server ready');
    } else {
      console.error(`harrow server listening on ${handle.url} (API docs at ${handle.url}/docs, dashboard at ${handle.url}/)`);
    }
    return new Promise<number>((resolve) => {
      let stopping = false;
      const stop = () => {
        if (stopping) process.exit(130);
        stopping = true;
        console.error('harrow server: shutting down (Ctrl-C again to force)');
        // Open event streams are ended and in-flight batches committed within a second or two;
        // should something still hold on, a supervisor's SIGTERM must not turn into a hang.
        const backstop = setTimeout(() => {
          const waiting = handle.closing();
          const holding = waiting ? `waiting for ${waiting}` : `closed, but the process is held by: ${process.getActiveResourcesInfo().join(', ')}`;
          console.error(`harrow server: still shutting down after ${SHUTDOWN_BACKSTOP_MS / SECOND} s (${holding}); exiting anyway`);
          process.exit(1);
        }, SHUTDOWN_BACKSTOP_MS);
        backstop.unref();
        handle.close().then(
          () => resolve(0),
          (err: unknown) => {
            console.error(`harrow server: shutdown failed: ${(err as Error).message}`);
            resolve(1);
          },
        );
      };
      process.on('SIGINT', stop);
      process.on('SIGTERM', stop);
    });
  },
};

/** A listen host that does not resolve fails before anything is opened. */
async function checkHost(config: ControllerConfig): Promise<void> {
  try {
    await lookup(config.HARROW_HOST);
  } catch (err) {
    throw new HarrowError('INVALID_CONFIG', `cannot listen on ${config.HARROW_HOST}: the host name does not resolve (${(err as NodeJS.ErrnoException).code ?? 'lookup failed'}); set HARROW_HOST or --host to an address of this machine, such as 127.0.0.1`, { cause: err });
  }
}

/**
 * Redis carries every run to the agents: a server that starts without it would accept sweeps that
 * never run. Waits a little (Redis may be starting beside us), then gives up with the reason.
 */
async function checkRedis(config: ControllerConfig): Promise<void> {
  const deadline = Date.now() + REDIS_STARTUP_MS;
  let last: Error | undefined;
  // The socket's own error (ECONNREFUSED, ENOTFOUND, NOAUTH) says more than the failed command's.
  let cause: Error | undefined;
  const redis = connectRedis(config.REDIS_URL, {
    lazyConnect: true,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    connectTimeout: 2 * SECOND,
    retryStrategy: () => null,
  });
  redis.on('error', (err: Error) => {
    cause = err;
  });
  try {
    for (let delay = 250; ; delay = Math.min(delay * 2, 2 * SECOND)) {
      try {
        if (redis.status !== 'ready') await redis.connect();
        await redis.ping();
        return;
      } catch (err) {
        last = err as Error;
      }
      // A certificate that does not verify now will not later: say so at once.
      const tls = tlsProblem(cause ?? last, REDIS_TRUST_HINT);
      if (tls) throw new HarrowError('INVALID_CONFIG', `cannot use Redis at ${config.REDIS_URL}: ${tls}`, { cause: cause ?? last });
      if (Date.now() + delay > deadline) break;
      await new Promise((r) => setTimeout(r, delay));
      redis.disconnect();
    }
  } finally {
    redis.disconnect();
  }
  throw new HarrowError('REDIS_UNAVAILABLE', `cannot reach Redis at ${config.REDIS_URL} after ${REDIS_STARTUP_MS / SECOND} s: ${(cause ?? last)?.message.replace(/\.$/, '') ?? 'no answer'}. Check REDIS_URL and that Redis is running.`);
}

/** One line that says what failed and what to do; a listen error is told in the user's words. */
function startupMessage(err: unknown, config: ControllerConfig): string {
  const code = (err as NodeJS.ErrnoException | undefined)?.code;
  const where = `${config.HARROW_HOST}:${config.HARROW_PORT}`;
  switch (code) {
    case 'EADDRINUSE':
      return `cannot listen on ${where}: the port is already in use (another harrow server?); stop it, or choose another port with HARROW_PORT or --port`;
    case 'EADDRNOTAVAIL':
      return `cannot listen on ${where}: ${config.HARROW_HOST} is not an address of this machine; set HARROW_HOST or --host to one of its addresses, such as 127.0.0.1`;
    case 'EACCES':
      return `cannot listen on ${where}: permission denied (ports below 1024 need privileges); choose a port above 1024 with HARROW_PORT or --port`;
    case 'ENOTFOUND':
    case 'EAI_AGAIN':
      return `cannot listen on ${config.HARROW_HOST}: the host name does not resolve; set HARROW_HOST or --host to an address of this machine`;
    default:
  }
  const message = err instanceof Error ? err.message : String(err);
  return message.replace(/\s*\n\s*/g, ' ');
}

/** Passwords of the configured URLs never reach the terminal, whatever message carried them. */
function redact(message: string, config: ControllerConfig): string {
  let out = message;
  for (const url of [config.DATABASE_URL, config.REDIS_URL]) {
    if (!url) continue;
    let password = '';
    try {
      password = new URL(url).password;
    } catch {
      continue;
    }
    if (password === '') continue;
    for (const form of new Set([password, decodeURIComponent(password)])) out = out.split(form).join('***');
  }
  return out;
}
