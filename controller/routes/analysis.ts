/**
 * Routes that explain a sweep: GET /api/sweeps/:id/importance, /recommendation and /curves. The
 * forest and the recommendation's GP are fit in a worker thread (hundreds of ms at 10,000 runs
 * would stall heartbeats and the API) and their answers cached per sweep until a run enters the
 * analyzed set or its value changes.
 */
import type { FastifyInstance } from 'fastify';
import {
  CurvesQuerySchema,
  CurvesResponseSchema,
  IdParamsSchema,
  ImportanceResponseSchema,
  RecommendationResponseSchema,
  type CurvesResponse,
  type ImportanceResponse,
  type RecommendationResponse,
} from '../../protocol/api.js';
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
  const recommendations = new Map<string, { version: string; answer: RecommendationResponse }>();
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
    '/api/sweeps/:id/recommendation',
    {
      schema: {
        summary: "The configuration to use after a noisy sweep: the finished run with the best GP posterior mean, beside the best observed run",
        params: doc(IdParamsSchema),
        response: responses(RecommendationResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const sweep = await sweepOr404(id);
      const method = 'the finished run with the best GP posterior mean (in-sample recommendation); the best observed value is biased by its noise';
      if (!sweep.metric_name) {
        return { metric: null, runs: 0, bestObserved: null, recommended: null, source: 'best-observed', noise: null, method, warnings: [], note: 'the sweep has no metric' } satisfies RecommendationResponse;
      }
      const version = await analyzedRunsVersion(ctx.db, id);
      const hit = recommendations.get(id);
      if (hit && hit.version === version) return hit.answer;
      // Stopped runs' values are partial-curve values, not comparable with finished ones.
      const runs = (await analyzedRuns(ctx.db, id)).filter((r) => r.state === 'finished');
      const spec = sweep.spec as SweepSpec;
      worker ??= new StrategyWorker();
      const r = await worker.recommend(
        id,
        spec,
        runs.map((run) => ({ params: run.params as Params, state: 'finished', value: run.value })),
      );
      const named = <T extends { index: number; params: Params; value: number }>(x: T) => {
        const { index, ...rest } = x;
        return { ...rest, runId: runs[index]!.id, number: runs[index]!.number };
      };
      const answer: RecommendationResponse = {
        metric: sweep.metric_name,
        runs: runs.length,
        bestObserved: r.bestObserved ? named(r.bestObserved) : null,
        recommended: r.recommended ? named(r.recommended) : null,
        source: r.source,
        noise: r.noise,
        method,
        warnings: r.warnings,
        ...(runs.length === 0 ? { note: 'no run has finished with a value yet' } : {}),
      };
      recommendations.set(id, { version, answer });
      if (recommendations.size > CACHED_SWEEPS) recommendations.delete(recommendations.keys().next().value!);
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
