/** `harrow extend SWEEP --run-cap N`: raise run_cap; a finished or canceled sweep runs again. */
import { UsageError } from '../command.js';
import { defineApiVerb, intOption, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';
import { printSteerOutcome } from './steer-outcome.js';

const USAGE = `Usage: harrow extend SWEEP --run-cap N [--json]

Raises the sweep's run_cap to N and lets it continue: a running or paused sweep makes more runs,
a finished or canceled one runs again (start agents for it). N must be above the current run_cap
and above the runs made so far. A grid makes at most its cells plus the runs you added (reruns,
enqueued configurations), so a cap beyond that is refused with the reason; a sweep whose
harrow.budget is spent is not extended.

Options:
  --run-cap N   the new run_cap
  --json        print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const extendCommand = defineApiVerb({
  name: 'extend',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { 'run-cap': { type: 'string' }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const runCap = intOption('run-cap', values['run-cap'], 1, 10_000_000);
    if (runCap === undefined) throw new UsageError('--run-cap N is required: the new run_cap');
    const res = await ctx.client().extendSweep(id, runCap);
    if (values.json) ctx.out.json(res);
    else printSteerOutcome(ctx.out, res, `run_cap is now ${runCap}.`);
    return 0;
  },
});
