/** GET /api/sweeps/:id/report: the sweep as one self-contained HTML file (controller/sweep-report.ts). */
import type { FastifyInstance } from 'fastify';
import { IdParamsSchema } from '../../protocol/api.js';
import { collectReport, renderReport } from '../sweep-report.js';
import { doc, parse } from './route-schema.js';

export function reportRoutes(app: FastifyInstance): void {
  app.get(
    '/api/sweeps/:id/report',
    {
      schema: {
        summary: 'The sweep as one self-contained HTML file (data and charts inside; opens from disk with no server or network)',
        params: doc(IdParamsSchema),
        produces: ['text/html'],
      },
    },
    async (req, reply) => {
      const { id } = parse(IdParamsSchema, req.params, 'params');
      // The report reads the API as the caller would: with the caller's credentials.
      const auth = req.headers.authorization;
      const data = await collectReport(app, id, auth ? { authorization: auth } : {});
      const html = await renderReport(data);
      const file = `harrow-${id.replace(/[^A-Za-z0-9_.-]/g, '_')}.html`;
      return reply.type('text/html; charset=utf-8').header('content-disposition', `attachment; filename="${file}"`).header('cache-control', 'no-store').send(html);
    },
  );
}
