/** `harrow delete SWEEP`: removes a sweep and everything of it (admin). */
import { UsageError } from '../command.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';

const USAGE = `Usage: harrow delete SWEEP [--yes] [--force] [--json]

Deletes the sweep and everything of it: its runs, attempts, state changes, metric points, output
tails and best-so-far curve in the database, and its queue, state, control and report entries in
Redis. It cannot be undone. The audit trail keeps its entries, including this deletion.
Needs an admin token.

A running or paused sweep (or one whose runs are still running) is refused unless --force: it is
then canceled, its running runs are killed, and the deletion waits for their agents to confirm.

Options:
  --yes     do not ask for confirmation (needed when stdin is not a terminal)
  --force   cancel a running or paused sweep and kill its running runs first
  --json    print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const deleteCommand = defineApiVerb({
  name: 'delete',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { yes: { type: 'boolean', short: 'y' }, force: { type: 'boolean' }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    if (!values.yes) {
      if (!ctx.ask) throw new UsageError(`not deleting sweep ${id} without confirmation: stdin is not a terminal; pass --yes to delete it`);
      const sweep = await ctx.client().getSweep(id);
      const answer = await ctx.ask(
        `Delete sweep ${id}${sweep.name ? ` (${sweep.name})` : ''}, ${sweep.state}, with its ${sweep.counts.total} run${sweep.counts.total === 1 ? '' : 's'} and all their data? This cannot be undone. Type the sweep id to confirm: `,
      );
      if (answer.trim() !== id) {
        ctx.out.line('Not deleted.');
        return 1;
      }
    }
    const deleted = await ctx.client().deleteSweep(id, values.force === true);
    if (values.json) ctx.out.json(deleted);
    else {
      const r = deleted.rows;
      ctx.out.line(
        `Deleted sweep ${deleted.id}${deleted.canceled ? ' (canceled first)' : ''}: ${r.runs ?? 0} runs, ${r.metrics ?? 0} metric points, ${r.run_events ?? 0} run state changes; ${deleted.redisKeys} Redis keys and ${deleted.reports} queued reports.`,
        'The audit trail keeps its history (`harrow audit ' + deleted.id + '`).',
      );
    }
    return 0;
  },
});
