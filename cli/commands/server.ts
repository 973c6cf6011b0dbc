import { parseArgs } from 'node:util';
import type { Command } from '../command.js';
import { UsageError } from '../command.js';
import { loadControllerConfig } from '../../controller/config.js';
import { startController } from '../../controller/controller.js';
import { SECOND } from '../../protocol/time.js';

/** How long a shutdown may take before the process exits anyway (a hung close must not hang forever). */
const SHUTDOWN_BACKSTOP_MS = 10 * SECOND;

export const serverCommand: Command = {
  name: 'server',
  summary: 'Run the controller: HTTP API, scheduler, report ingestion, crash detection',
  usage: `Usage: harrow server [--host ADDR] [--port N] [--insecure]

Runs the controller. Configuration comes from the environment (flags override):
  DATABASE_URL             Postgres URL; unset: an embedded database in HARROW_DATA_DIR/db
  HARROW_DATA_DIR          local state directory (default .harrow)
  REDIS_URL                Redis carrying runs to agents (default redis://127.0.0.1:6379)
  HARROW_PREFIX            prefix of every Redis key (default harrow)
  HARROW_HOST, HARROW_PORT listen address (default 127.0.0.1:8080)
  HARROW_TOKEN             bearer token required by mutating routes (required off loopback)
  HARROW_ALLOWED_HOSTS     host names clients use besides localhost and the listen address (a,b:port)
  HARROW_CRASH_TIMEOUT_MS  no heartbeat for this long marks a run crashed (default 30000)
  HARROW_KILL_GRACE_MS     SIGTERM→SIGKILL grace when a run is stopped (default 30000)
  HARROW_LOOKAHEAD         queued runs beyond idle agent slots (default 1)
  LOG_LEVEL                fatal|error|warn|info|debug|trace|silent (default info)

Options:
  --host ADDR    listen address (overrides HARROW_HOST)
  --port N       listen port (overrides HARROW_PORT)
  --insecure     allow a non-loopback address without HARROW_TOKEN (trusted networks only)`,
  async run(argv) {
    let values;
    try {
      ({ values } = parseArgs({
        args: argv,
        options: { host: { type: 'string' }, port: { type: 'string' }, insecure: { type: 'boolean', default: false } },
        allowPositionals: false,
      }));
    } catch (err) {
      throw new UsageError((err as Error).message);
    }
    const config = loadControllerConfig({
      ...process.env,
      ...(values.host ? { HARROW_HOST: values.host } : {}),
      ...(values.port ? { HARROW_PORT: values.port } : {}),
    });
    const handle = await startController(config, { insecure: values.insecure });
    console.error(`harrow server listening on ${handle.url} (API docs at ${handle.url}/docs, dashboard at ${handle.url}/)`);
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
