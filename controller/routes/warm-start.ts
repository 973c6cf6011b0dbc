/**
 * POST /api/sweeps/:id/warm-start: import prior results into a sweep (controller/warm-start.ts):
 * JSON `{content, name?, priorRuns?}` (a W&B or MLflow export, CSV or JSON, as text),
 * `{from: SWEEP_ID, priorRuns?}`, or the CSV file itself as a text/csv body.
 */
import type { FastifyInstance } from 'fastify';
import { IdParamsSchema, WarmStartBodySchema, WarmStartResponseSchema } from '../../protocol/api.js';
import type { ControllerContext } from '../context.js';
import { audited } from '../audit.js';
import { mayReadSweep, requireRole } from '../security/auth.js';
import { sweepDetail } from '../sweep-service.js';
import { warmStartSweep } from '../warm-start.js';
import { doc, parse, responses } from './route-schema.js';

/** An export can be larger than the API's usual body limit. */
const IMPORT_BODY_LIMIT = 32 * 1024 * 1024;

export function warmStartRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  // A plugin (encapsulated) so that the text/csv parser serves this route only.
  void app.register((scoped, _opts, done) => {
    scoped.addContentTypeParser('text/csv', { parseAs: 'string', bodyLimit: IMPORT_BODY_LIMIT }, (_req, body, done) => done(null, body));
    scoped.post(
      '/api/sweeps/:id/warm-start',
      {
        bodyLimit: IMPORT_BODY_LIMIT,
        schema: {
          summary: "Import prior results (W&B or MLflow runs export, CSV or JSON; or another sweep's runs): observed by the strategy, never counted as the sweep's runs",
          params: doc(IdParamsSchema),
          body: doc(WarmStartBodySchema),
          response: responses(WarmStartResponseSchema, 201),
        },
      },
      async (req, reply) => {
        const { id } = parse(IdParamsSchema, req.params, 'params');
        const raw = typeof req.body === 'string' ? { content: req.body, name: 'body' } : req.body;
        const body = parse(WarmStartBodySchema, raw, 'body');
        const who = requireRole(req, 'member');
        const result = await audited(ctx, req, { action: 'warm-start', sweepId: id, details: { from: body.from ?? null, name: body.name ?? null } }, async () => ({
          // A source sweep outside the caller's projects reads as absent (the route's own sweep was checked by the auth hook).
          import: await warmStartSweep(ctx, id, body, mayReadSweep(who)),
          sweep: await sweepDetail(ctx, id),
        }));
        return reply.status(201).send(result);
      },
    );
    done();
  });
}
