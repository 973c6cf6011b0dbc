/** `harrow rerun SWEEP [--state failed,crashed]`: ended runs rerun as new runs linked to them. */
import { UsageError } from '../command.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';
import { printSteerOutcome } from './steer-outcome.js';

const STATES = ['failed', 'crashed', 'stopped', 'canceled'] as const;

const USAGE = `Usage: harrow rerun SWEEP [--state failed,crashed] [--json]

Reruns the sweep's ended runs in those states (failed and crashed by default; stopped and
canceled may be named too) as NEW runs with the same parameters, each linked to the run it reruns
(rerunOf). A run is rerun once; a rerun that fails can be rerun in turn. For a grid these are its
failed cells. run_cap rises by the number of reruns, so they never take the place of the
strategy's proposals, and a finished or canceled sweep runs again (start agents for it).

Options:
  --state LIST   comma-separated: ${STATES.join(', ')} (default failed,crashed)
  --json         print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const rerunCommand = defineApiVerb({
  name: 'rerun',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { state: { type: 'string' }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const states = (values.state ?? 'failed,crashed').split(',').map((s) => s.trim()).filter(Boolean);
    const bad = states.filter((s) => !(STATES as readonly string[]).includes(s));
    if (bad.length > 0 || states.length === 0) throw new UsageError(`--state takes ${STATES.join(', ')} separated by commas (got '${values.state ?? ''}')`);
    const res = await ctx.client().rerunSweep(id, states);
    if (values.json) ctx.out.json(res);
    else printSteerOutcome(ctx.out, res, `${res.runs.length} run${res.runs.length === 1 ? '' : 's'} rerun.`);
    return 0;
  },
});
