/** `harrow sweep set SWEEP [--priority N] [--max-slots N|none]`: a sweep's share of agents serving several sweeps. */
import { UsageError } from '../command.js';
import { defineApiVerb, intOption, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';

const USAGE = `Usage: harrow sweep set SWEEP [--priority N] [--max-slots N|none] [--json]

Sets how SWEEP shares agents that serve several sweeps (harrow agent --sweeps A,B or --all). The
change applies live: agents read it within a second, and it is recorded in the audit trail.

Options:
  --priority N     higher is served first (default 0; -1000 to 1000). A free slot goes to the
                   sweep of highest priority that has a queued run; within a priority, slots
                   are shared fairly (the sweep holding the fewest slots gets the next one).
  --max-slots N    at most N slots for this sweep on one agent (GPUs with --gpus, runs
                   otherwise); none removes the cap.
  --json           print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const sweepCommand = defineApiVerb({
  name: 'sweep',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { priority: { type: 'string' }, 'max-slots': { type: 'string' }, json: { type: 'boolean' } });
    const [sub, id] = positionalArgs(positionals, ['set', 'SWEEP'], SWEEP_HINT);
    if (sub !== 'set') throw new UsageError(`unknown subcommand '${sub}': harrow sweep set SWEEP --priority N --max-slots N`);
    const rawPriority = values.priority?.trim();
    if (rawPriority !== undefined && (!/^-?\d+$/.test(rawPriority) || Math.abs(Number(rawPriority)) > 1000)) {
      throw new UsageError(`--priority takes a whole number from -1000 to 1000, such as --priority 2 or --priority=-1 (got '${values.priority}')`);
    }
    const priority = rawPriority === undefined ? undefined : Number(rawPriority);
    const rawMax = values['max-slots'];
    const maxSlots = rawMax === undefined ? undefined : rawMax === 'none' ? null : intOption('max-slots', rawMax, 1, 100_000);
    if (priority === undefined && maxSlots === undefined) throw new UsageError('give --priority N, --max-slots N (or none), or both');
    const res = await ctx.client().setSweepShare(id, { ...(priority !== undefined ? { priority } : {}), ...(maxSlots !== undefined ? { maxSlots } : {}) });
    if (values.json) ctx.out.json(res);
    else ctx.out.line(`Sweep ${res.sweepId}: priority ${res.priority}, max slots ${res.maxSlots ?? 'none'} (applies live on agents serving several sweeps).`);
    return 0;
  },
});
