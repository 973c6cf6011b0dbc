/** The audit trail, read side: `GET /api/audit`. Admins see every entry; others the entries of sweeps they see. */
import type { FastifyInstance } from 'fastify';
import { AuditQuerySchema, AuditResponseSchema, type AuditEntry } from '../../protocol/auth-api.js';
import { listAudit, type AuditRow } from '../../db/audit.js';
import { getSweep, listSweeps } from '../../db/sweeps.js';
import { HarrowError } from '../../protocol/errors.js';
import type { ControllerContext } from '../context.js';
import { assertInScope, authConfig, mayReadSweep, requireRole } from '../security/auth.js';
import { doc, parse, responses } from './route-schema.js';

function entryOf(r: AuditRow): AuditEntry {
  return {
    id: r.id,
    at: r.at.toISOString(),
    actor: r.actor,
    role: r.role,
    address: r.address,
    action: r.action,
    sweepId: r.sweep_id,
    target: r.target,
    details: r.details,
    outcome: r.outcome,
    error: r.error,
  };
}

export function auditRoutes(app: FastifyInstance, ctx: ControllerContext): void {
  app.get(
    '/api/audit',
    { config: authConfig('viewer'), schema: { summary: 'Who did what, newest first: filter by sweep, actor, action, outcome, since', querystring: doc(AuditQuerySchema), response: responses(AuditResponseSchema) } },
    async (req) => {
      const who = requireRole(req, 'viewer');
      const q = parse(AuditQuerySchema, req.query, 'query');
      let sweepIds: string[] | undefined;
      if (q.sweep !== undefined) {
        const sweep = await getSweep(ctx.db, q.sweep);
        // A deleted sweep's history (its deletion included) stays readable by admins; others
        // cannot be shown it, since its project labels went with it.
        if (!sweep && who.role !== 'admin') throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${q.sweep}' not found`);
        if (sweep) assertInScope(who, q.sweep, sweep.spec);
      } else if (who.role !== 'admin') {
        // Token changes and refused requests name tokens and addresses: those are for admins.
        sweepIds = (await listSweeps(ctx.db, { limit: 100_000 })).filter((s) => mayReadSweep(who)(s.spec)).map((s) => s.id);
      }
      const rows = await listAudit(ctx.db, { sweepId: q.sweep, actor: q.actor, action: q.action, outcome: q.outcome, since: q.since === undefined ? undefined : new Date(q.since), sweepIds, limit: q.limit });
      return { entries: rows.map(entryOf) };
    },
  );
}
