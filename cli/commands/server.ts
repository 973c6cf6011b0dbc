import type { Command } from '../command.js';
import { parseCliArgs, positionalArgs } from '../cli-args.js';
import { SECOND } from '../../protocol/time.js';

/** How long a shutdown may take before the process exits anyway (a hung close must not hang forever). */
const SHUTDOWN_BACKSTOP_MS = 10 * SECOND;

export const serverCommand: Command = {
  name: 'server',
  usage: `Usage: harrow server [--host ADDR] [--port N] [--insecure] [--json]

Runs the controller. Configuration comes from the environment (flags override):
  DATABASE_URL             Postgres URL; unset: an embedded database in HARROW_DATA_DIR/db
  HARROW_DATA_DIR          local state directory (default .harrow)
  REDIS_URL                Redis carrying runs to agents (default redis://127.0.0.1:6379)
  HARROW_PREFIX            prefix of every Redis key (default harrow)
  HARROW_HOST, HARROW_PORT listen address (default 127.0.0.1:8080)
  HARROW_TOKEN             the bootstrap admin token (required off loopback); turns auth on
  HARROW_AUTH              token|off; unset: on off loopback, with HARROW_TOKEN or once a token exists
  HARROW_METRICS_TOKEN     a token that may read /metrics only
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
  --json         log JSON lines (HARROW_LOG_FORMAT=json); the start line is one of them`,
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
    const handle = await startController(config, { insecure: values.insecure });
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
          console.error(`harrow server: still shutting down after ${SHUTDOWN_BACKSTOP_MS / SECOND} s; exiting anyway`);
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
