/**
 * Steering routes (`controller/steering.ts`): POST /api/sweeps/:id/extend, /rerun and /enqueue,
 * and POST /api/runs/:id/clone. Each answers with the sweep after the change and the runs created.
 */
import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import {
  CloneRunBodySchema,
  EnqueueBodySchema,
  ExtendSweepBodySchema,
  IdParamsSchema,
  RerunSweepBodySchema,
  SteerResponseSchema,
  SweepShareBodySchema,
  SweepShareResponseSchema,
} from '../../protocol/api.js';
import { changeSweepShare } from '../sweep-share.js';
import { HarrowError } from '../../protocol/errors.js';
import type { Params } from '../../strategies/types.js';
import type { ControllerContext } from '../context.js';
import { cloneRun, enqueueParams, extendSweep, rerunSweep } from '../steering.js';
import { audited } from '../audit.js';
import { doc, parse, responses } from './route-schema.js';

export function steeringRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  app.post(
    '/api/sweeps/:id/extend',
    {
      schema: {
        summary: 'Raise run_cap and let the sweep continue (a finished or canceled sweep runs again); a grid is never extended beyond its cells',
        params: doc(IdParamsSchema),
        body: doc(ExtendSweepBodySchema),
        response: responses(SteerResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const body = parse(ExtendSweepBodySchema, req.body, 'body');
      return audited(ctx, req, { action: 'extend', sweepId: id, details: { runCap: body.runCap } }, () => extendSweep(ctx, id, body.runCap));
    },
  );

  app.post(
    '/api/sweeps/:id/share',
    {
      schema: {
        summary: 'Set the priority and slot cap (maxSlots, null for none) of a sweep on agents serving several sweeps; applies live',
        params: doc(IdParamsSchema),
        body: doc(SweepShareBodySchema),
        response: responses(SweepShareResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const body = parse(SweepShareBodySchema, req.body, 'body');
      return audited(ctx, req, { action: 'share', sweepId: id, details: body }, () => changeSweepShare(ctx, id, body));
    },
  );

  app.post(
    '/api/sweeps/:id/rerun',
    {
      schema: {
        summary: 'Rerun ended runs (failed and crashed by default) as new runs linked to them (rerunOf); run_cap rises by their number',
        params: doc(IdParamsSchema),
        body: doc(RerunSweepBodySchema),
        response: responses(SteerResponseSchema, 201),
      },
    },
    async (req, reply) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const body = parse(RerunSweepBodySchema, req.body ?? {}, 'body');
      return reply.status(201).send(await audited(ctx, req, { action: 'rerun', sweepId: id, details: { states: body.states } }, () => rerunSweep(ctx, id, body.states)));
    },
  );

  app.post(
    '/api/sweeps/:id/enqueue',
    {
      schema: {
        summary: 'Queue explicit configurations ahead of the strategy: JSON {params: {...} | [{...}, ...]}, or a YAML body (a mapping or a list)',
        params: doc(IdParamsSchema),
        body: doc(EnqueueBodySchema),
        response: responses(SteerResponseSchema, 201),
      },
    },
    async (req, reply) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      let raw: unknown = req.body;
      if (typeof raw === 'string') {
        try {
          raw = { params: parseYaml(raw) as unknown };
        } catch (err) {
          throw new HarrowError('INVALID_REQUEST', `the body is not valid YAML: ${(err as Error).message}`, { cause: err });
        }
      }
      const body = parse(EnqueueBodySchema, raw, 'body');
      return reply.status(201).send(await audited(ctx, req, { action: 'enqueue', sweepId: id }, () => enqueueParams(ctx, id, body.params as Params | Params[])));
    },
  );

  app.post(
    '/api/runs/:id/clone',
    {
      schema: {
        summary: "A new run with this run's parameters, the given ones replaced ({params: {lr: 0.01, 'optimizer.beta': 0.9}})",
        params: doc(IdParamsSchema),
        body: doc(CloneRunBodySchema),
        response: responses(SteerResponseSchema, 201),
      },
    },
    async (req, reply) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const body = parse(CloneRunBodySchema, req.body ?? {}, 'body');
      return reply.status(201).send(await audited(ctx, req, { action: 'clone', target: id, details: { params: body.params } }, () => cloneRun(ctx, id, body.params)));
    },
  );
}
