/** `harrow clone RUN --set lr=0.01`: a new run with a run's parameters, some edited. */
import { parse as parseYaml } from 'yaml';
import { UsageError } from '../command.js';
import { defineApiVerb, parseCliArgs, positionalArgs } from './api-verb.js';
import { printSteerOutcome } from './steer-outcome.js';

const USAGE = `Usage: harrow clone RUN [--set NAME=VALUE ...] [--json]

Queues a new run of RUN's sweep with RUN's parameters, each --set replacing one (a dotted NAME
reaches a nested parameter: --set optimizer.lr=0.01). VALUE is read as YAML: 0.01 is a number,
true a boolean, adam a string. The edited configuration must lie in the sweep's space. run_cap
rises by one; a finished or canceled sweep runs again.

Options:
  --set NAME=VALUE   a parameter to change (repeatable)
  --json             print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const cloneCommand = defineApiVerb({
  name: 'clone',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { set: { type: 'string', multiple: true }, json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['RUN'], 'give a run id as `harrow runs SWEEP` shows it');
    const params: Record<string, unknown> = {};
    for (const item of values.set ?? []) {
      const eq = item.indexOf('=');
      if (eq <= 0) throw new UsageError(`--set takes NAME=VALUE (got '${item}')`);
      params[item.slice(0, eq).trim()] = parseYaml(item.slice(eq + 1)) as unknown;
    }
    const res = await ctx.client().cloneRun(id, params);
    if (values.json) ctx.out.json(res);
    else printSteerOutcome(ctx.out, res, `Run ${id} cloned.`);
    return 0;
  },
});
