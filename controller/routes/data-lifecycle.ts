/** Deleting a sweep (`DELETE /api/sweeps/:id`) and retention (`GET|POST /api/retention`); admin only, changes audited. */
import type { FastifyInstance } from 'fastify';
import { IdParamsSchema } from '../../protocol/api.js';
import { DeleteSweepQuerySchema, DeletedSweepSchema, RetentionResponseSchema, type RetentionResponse } from '../../protocol/data-lifecycle-api.js';
import { HarrowError } from '../../protocol/errors.js';
import type { ExpiringSweep } from '../../db/retention.js';
import type { ControllerContext } from '../context.js';
import type { Ingestor } from '../ingestor.js';
import { audited } from '../audit.js';
import { authConfig } from '../security/auth.js';
import { deleteSweep } from '../sweep-deletion.js';
import type { Retention } from '../retention.js';
import { doc, parse, responses } from './route-schema.js';

function expiring(s: ExpiringSweep): RetentionResponse['sweeps'][number] {
  return { id: s.id, name: s.name, endedAt: new Date(s.ended_at).toISOString(), tails: s.tails, points: s.points };
}

export function dataLifecycleRoutes(app: FastifyInstance, ctx: ControllerContext, retention: Retention, ingestor: Ingestor | undefined): void {
  app.delete(
    '/api/sweeps/:id',
    {
      config: authConfig('admin'),
      schema: {
        summary: 'Delete a sweep and everything of it, in Postgres and Redis (admin). A running or paused sweep, or one with running runs, needs ?force=true: it is canceled and its runs killed first. The audit trail is kept',
        params: doc(IdParamsSchema),
        querystring: doc(DeleteSweepQuerySchema),
        response: responses(DeletedSweepSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const { force } = parse(DeleteSweepQuerySchema, req.query, 'query');
      return audited(ctx, req, { action: 'delete', sweepId: id, details: { force } }, () => deleteSweep(ctx, id, { force, ingestor }), (r) => ({
        details: { force, canceled: r.canceled, rows: r.rows, redisKeys: r.redisKeys, reports: r.reports },
      }));
    },
  );

  app.get(
    '/api/retention',
    { config: authConfig('admin'), schema: { summary: 'What retention (HARROW_RETENTION_DAYS) would remove now: metric points and output tails of sweeps that ended before the cutoff (admin)', response: responses(RetentionResponseSchema) } },
    async (): Promise<RetentionResponse> => {
      const days = retention.days;
      if (days === undefined) return { days: null, cutoff: null, applied: false, skipped: false, sweeps: [], tails: 0, points: 0 };
      const { cutoff, sweeps } = await retention.preview(days);
      return {
        days,
        cutoff: cutoff.toISOString(),
        applied: false,
        skipped: false,
        sweeps: sweeps.map(expiring),
        tails: sweeps.reduce((n, s) => n + s.tails, 0),
        points: sweeps.reduce((n, s) => n + s.points, 0),
      };
    },
  );

  app.post(
    '/api/retention',
    { config: authConfig('admin'), schema: { summary: 'Run a retention pass now instead of waiting for the hourly one (admin)', response: responses(RetentionResponseSchema) } },
    async (req): Promise<RetentionResponse> => {
      const days = retention.days;
      return audited(
        ctx,
        req,
        { action: 'retention', details: { days: days ?? null } },
        async () => {
          if (days === undefined) throw new HarrowError('INVALID_REQUEST', 'retention is off on this server: nothing expires. Set HARROW_RETENTION_DAYS (a number of days) on the controller to turn it on');
          const pass = await retention.run(days);
          return { days, cutoff: pass.cutoff.toISOString(), applied: true, skipped: pass.skipped, sweeps: pass.sweeps.map(expiring), tails: pass.tails, points: pass.points };
        },
        (r) => ({ details: { days, sweeps: r.sweeps.map((s) => s.id), tails: r.tails, points: r.points, skipped: r.skipped } }),
      );
    },
  );
}
