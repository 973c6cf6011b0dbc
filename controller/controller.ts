/**
 * Composes the controller: database (Postgres or embedded PGlite), migrations, Redis link, run
 * queues, strategies, scheduler, report ingestion, reaper and the HTTP API. Used by
 * `harrow server`, `harrow demo` and the tests, which run it in-process.
 */
import { resolve } from 'node:path';
import type { FastifyInstance } from 'fastify';
import { openDatabase, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { listSweepHeads } from '../db/sweeps.js';
import { HarrowError } from '../protocol/errors.js';
import { redisKeys } from '../protocol/wire.js';
import { SECOND } from '../protocol/time.js';
import { configSecrets, describeConfig, type ControllerConfig } from './config.js';
import { SpecCache, type ControllerContext } from './context.js';
import { createLogger, type Logger } from './logger.js';
import { DefaultProposer, type Proposer } from './proposer.js';
import { RedisLink } from './redis-link.js';
import { poolModeProblem } from '../db/pooler.js';
import { RunQueue } from './run-queue.js';
import { Scheduler } from './scheduler.js';
import { Ingestor } from './ingestor.js';
import { Reaper } from './reaper.js';
import { buildApp } from './app.js';
import { Retention } from './retention.js';
import { registerDashboard } from './dashboard.js';
import { assertSafeListen } from './security/loopback.js';
import { loadHttpsFiles } from './security/https-files.js';
import { POSTGRES_TRUST_HINT, tlsProblem } from '../protocol/tls-problem.js';

export interface ControllerHandle {
  ctx: ControllerContext;
  app: FastifyInstance;
  /** Base URL of the HTTP API, e.g. http://127.0.0.1:8080 */
  url: string;
  ingestor: Ingestor;
  scheduler: Scheduler;
  reaper: Reaper;
  retention: Retention;
  close(): Promise<void>;
  /** While `close` runs: the part it is waiting for (for a shutdown that takes too long to say what holds it). */
  closing(): string | null;
}

export interface StartOptions {
  /** Listen even on a non-loopback address without a token. */
  insecure?: boolean;
  logger?: Logger;
  /** Do not open the HTTP port (background work only). */
  noHttp?: boolean;
  proposer?: Proposer;
  /**
   * On Postgres too, throw on a query through the shared handle from inside a transaction (the
   * embedded database always does): the test suites set it so they catch that mistake on both.
   */
  strictTransactions?: boolean;
}

/** Connects to the database, retrying while it is briefly unreachable. */
async function connectDatabase(config: ControllerConfig, log: Logger, strictTransactions: boolean): Promise<Database> {
  const deadline = Date.now() + 30 * SECOND;
  let delay = 250;
  for (;;) {
    try {
      const db = await openDatabase({
        databaseUrl: config.DATABASE_URL,
        dataDir: resolve(config.HARROW_DATA_DIR, 'db'),
        onError: (err) => log.warn({ err: err.message }, 'database connection lost; reconnecting on next use'),
        strictTransactions,
      });
      await migrate(db);
      return db;
    } catch (err) {
      const message = (err as Error).message;
      // Not an outage: retrying cannot help.
      const pooler = poolModeProblem(err);
      if (pooler) throw new HarrowError('DATABASE_UNAVAILABLE', `cannot use the database at ${describeConfig(config).DATABASE_URL as string}: ${pooler}`, { cause: err });
      const tls = tlsProblem(err, POSTGRES_TRUST_HINT) ?? sslSetupProblem(err);
      if (tls) throw new HarrowError('DATABASE_UNAVAILABLE', `cannot use the database at ${describeConfig(config).DATABASE_URL as string}: ${tls}`, { cause: err });
      if (Date.now() > deadline || !config.DATABASE_URL) {
        throw new HarrowError(
          'DATABASE_UNAVAILABLE',
          config.DATABASE_URL
            ? `cannot use the database at ${describeConfig(config).DATABASE_URL as string}: ${message}. Check DATABASE_URL and that Postgres is running.`
            : `cannot open the embedded database in ${resolve(config.HARROW_DATA_DIR, 'db')}: ${message}`,
          { cause: err },
        );
      }
      log.warn({ err: message, retryInMs: delay }, 'database not reachable yet; retrying');
      await new Promise((r) => setTimeout(r, delay));
      delay = Math.min(delay * 2, 5 * SECOND);
    }
  }
}

/** TLS set up wrong on either side of DATABASE_URL, which no retry mends. */
function sslSetupProblem(err: unknown): string | undefined {
  const e = err as NodeJS.ErrnoException;
  if (e.code === 'ENOENT' && e.syscall === 'open') return `cannot read ${e.path ?? 'a file'} (sslrootcert, sslcert or sslkey of DATABASE_URL): no such file`;
  if (/server does not support SSL/i.test(e.message ?? '')) return 'the server does not accept TLS connections; turn ssl on in postgresql.conf, or drop sslmode from DATABASE_URL';
  return undefined;
}

export async function startController(config: ControllerConfig, options: StartOptions = {}): Promise<ControllerHandle> {
  const log =
    options.logger ?? createLogger(config.HARROW_LOG_LEVEL, 'harrow-controller', { format: config.HARROW_LOG_FORMAT, secrets: configSecrets(config) });
  if (!options.noHttp) await assertSafeListen(config.HARROW_HOST, { token: Boolean(config.HARROW_TOKEN) || config.HARROW_AUTH === 'proxy' || config.HARROW_OIDC_ISSUER !== undefined, insecure: Boolean(options.insecure) });
  const https = options.noHttp ? undefined : loadHttpsFiles(config);
  for (const warning of https?.warnings ?? []) log.warn(warning);
  const db = await connectDatabase(config, log, options.strictTransactions ?? false);
  const keys = redisKeys(config.HARROW_PREFIX);
  const link = new RedisLink(config.REDIS_URL, keys, config.HARROW_PREFIX, log);
  const queue = new RunQueue(link.redis, keys);
  const proposer = options.proposer ?? new DefaultProposer();

  // The scheduler needs the context and the context pokes the scheduler: bind through a holder.
  const holder: { scheduler?: Scheduler } = {};
  const ctx: ControllerContext = {
    config,
    db,
    link,
    queue,
    proposer,
    keys,
    log,
    // A spec edited on any replica: the strategy built from the old one is dropped here too.
    specs: new SpecCache((sweepId) => proposer.forget(sweepId)),
    poke: (sweepId) => holder.scheduler?.poke(sweepId),
  };
  const scheduler = new Scheduler(ctx);
  holder.scheduler = scheduler;
  const ingestor = new Ingestor(ctx);
  const reaper = new Reaper(ctx, ingestor);
  ingestor.start();

  let ticking = false;
  const timer = setInterval(() => {
    if (ticking) return;
    ticking = true;
    void (async () => {
      try {
        await reaper.tick();
        for (const s of await listSweepHeads(db, { states: ['running'] })) scheduler.poke(s.id);
      } catch (err) {
        log.warn({ err: (err as Error).message }, 'periodic pass failed; retrying on the next tick');
      } finally {
        ticking = false;
      }
    })();
  }, config.HARROW_TICK_MS);

  const retention = new Retention(ctx);
  const app = await buildApp(ctx, ingestor, { ...(https ? { https: { cert: https.cert, key: https.key } } : {}), retention });
  retention.start();
  await registerDashboard(app);
  let url = '';
  if (!options.noHttp) {
    url = await app.listen({ host: config.HARROW_HOST, port: config.HARROW_PORT });
    // fastify may report [::1] or 0.0.0.0; hand out the address users asked for.
    const port = new URL(url).port;
    url = `${https ? 'https' : 'http'}://${config.HARROW_HOST.includes(':') ? `[${config.HARROW_HOST}]` : config.HARROW_HOST}:${port}`;
    log.info({ url, database: db.kind, redis: describeConfig(config).REDIS_URL, prefix: config.HARROW_PREFIX }, 'harrow controller listening');
  }

  let closed: Promise<void> | undefined;
  let closingStep: string | null = null;
  return {
    ctx,
    app,
    url,
    ingestor,
    scheduler,
    reaper,
    retention,
    closing: () => closingStep,
    close() {
      closed ??= (async () => {
        clearInterval(timer);
        await retention.stop().catch(() => undefined);
        // Every step runs even when one fails (a database that died must not keep Redis open and
        // the process alive); the first failure is reported.
        let failure: Error | undefined;
        const steps: Array<[string, () => Promise<unknown>]> = [
          ['the HTTP server (requests in flight)', () => app.close()],
          ['report ingestion (the batch in hand)', () => ingestor.stop()],
          ['the strategy worker', () => proposer.close()],
          ['the run queue (BullMQ)', () => queue.close()],
          ['the Redis connections', () => link.close()],
          ['the database', () => db.close()],
        ];
        for (const [name, step] of steps) {
          closingStep = name;
          try {
            await step();
          } catch (err) {
            failure ??= err instanceof Error ? err : new Error(`closing the controller failed: ${JSON.stringify(err)}`);
          }
        }
        closingStep = null;
        if (failure) throw failure;
      })();
      return closed;
    },
  };
}
