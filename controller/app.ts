/**
 * The HTTP API (fastify). Requests are validated with the zod schemas of `protocol/api.ts`; the
 * same schemas, converted to JSON Schema, document the API at /docs. Errors are always
 * `{ code, message, details? }`; 5xx messages never leak internals.
 */
import Fastify, { LogController, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import compress from '@fastify/compress';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import { z } from 'zod';
import {
  BestResponseSchema,
  CreateSweepBodySchema,
  IdParamsSchema,
  ListRunsQuerySchema,
  ListRunsResponseSchema,
  ListSweepsQuerySchema,
  MetricsQuerySchema,
  MetricsResponseSchema,
  RunDetailSchema,
  StopRunBodySchema,
  SweepDetailSchema,
  SweepSummarySchema,
  type BestResponse,
  type RunDetail,
} from '../protocol/api.js';
import { HarrowError, toHarrowError } from '../protocol/errors.js';
import { classifyDatabaseError } from '../db/database-errors.js';
import { SECOND } from '../protocol/time.js';
import { readSnapshot } from '../db/database.js';
import { getSweep, listSweeps, runCountsMany } from '../db/sweeps.js';
import { ControllerMetrics } from './metrics.js';
import { bestCurve, bestRun, bestRunsMany, getRun, listRuns, runEvents } from '../db/runs.js';
import { decodeRunCursor, encodeRunCursor, isCursorSort } from '../protocol/run-cursor.js';
import { errorLineIndices } from '../protocol/output-errors.js';
import { runCommandLine } from './run-command.js';
import type { Params } from '../strategies/types.js';
import { runHistory } from '../db/metrics.js';
import type { ControllerContext } from './context.js';
import { bestRunOf, runSummary, sweepSummary } from './serialize.js';
import { changeSweep, createSweep, stopRun, sweepDetail, type SweepAction } from './sweep-service.js';
import type { Ingestor } from './ingestor.js';
import { doc, parse, responses } from './routes/route-schema.js';
import { analysisRoutes } from './routes/analysis.js';
import { reportRoutes } from './routes/report.js';
import { steeringRoutes } from './routes/steering.js';
import { specRoutes } from './routes/spec.js';
import { warmStartRoutes } from './routes/warm-start.js';
import { agentProtocolRoutes } from './routes/agent-protocol.js';
import { browserGuard } from './security/browser-guard.js';
import { authGuard, type Authenticator } from './security/auth-plugin.js';
import { authConfig, identityOf, inScope, mayReadSweep, requireRole } from './security/auth.js';
import { audited } from './audit.js';
import { tokenRoutes } from './routes/tokens.js';
import { auditRoutes } from './routes/audit.js';
import { dataLifecycleRoutes } from './routes/data-lifecycle.js';
import { Retention } from './retention.js';
import { docsCsp, registerProtection } from './security/protection.js';

const YAML_TYPES = ['text/yaml', 'application/yaml', 'application/x-yaml', 'text/x-yaml'];
const SSE_KEEPALIVE_MS = 15 * SECOND;
const SSE_RETRY_MS = 1 * SECOND;
/**
 * A sweep file is at most MAX_SOURCE_CHARS (256 K) characters; as a JSON string with escapes it
 * can take a few bytes per character. Nothing else the API takes comes close.
 */
const BODY_LIMIT_BYTES = 2 * 1024 * 1024;
/** gzip level of API answers (see the compress registration for the measurement). */
const API_GZIP_LEVEL = 1;

/** Turns anything a request raised into the error the client sees: 4xx for its mistakes, 503 when a dependency is down. */
function errorOf(err: unknown, req: FastifyRequest): HarrowError {
  if (err instanceof HarrowError) return err;
  const fastifyErr = err as { statusCode?: number; code?: string; message?: string };
  switch (fastifyErr.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new HarrowError('PAYLOAD_TOO_LARGE', `the request body is larger than ${BODY_LIMIT_BYTES / 1024 / 1024} MB; a sweep file is a few KB (at most 256 KB)`);
    case 'FST_ERR_MAX_PARAM_LENGTH':
      return new HarrowError('INVALID_REQUEST', 'params.id: an id is at most 100 characters; `harrow status` lists the sweeps');
    case 'FST_ERR_BAD_URL':
      return new HarrowError('INVALID_REQUEST', `the URL ${JSON.stringify(req.url.slice(0, 200))} is not valid (bad percent-encoding)`);
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new HarrowError(
        'UNSUPPORTED_MEDIA_TYPE',
        `unsupported content type ${JSON.stringify(req.headers['content-type'] ?? '')}: send application/json, or a sweep file as text/yaml`,
      );
    default:
  }
  if (typeof fastifyErr.statusCode === 'number' && fastifyErr.statusCode >= 400 && fastifyErr.statusCode < 500) {
    return new HarrowError('INVALID_REQUEST', fastifyErr.message ?? 'bad request');
  }
  switch (classifyDatabaseError(err)) {
    case 'unavailable':
      return new HarrowError('DATABASE_UNAVAILABLE', 'the database is unreachable', { cause: err });
    case 'bad-value':
      // Boundary validation should have refused the value; this keeps a missed case a 400.
      return new HarrowError('INVALID_REQUEST', 'a value in the request cannot be stored (a NUL character, or a number out of range); check the request', { cause: err });
    default:
      return toHarrowError(err);
  }
}

export async function buildApp(
  ctx: ControllerContext,
  ingestor?: Ingestor,
  options: { https?: { cert: Buffer; key: Buffer }; retention?: Retention } = {},
): Promise<FastifyInstance> {
  const retention = options.retention ?? new Retention(ctx);
  const app = Fastify({
    ...(options.https ? { https: options.https } : {}),
    loggerInstance: ctx.log.child({ component: 'http' }),
    // Request logs would drown the run state changes that matter; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: BODY_LIMIT_BYTES,
    // On shutdown, cut connections still busy (a long importance fit, an agent's claim long-poll,
    // a keep-alive socket) instead of waiting for them: clients retry, and SIGTERM must end the
    // process within seconds (the dashboard and agents reconnect by themselves).
    forceCloseConnections: true,
    // Errors fastify raises before routing (an over-long or badly encoded path) get the same body.
    frameworkErrors: (err, req, reply) => {
      const harrow = errorOf(err, req);
      void (reply as FastifyReply).status(harrow.status).send(harrow.toBody());
    },
  }) as unknown as FastifyInstance;

  // Event streams never end by themselves, and closing the server waits for every open
  // connection: without this, SIGTERM would wait until the last dashboard tab closed.
  const streams = new Set<() => void>();
  let shuttingDown = false;
  app.addHook('preClose', (done) => {
    shuttingDown = true;
    for (const end of [...streams]) end();
    done();
  });

  // zod validates in the handlers; the route schemas only feed the OpenAPI document.
  app.setValidatorCompiler(() => () => true);
  app.setSerializerCompiler(() => (data) => JSON.stringify(data));

  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string' }, (_req, body, done) => done(null, body));

  app.setErrorHandler((err: unknown, req, reply) => {
    const harrow = errorOf(err, req);
    if (harrow.status === 503) req.log.warn({ err: (err as Error).message, code: harrow.code }, 'request failed: a dependency is down');
    else if (harrow.status >= 500) req.log.error({ err }, 'request failed');
    void reply.status(harrow.status).send(harrow.toBody());
  });
  const metrics = new ControllerMetrics(ctx, ingestor);
  app.addHook('onResponse', (req, reply, done) => {
    metrics.observeRequest(req.method, req.routeOptions.url, reply.statusCode, reply.elapsedTime);
    done();
  });

  app.setNotFoundHandler((req, reply) => {
    void reply.status(404).send(new HarrowError('ROUTE_NOT_FOUND', `no route ${req.method} ${req.url}; the API is documented at /docs`).toBody());
  });

  await app.register(browserGuard, { listenHost: ctx.config.HARROW_HOST, extraHosts: ctx.config.HARROW_ALLOWED_HOSTS });
  // Who is asking and whether their role allows it (security/auth-plugin.ts), before any handler.
  const authOut: { auth?: Authenticator } = {};
  await app.register(authGuard, { ctx, out: authOut });
  const auth = authOut.auth!;
  // Security headers and rate limits (security/protection.ts): after auth, before every route.
  await registerProtection(app, { rateLimit: ctx.config.HARROW_RATE_LIMIT });
  // The OpenAPI document marks the routes that need a token when authentication is on (all of
  // /api and /metrics), so that /docs' "Authorize" sends it there (a scheme alone is sent on none).
  // Added before the routes and before @fastify/swagger reads them.
  app.addHook('onRoute', (route) => {
    const role = (route.config as { role?: string } | undefined)?.role;
    if (role === 'open' || !(route.url.startsWith('/api/') || route.url === '/metrics' || role !== undefined)) return;
    route.schema = { ...(route.schema ?? {}), security: [{ bearer: [] }] };
  });

  // API answers (a runs page of 1,000 runs is ~1 MB of JSON, a report a few MB) go out compressed
  // to clients that take it; the dashboard's files are pre-compressed and the event stream is
  // hijacked, so neither passes through here. gzip only: brotli's default quality costs too much
  // CPU per request for what it saves over gzip on JSON. Level 1: gzip's default (6) took 5.0 ms
  // for the 116 KB answer of 30 learning curves, level 1 2.5 ms for 10% more bytes (38.6 KB
  // against 35.1 KB), on a local network the better trade for answers made afresh each request.
  await app.register(compress, { global: true, threshold: 1024, encodings: ['gzip', 'deflate'], zlibOptions: { level: API_GZIP_LEVEL } });
  await app.register(swagger, {
    openapi: {
      info: { title: 'Harrow API', version: '1', description: 'Hyperparameter sweeps: create sweeps, follow runs, read the best-so-far.' },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', description: 'HARROW_TOKEN or a named token (`harrow token create`)' } } },
    },
  });
  // Swagger UI has inline scripts: it sends its own policy with their hashes (see docsCsp).
  await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true, transformStaticCSP: docsCsp });

  app.get('/healthz', { config: authConfig('open'), schema: { summary: 'Liveness of the database and Redis' } }, async (_req, reply) => {
    const [db, redis] = await Promise.all([
      ctx.db.query('SELECT 1').then(
        () => true,
        () => false,
      ),
      ctx.link.ping(),
    ]);
    return reply.status(db && redis ? 200 : 503).send({ ok: db && redis, database: db ? 'up' : 'down', redis: redis ? 'up' : 'down' });
  });

  app.get('/metrics', { config: authConfig('metrics'), schema: { summary: 'Prometheus metrics: process, event-loop lag, request latency, runs (HARROW_METRICS_TOKEN or a reader token when auth is on)' } }, async (_req, reply) => {
    return reply.type(metrics.contentType).send(await metrics.render());
  });

  app.post(
    '/api/sweeps',
    { schema: { summary: 'Create a sweep from a YAML body, or JSON { config, name? }', body: doc(CreateSweepBodySchema), response: responses(SweepDetailSchema, 201) } },
    async (req, reply) => {
      let config: string | Record<string, unknown>;
      let name: string | undefined;
      let warmStartFile: { name: string; content: string } | undefined;
      if (typeof req.body === 'string') config = req.body;
      else {
        const body = parse(CreateSweepBodySchema, req.body, 'body');
        config = body.config;
        name = body.name;
        warmStartFile = body.warmStartFile;
      }
      const who = requireRole(req, 'member');
      const created = await audited(ctx, req, { action: 'create', details: { name: name ?? null } }, async () => {
        const detail = await createSweep(ctx, config, name, {
          createdBy: who.name,
          ...(warmStartFile ? { warmStartFile } : {}),
          mayRead: mayReadSweep(who),
          authorize: (spec) => {
            if (!inScope(who, spec)) throw new HarrowError('FORBIDDEN', `the token '${who.name}' may create sweeps only in the projects ${who.projects!.join(', ')}; set \`project:\` (and \`entity:\`) in the sweep file accordingly`);
          },
        });
        return detail;
      }, (detail) => ({ sweepId: detail.id }));
      return reply.status(201).send(created);
    },
  );

  app.get('/api/sweeps', { schema: { summary: 'List sweeps', querystring: doc(ListSweepsQuerySchema), response: responses(z.object({ sweeps: z.array(SweepSummarySchema) })) } }, async (req) => {
    const q = parse(ListSweepsQuerySchema, req.query, 'query');
    return readSnapshot(ctx.db, async (tx) => {
      const who = identityOf(req);
      const rows = (await listSweeps(tx, q.state ? { states: q.state } : {})).filter((r) => who === undefined || mayReadSweep(who)(r.spec));
      const counts = await runCountsMany(tx, rows.map((r) => r.id));
      const bests = await bestRunsMany(tx, rows.filter((r) => r.goal).map((r) => ({ id: r.id, goal: r.goal! })));
      return { sweeps: rows.map((r) => sweepSummary(r, counts.get(r.id)!, bests.get(r.id))) };
    });
  });

  app.get('/api/sweeps/:id', { schema: { summary: 'A sweep with run counts and its best run', params: doc(IdParamsSchema), response: responses(SweepDetailSchema) } }, async (req) => {
    const { id } = parse(IdParamsSchema, req.params, 'params');
    return sweepDetail(ctx, id);
  });

  for (const action of ['pause', 'resume', 'stop', 'cancel'] as const satisfies readonly SweepAction[]) {
    app.post(
      `/api/sweeps/:id/${action}`,
      { schema: { summary: `${action[0]!.toUpperCase()}${action.slice(1)} a sweep`, params: doc(IdParamsSchema), response: responses(SweepDetailSchema) } },
      async (req) => {
        const { id } = parse(IdParamsSchema, req.params, 'params');
        return audited(ctx, req, { action, sweepId: id }, () => changeSweep(ctx, id, action));
      },
    );
  }

  analysisRoutes(app, ctx);
  reportRoutes(app);
  steeringRoutes(app, ctx);
  warmStartRoutes(app, ctx);
  specRoutes(app, ctx);
  agentProtocolRoutes(app, ctx);
  tokenRoutes(app, ctx, auth);
  auditRoutes(app, ctx);
  dataLifecycleRoutes(app, ctx, retention, ingestor);

  async function sweepOr404(id: string) {
    const sweep = await getSweep(ctx.db, id);
    if (!sweep) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);
    return sweep;
  }

  app.get(
    '/api/sweeps/:id/runs',
    { schema: { summary: "A sweep's runs: filter by state, sort by metric, paginate", params: doc(IdParamsSchema), querystring: doc(ListRunsQuerySchema), response: responses(ListRunsResponseSchema) } },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const q = parse(ListRunsQuerySchema, req.query, 'query');
      let after: number | undefined;
      if (q.cursor !== undefined) {
        const cursor = decodeRunCursor(q.cursor);
        if (!cursor) throw new HarrowError('INVALID_REQUEST', 'cursor: not a cursor this server made; use the nextCursor of the previous page, or offset');
        if (cursor.sort !== q.sort) throw new HarrowError('INVALID_REQUEST', `cursor: it continues sort=${cursor.sort}, not sort=${q.sort}; ask with sort=${cursor.sort}`);
        if (q.offset > 0) throw new HarrowError('INVALID_REQUEST', 'give either cursor or offset, not both');
        after = cursor.after;
      }
      const sweep = await sweepOr404(id);
      const { runs, total } = await listRuns(ctx.db, {
        sweepId: id,
        ...(q.state ? { states: q.state } : {}),
        sort: q.sort,
        goal: sweep.goal,
        limit: q.limit,
        offset: q.offset,
        ...(after !== undefined ? { after } : {}),
      });
      const last = runs.at(-1);
      const nextCursor = last && runs.length === q.limit && isCursorSort(q.sort) ? encodeRunCursor({ sort: q.sort, after: last.number }) : null;
      return { runs: runs.map(runSummary), total, nextCursor };
    },
  );

  app.get('/api/sweeps/:id/best', { schema: { summary: 'Best run and best-so-far curve over the runs that count for the best (finished and stopped)', params: doc(IdParamsSchema), response: responses(BestResponseSchema) } }, async (req): Promise<BestResponse> => {
    const { id } = parse(IdParamsSchema, req.params, 'params');
    const sweep = await sweepOr404(id);
    if (!sweep.goal) return { best: null, counted: 0, curve: [] };
    const { best, curve } = await readSnapshot(ctx.db, async (tx) => ({ best: await bestRun(tx, id, sweep.goal!), curve: await bestCurve(tx, id) }));
    return {
      best: bestRunOf(best),
      counted: curve.counted,
      curve: curve.points.map((p) => ({ index: p.index, runId: p.runId, number: p.number, value: p.value, at: new Date(p.at).toISOString() })),
    };
  });

  app.get('/api/sweeps/:id/events', { config: authConfig(undefined, { ticket: true }), schema: { summary: 'Server-sent events: sweep, run, best (a browser passes ?ticket= from POST /api/stream-tickets)' } }, async (req, reply) => {
    const { id } = parse(IdParamsSchema, req.params, 'params');
    await sweepOr404(id);
    reply.hijack();
    const res = reply.raw;
    let closed = false;
    const subscription: { off?: () => Promise<void> } = {};
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), SSE_KEEPALIVE_MS);
    const finish = () => {
      if (closed) return;
      closed = true;
      streams.delete(end);
      clearInterval(keepalive);
      void subscription.off?.().catch(() => undefined);
    };
    // Ended by the server (shutting down): the client reconnects, to this replica once restarted or to another.
    const end = () => {
      finish();
      res.end();
    };
    req.raw.on('close', finish);
    if (shuttingDown) {
      end();
      return;
    }
    streams.add(end);
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive', 'x-accel-buffering': 'no' });
    // How soon a dropped client tries again (EventSource waits about 3 s by default): a restart
    // takes about a second, and the dashboard says it is reconnecting meanwhile.
    res.write(`retry: ${SSE_RETRY_MS}\n\n`);
    const send = (event: string, data: unknown) => {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    };
    // Subscribe before taking the snapshot, holding events back until it is sent: a change
    // made in between is delivered after the snapshot instead of being lost.
    const held: Array<[string, unknown]> = [];
    let live = false;
    try {
      const off = await ctx.link.subscribe(id, (event, data) => (live ? send(event, data) : held.push([event, data])));
      subscription.off = off;
      if (closed) {
        await off();
        return;
      }
      const { spec: _spec, config: _config, ...summary } = await sweepDetail(ctx, id);
      send('sweep', summary);
      for (const [event, data] of held) send(event, data);
      live = true;
    } catch (err) {
      // Redis or the database away: a stream that would never carry an event is worse than one
      // the client reopens (after `retry`) once they are back.
      req.log.warn({ sweepId: id, err: (err as Error).message }, 'event stream could not start; ending it so the client retries');
      end();
    }
  });

  app.get('/api/runs/:id', { schema: { summary: 'A run with its events and metric history', params: doc(IdParamsSchema), response: responses(RunDetailSchema) } }, async (req): Promise<RunDetail> => {
    const { id } = parse(IdParamsSchema, req.params, 'params');
    return runDetail(ctx, id);
  });

  app.get(
    '/api/runs/:id/metrics',
    { schema: { summary: "A run's metric points", params: doc(IdParamsSchema), querystring: doc(MetricsQuerySchema), response: responses(MetricsResponseSchema) } },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const q = parse(MetricsQuerySchema, req.query, 'query');
      const run = await getRun(ctx.db, id);
      if (!run) throw new HarrowError('RUN_NOT_FOUND', `run '${id}' not found`);
      const attempt = q.attempt ?? Math.max(run.attempt, 1);
      const names = q.name ? q.name.split(',').map((s) => s.trim()).filter(Boolean) : undefined;
      const points = await runHistory(ctx.db, id, attempt, names);
      return { runId: id, attempt, points: points.map((p) => ({ step: p.step, name: p.name, value: finiteOrNull(p.value), t: new Date(p.time).toISOString() })) };
    },
  );

  app.post('/api/runs/:id/stop', { schema: { summary: 'Stop one run (a queued run is canceled)', params: doc(IdParamsSchema), body: doc(StopRunBodySchema), response: responses(RunDetailSchema) } }, async (req) => {
    const { id } = parse(IdParamsSchema, req.params, 'params');
    const body = parse(StopRunBodySchema, req.body ?? {}, 'body');
    const sweepId = (await getRun(ctx.db, id))?.sweep_id ?? null;
    await audited(ctx, req, { action: 'stop-run', sweepId, target: id, details: body.reason === undefined ? undefined : { reason: body.reason } }, () => stopRun(ctx, id, body.reason));
    return runDetail(ctx, id);
  });

  return app;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

async function runDetail(ctx: ControllerContext, id: string): Promise<RunDetail> {
  const run = await getRun(ctx.db, id);
  if (!run) throw new HarrowError('RUN_NOT_FOUND', `run '${id}' not found; \`harrow runs SWEEP\` lists a sweep's runs`);
  const [events, history] = await Promise.all([runEvents(ctx.db, id), run.attempt > 0 ? runHistory(ctx.db, id, run.attempt) : Promise.resolve([])]);
  const metrics: RunDetail['metrics'] = {};
  for (const p of history) (metrics[p.name] ??= []).push({ step: p.step, value: finiteOrNull(p.value), t: new Date(p.time).toISOString() });
  const spec = await ctx.specs.get(ctx.db, run.sweep_id);
  return {
    ...runSummary(run),
    outputTail: run.output_tail,
    errorLines: errorLineIndices(run.output_tail),
    command: runCommandLine(spec, run.params as Params),
    proposal: run.proposal,
    heartbeatAt: run.heartbeat_at ? new Date(run.heartbeat_at).toISOString() : null,
    events: events.map((e) => ({ attempt: e.attempt, from: e.from_state, to: e.to_state, reason: e.reason, details: e.details, at: new Date(e.at).toISOString() })),
    metrics,
  };
}

export type { FastifyReply, FastifyRequest };
