/** `harrow retention [--dry-run]`: what retention (HARROW_RETENTION_DAYS) removes, or remove it now (admin). */
import { formatAge, renderTable, type Cell } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs } from './api-verb.js';

const USAGE = `Usage: harrow retention [--dry-run] [--json]

Retention is the server's HARROW_RETENTION_DAYS: sweeps that ended more than that many days ago
lose their metric points and output tails; each run keeps its state, parameters, summary metrics
and the sweep its best run and best-so-far curve. The controller runs a pass every hour.

Without --dry-run, runs a pass now and lists what it removed. Needs an admin token.

Options:
  --dry-run   only list what a pass would remove now
  --json      print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const retentionCommand = defineApiVerb({
  name: 'retention',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { 'dry-run': { type: 'boolean' }, json: { type: 'boolean' } });
    positionalArgs(positionals, [], '');
    const dry = values['dry-run'] === true;
    // Asked first, so that a server with retention off is told apart from a refused pass.
    const preview = await ctx.client().retention(false);
    const res = dry || preview.days === null ? preview : await ctx.client().retention(true);
    if (values.json) {
      ctx.out.json(res);
      return 0;
    }
    if (res.days === null) {
      ctx.out.line('Retention is off on this server (HARROW_RETENTION_DAYS is unset): metric points and output tails are kept forever.');
      return 0;
    }
    if (res.skipped) {
      ctx.out.line('Another controller replica is running a retention pass now; nothing was done here. Try again in a minute.');
      return 0;
    }
    const verb = dry ? 'would remove' : 'removed';
    if (res.sweeps.length === 0) {
      ctx.out.line(`Retention (${res.days} days, sweeps ended before ${res.cutoff}): nothing ${dry ? 'to remove' : 'removed'}.`);
      return 0;
    }
    const now = ctx.now();
    const rows: Cell[][] = res.sweeps.map((s) => [s.id, s.name ?? '', formatAge(s.endedAt, now), String(s.points), String(s.tails)]);
    ctx.out.line(
      `Retention (${res.days} days, sweeps ended before ${res.cutoff}) ${verb} ${res.points} metric points and ${res.tails} output tails of ${res.sweeps.length} sweep${res.sweeps.length === 1 ? '' : 's'}:`,
      ...renderTable([{ header: 'SWEEP' }, { header: 'NAME', shrink: true, maxWidth: 40 }, { header: 'ENDED' }, { header: 'POINTS' }, { header: 'TAILS' }], rows, { style: ctx.out.style, width: ctx.out.columns }),
      'Runs keep their state, parameters, summary metrics; sweeps keep their best run and curve.',
    );
    return 0;
  },
});
