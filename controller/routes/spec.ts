/**
 * Editing a sweep's spec with lineage (controller/spec-edit.ts): PATCH /api/sweeps/:id/spec with
 * the new sweep file (a YAML body, or JSON `{config}`), and GET /api/sweeps/:id/spec/versions.
 */
import type { FastifyInstance } from 'fastify';
import { EditSpecBodySchema, EditSpecResponseSchema, IdParamsSchema, SpecVersionsResponseSchema } from '../../protocol/api.js';
import type { ControllerContext } from '../context.js';
import { audited } from '../audit.js';
import { identityOf } from '../security/auth.js';
import { editSweepSpec, listSpecVersions } from '../spec-edit.js';
import { doc, parse, responses } from './route-schema.js';

export function specRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  app.patch(
    '/api/sweeps/:id/spec',
    {
      schema: {
        summary: "Edit a sweep's spec: widen or narrow ranges, add a parameter (with default: for earlier runs) or drop one, change run_cap, early_terminate or metric.target; a new version with its time and author",
        params: doc(IdParamsSchema),
        body: doc(EditSpecBodySchema),
        response: responses(EditSpecResponseSchema),
      },
    },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      const config = typeof req.body === 'string' ? req.body : parse(EditSpecBodySchema, req.body, 'body').config;
      const author = identityOf(req)?.name ?? null;
      return audited(ctx, req, { action: 'edit', sweepId: id }, () => editSweepSpec(ctx, id, config, author), (r) => ({ details: { version: r.version.version, changes: r.version.changes } }));
    },
  );

  app.get(
    '/api/sweeps/:id/spec/versions',
    { schema: { summary: "Every version of a sweep's spec (time, author, changes) and how its runs fit the current one", params: doc(IdParamsSchema), response: responses(SpecVersionsResponseSchema) } },
    async (req) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      return listSpecVersions(ctx, id);
    },
  );
}
