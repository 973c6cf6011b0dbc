/** `harrow stop-run RUN`: stops one run; a queued run is canceled, a running one terminated. */
import type { RunDetail } from '../../protocol/api.js';
import { UsageError } from '../command.js';
import { describeStop, paint, stateColor } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs } from './api-verb.js';

const USAGE = `Usage: harrow stop-run RUN [--reason TEXT] [--json]

Stops one run of a sweep. A running run's agent sends its process group SIGTERM, then SIGKILL
after a grace period; the run ends \`stopped\` with the reason recorded. A queued run is canceled.
RUN is a run id as \`harrow runs SWEEP\` shows it.

Options:
  --reason TEXT   why, recorded with the run and shown by \`harrow runs\` (at most 500 characters)
  --json          print the server's response (the run) as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const stopRunCommand = defineApiVerb({
  name: 'stop-run',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { reason: { type: 'string' }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['RUN'], 'give a run id as `harrow runs SWEEP` shows it');
    const reason = values.reason?.trim();
    if (reason !== undefined && (reason === '' || reason.length > 500)) throw new UsageError('--reason must be 1 to 500 characters');
    const run = await ctx.client().stopRun(id, reason);
    if (values.json) ctx.out.json(run);
    else ctx.out.line(outcome(run, (s) => paint(ctx.out.style, stateColor(run.state), s)));
    return 0;
  },
});

function outcome(run: RunDetail, color: (s: string) => string): string {
  const name = `Run #${run.number} (${run.id}) of sweep ${run.sweepId}`;
  const why = run.stopInfo ? describeStop(run.stopInfo) : run.reason;
  switch (run.state) {
    case 'running':
      return `${name}: stop requested (${why ?? 'stopped by user'}); its agent terminates it within seconds and it ends ${color('stopped')}.`;
    case 'canceled':
      return `${name} was queued and is now ${color('canceled')}.`;
    default:
      return `${name} is ${color(run.state)}${why ? ` (${why})` : ''}.`;
  }
}
