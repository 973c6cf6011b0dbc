/** `harrow enqueue SWEEP FILE`: configurations to try, queued ahead of the strategy. */
import { readFile } from 'node:fs/promises';
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../command.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';
import { printSteerOutcome } from './steer-outcome.js';

const USAGE = `Usage: harrow enqueue SWEEP FILE [--json]

Queues the configurations in FILE (YAML or JSON: one mapping of parameter values, or a list of
them) as runs of the sweep, ahead of the strategy's next proposals. They are ordinary runs
(proposal source 'user'): the strategy sees them as pending, then learns from their results.
Every value must lie in the sweep's space; otherwise nothing is queued and the offending value's
path is shown (0.lr is lr in the first configuration of a list). run_cap rises by their number;
a finished or canceled sweep runs again.

Example FILE:
  - {lr: 0.01, optimizer: adam}
  - {lr: 0.003, optimizer: sgd}

Options:
  --json   print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

export const enqueueCommand = defineApiVerb({
  name: 'enqueue',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
    const [id, file] = positionalArgs(positionals, ['SWEEP', 'FILE'], `${SWEEP_HINT}, then a YAML or JSON file of configurations`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    let data: unknown;
    try {
      data = parseYaml(text);
    } catch (err) {
      throw new UsageError(`${file} is not valid YAML or JSON: ${(err as Error).message}`);
    }
    const ok = isMapping(data) || (Array.isArray(data) && data.length > 0 && data.every(isMapping));
    if (!ok) throw new UsageError(`${file} must hold one mapping of parameter values ({lr: 0.01}) or a non-empty list of them`);
    const res = await ctx.client().enqueue(id, data as Record<string, unknown> | Array<Record<string, unknown>>);
    if (values.json) ctx.out.json(res);
    else printSteerOutcome(ctx.out, res, `${res.runs.length} configuration${res.runs.length === 1 ? '' : 's'} queued.`);
    return 0;
  },
});
