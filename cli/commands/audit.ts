/** `harrow audit [SWEEP]`: who did what, newest first. */
import type { AuditEntry } from '../../protocol/auth-api.js';
import { UsageError } from '../command.js';
import { formatAge, renderTable, type Cell } from '../format.js';
import { defineApiVerb, intOption, parseCliArgs } from './api-verb.js';

const USAGE = `Usage: harrow audit [SWEEP] [--actor NAME] [--action ACTION] [--since TIME] [--limit N] [--json]

The audit trail, newest first: who (token name and role) did what (create, pause, resume, stop,
cancel, stop-run, token.create, token.revoke, ...) to which sweep, from which address, when, and
whether it succeeded. Without SWEEP: every entry an admin may see; other roles see the entries of
the sweeps they can read.

Options:
  --actor NAME     only this token's actions
  --action ACTION  only this action
  --since TIME     only from this ISO 8601 time on (2026-12-01T00:00:00Z)
  --limit N        at most N entries (default 100, at most 1000)
  --json           print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const auditCommand = defineApiVerb({
  name: 'audit',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { actor: { type: 'string' }, action: { type: 'string' }, since: { type: 'string' }, limit: { type: 'string' }, json: { type: 'boolean' } });
    if (positionals.length > 1) throw new UsageError(`unexpected argument '${positionals[1]}' (expected at most one SWEEP)`);
    const [sweep] = positionals;
    if (values.since !== undefined && Number.isNaN(Date.parse(values.since))) throw new UsageError(`--since '${values.since}': use an ISO 8601 time such as 2026-12-01T00:00:00Z`);
    const limit = intOption('limit', values.limit, 1, 1000);
    const entries = await ctx.client().audit({
      ...(sweep === undefined ? {} : { sweep }),
      ...(values.actor === undefined ? {} : { actor: values.actor }),
      ...(values.action === undefined ? {} : { action: values.action }),
      ...(values.since === undefined ? {} : { since: new Date(values.since).toISOString() }),
      ...(limit === undefined ? {} : { limit }),
    });
    if (values.json) ctx.out.json({ entries });
    else if (entries.length === 0) ctx.out.line('No audit entries.');
    else {
      const now = ctx.now();
      const rows: Cell[][] = entries.map((e) => [formatAge(e.at, now), e.actor, e.role ?? '', e.action, e.sweepId ?? '', e.target ?? '', outcomeCell(e), e.address ?? '']);
      ctx.out.line(
        ...renderTable(
          [{ header: 'WHEN' }, { header: 'WHO' }, { header: 'ROLE' }, { header: 'ACTION' }, { header: 'SWEEP' }, { header: 'TARGET', shrink: true, maxWidth: 30 }, { header: 'OUTCOME', shrink: true, maxWidth: 60 }, { header: 'FROM' }],
          rows,
          { style: ctx.out.style, width: ctx.out.columns },
        ),
      );
    }
    return 0;
  },
});

function outcomeCell(e: AuditEntry): Cell {
  return { text: e.error ? `${e.outcome}: ${e.error}` : e.outcome, color: e.outcome === 'ok' ? 'green' : 'red' };
}
