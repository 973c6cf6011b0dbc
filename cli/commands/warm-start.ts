/** `harrow warm-start SWEEP FILE | --from SWEEP`: import prior results into a sweep. */
import { readFile } from 'node:fs/promises';
import { basename } from 'node:path';
import { UsageError } from '../command.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT } from './api-verb.js';
import { printImportOutcome } from './import-outcome.js';

const USAGE = `Usage: harrow warm-start SWEEP FILE [--prior-runs ID,ID...] [--json]
       harrow warm-start SWEEP --from OTHER_SWEEP [--prior-runs ID,ID...] [--json]

Imports prior results into a sweep: a runs export of W&B (the runs table's CSV, or JSON of
{id, name, state, config, summary} from its API) or of MLflow (mlflow.search_runs(...).to_csv(), or
JSON records; params.<name>, metrics.<name>, status), or the ended runs of another sweep with the
same metric. The sweep's strategy learns from them (a grid skips the cells they cover); they are
shown as imported and never counted as the sweep's runs (not in run_cap, the runs list or the best).
Rows outside the sweep's space are left out and counted with the reason.

Options:
  --from SWEEP        another sweep's finished, failed and crashed runs instead of a file
  --prior-runs IDS    only these runs (W&B run ids or names, MLflow run_ids, run ids of --from)
  --json              print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

export const warmStartCommand = defineApiVerb({
  name: 'warm-start',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { from: { type: 'string' }, 'prior-runs': { type: 'string' }, json: { type: 'boolean' } });
    const from = values.from;
    const priorRuns = values['prior-runs']?.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (priorRuns && priorRuns.length === 0) throw new UsageError('--prior-runs needs run ids separated by commas');
    let body: { content?: string; name?: string; from?: string; priorRuns?: string[] };
    if (from !== undefined) {
      const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
      body = { from, ...(priorRuns ? { priorRuns } : {}) };
      return done(await ctx.client().warmStart(id, body));
    }
    const [id, file] = positionalArgs(positionals, ['SWEEP', 'FILE'], `${SWEEP_HINT}, then a CSV or JSON export of runs (or --from SWEEP)`);
    let content: string;
    try {
      content = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    body = { content, name: basename(file), ...(priorRuns ? { priorRuns } : {}) };
    return done(await ctx.client().warmStart(id, body));

    function done(res: Awaited<ReturnType<ReturnType<typeof ctx.client>['warmStart']>>): number {
      if (values.json) ctx.out.json(res);
      else {
        printImportOutcome(ctx.out, res.import);
        ctx.out.line(`Sweep ${res.sweep.id} now has ${res.sweep.imported?.count ?? 0} imported results.`);
      }
      return 0;
    }
  },
});
