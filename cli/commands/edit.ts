/** `harrow edit SWEEP FILE` / `harrow edit SWEEP --history`: edit a sweep's spec, with lineage. */
import { readFile } from 'node:fs/promises';
import { UsageError } from '../command.js';
import { paint } from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT, type Printer } from './api-verb.js';
import type { EditSpecResponse } from '../../protocol/api.js';

const USAGE = `Usage: harrow edit SWEEP FILE [--json]
       harrow edit SWEEP --history [--json]

Replaces a sweep's spec with the sweep file FILE while it runs, as a new version (kept with its time
and author; --history lists them). Supported: widen or narrow a range, change values, add a
parameter (it needs default: VALUE, the value earlier runs ran with), drop one, change run_cap,
early_terminate, metric.target and the other settings. Refused with the reason: changing the method,
the metric's name or goal, or a parameter's type so that no earlier value fits (strings to numbers).

Earlier runs stay as they are and stay visible. The strategy learns from the ones inside the new
space (an added parameter taken at its default, a dropped one ignored); runs outside it are not
observed, and are counted. Running runs go on. An edit does not reopen an ended sweep (harrow
extend does).

Example: add dropout, earlier runs had none
  parameters:
    lr: {min: 0.0001, max: 0.3}
    dropout: {min: 0.0, max: 0.5, default: 0.0}

Options:
  --history   list the spec's versions: when, who, what changed
  --json      print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN (needed when the server has one).`;

function printLineage(out: Printer, l: EditSpecResponse['lineage']): void {
  out.line(`Runs in the current space: ${l.runs - l.runsOutside} of ${l.runs} ended runs${l.imported > 0 ? `, ${l.imported - l.importedOutside} of ${l.imported} imported results` : ''}.`);
  for (const r of l.reasons.slice(0, 10)) out.line(`  ${r.count} outside: ${r.reason}`);
}

export const editCommand = defineApiVerb({
  name: 'edit',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { history: { type: 'boolean' }, json: { type: 'boolean' } });
    if (values.history) {
      const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
      const res = await ctx.client().specVersions(id);
      if (values.json) ctx.out.json(res);
      else {
        for (const v of res.versions) {
          const mark = v.version === res.current ? ' (current)' : '';
          ctx.out.line(`${paint(ctx.out.style, 'bold', `v${v.version}`)}${mark}  ${v.createdAt}  by ${v.author ?? 'unknown'}`);
          for (const c of v.changes) ctx.out.line(`    ${c}`);
        }
        printLineage(ctx.out, res.lineage);
      }
      return 0;
    }
    const [id, file] = positionalArgs(positionals, ['SWEEP', 'FILE'], `${SWEEP_HINT}, then the edited sweep file (or --history)`);
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (err) {
      throw new UsageError(`cannot read ${file}: ${(err as Error).message}`);
    }
    const res = await ctx.client().editSpec(id, text);
    if (values.json) ctx.out.json(res);
    else {
      ctx.out.line(`Sweep ${id} is at spec version ${res.version.version}:`);
      for (const c of res.version.changes) ctx.out.line(`  ${c}`);
      printLineage(ctx.out, res.lineage);
    }
    return 0;
  },
});
