/**
 * Routes that explain a sweep: GET /api/sweeps/:id/importance and /curves. The forest is grown in a worker
 * thread (hundreds of ms at 10,000 runs would stall heartbeats and the API) and its answer cached
 * per sweep until a run enters the analyzed set or its value changes.
 */
import type { FastifyInstance } from 'fastify';
import { CurvesQuerySchema, CurvesResponseSchema, IdParamsSchema, ImportanceResponseSchema, type CurvesResponse, type ImportanceResponse } from '../../protocol/api.js';
import { HarrowError } from '../../protocol/errors.js';
import { analyzedRuns, analyzedRunsVersion, runCurves } from '../../db/analysis.js';
import { getSweep } from '../../db/sweeps.js';
import type { SweepSpec, Params } from '../../strategies/types.js';
import type { ControllerContext } from '../context.js';
import { StrategyWorker } from '../strategy-worker.js';
import { doc, parse, responses } from './route-schema.js';

/** Sweeps whose answer is kept; the least recently asked is dropped first. */
const CACHED_SWEEPS = 64;

export function analysisRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  let worker: StrategyWorker | undefined;
  const cache = new Map<string, { version: string; answer: ImportanceResponse }>();
  async function sweepOr404(id: string) {
    const sweep = await getSweep(ctx.db, id);
    if (!sweep) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);
    return sweep;
  }
  app.addHook('onClose', async () => {
    await worker?.close();
  });

  app.get(
    '/api/sweeps/:id/importance',
    {
      schema: {
        summary: 'Which parameters matter: permutation importance on a random forest, with 90% intervals, and rank correlations',
        params: doc(IdParamsSchema),
        response: responses(ImportanceResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const sweep = await sweepOr404(id);
      const method = 'permutation importance on a random forest (OOB), 90% bootstrap intervals over trees';
      if (!sweep.metric_name) {
        return { parameters: [], metric: null, runs: 0, method, note: 'the sweep has no metric' } satisfies ImportanceResponse;
      }
      const version = await analyzedRunsVersion(ctx.db, id);
      const hit = cache.get(id);
      if (hit && hit.version === version) {
        cache.delete(id);
        cache.set(id, hit);
        return hit.answer;
      }
      const runs = (await analyzedRuns(ctx.db, id)).map((r) => ({ params: r.params as Params, value: r.value }));
      worker ??= new StrategyWorker();
      const result = await worker.importance(id, sweep.spec as SweepSpec, sweep.seed, runs);
      const answer: ImportanceResponse = { ...result, metric: sweep.metric_name };
      cache.set(id, { version, answer });
      if (cache.size > CACHED_SWEEPS) cache.delete(cache.keys().next().value!);
      return answer;
    },
  );

  app.get(
    '/api/sweeps/:id/curves',
    {
      schema: {
        summary: "One metric's curve for many runs of a sweep (current attempts), in one request",
        params: doc(IdParamsSchema),
        querystring: doc(CurvesQuerySchema),
        response: responses(CurvesResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const q = parse(CurvesQuerySchema, req.query, 'query');
      await sweepOr404(id);
      const curves = await runCurves(ctx.db, id, q.runs, q.name, q.points);
      return { name: q.name, curves } satisfies CurvesResponse;
    },
  );
}
