/** `harrow runs SWEEP`: a sweep's runs as a table, with why each stopped, failed or crashed. */
import { RUN_SORTS, type ListRunsResponse, type SweepDetail } from '../../protocol/api.js';
import { RUN_STATES, type RunState } from '../../protocol/run-states.js';
import type { RunSort } from '../client.js';
import { UsageError } from '../command.js';
import { formatNumber, formatParams, renderTable, runDuration, runNote, stateColor, type Cell, type Column } from '../format.js';
import { defineApiVerb, intOption, parseCliArgs, positionalArgs, SWEEP_HINT, type VerbContext } from './api-verb.js';

const USAGE = `Usage: harrow runs SWEEP [--state STATES] [--sort ORDER] [--limit N] [--offset N] [--json]

The sweep's runs: number, id, state, the sweep metric, duration, parameters, and for runs that
did not finish normally why (the early-termination rule with its band or rung, threshold and
value; the exit code; the lost heartbeat). Metric points a run sent that could not be stored
(refused alone) or never arrived (data loss) are listed under Warnings.

Options:
  --state STATES  only runs in these states, comma-separated
                  (${RUN_STATES.join(', ')})
  --sort ORDER    ${RUN_SORTS.join(', ')}; \`metric\` puts the best first
                  whatever the goal, a leading - reverses (default: number)
  --limit N       at most N runs (1-1000, default 50)
  --offset N      skip the first N runs (for the next page)
  --json          print the server's response as JSON

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

export const runsCommand = defineApiVerb({
  name: 'runs',
  usage: USAGE,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(joinSortValue(argv), {
      state: { type: 'string' },
      sort: { type: 'string' },
      limit: { type: 'string' },
      offset: { type: 'string' },
      json: { type: 'boolean' },
    });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const query = {
      states: values.state === undefined ? undefined : runStates(values.state),
      sort: values.sort === undefined ? undefined : runSort(values.sort),
      limit: intOption('limit', values.limit, 1, 1000),
      offset: intOption('offset', values.offset, 0, Number.MAX_SAFE_INTEGER),
    };
    const client = ctx.client();
    if (values.json) {
      ctx.out.json(await client.listRuns(id, query));
      return 0;
    }
    // The runs carry no metric name; the sweep has it for the column header.
    const [sweep, page] = await Promise.all([client.getSweep(id), client.listRuns(id, query)]);
    printRuns(ctx, sweep, page, { sort: query.sort ?? 'number', offset: query.offset ?? 0, filtered: query.states !== undefined });
    return 0;
  },
});

function runStates(text: string): RunState[] {
  const parts = text.split(',').map((s) => s.trim()).filter((s) => s !== '');
  const bad = parts.filter((p) => !(RUN_STATES as readonly string[]).includes(p));
  if (parts.length === 0 || bad.length > 0) {
    throw new UsageError(`--state: unknown run state '${bad.join(', ')}'; use one or more of ${RUN_STATES.join(', ')} separated by commas`);
  }
  return parts as RunState[];
}

/** `--sort -metric` reads naturally, but parseArgs takes `-metric` for an option: glue it on. */
function joinSortValue(argv: string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const next = argv[i + 1];
    if (argv[i] === '--sort' && next !== undefined && (RUN_SORTS as readonly string[]).includes(next)) {
      out.push(`--sort=${next}`);
      i++;
    } else out.push(argv[i]!);
  }
  return out;
}

function runSort(text: string): RunSort {
  if (!(RUN_SORTS as readonly string[]).includes(text)) throw new UsageError(`--sort must be one of ${RUN_SORTS.join(', ')} (got '${text}')`);
  return text as RunSort;
}

function printRuns(ctx: VerbContext, sweep: SweepDetail, page: ListRunsResponse, view: { sort: RunSort; offset: number; filtered: boolean }): void {
  const { out } = ctx;
  if (page.runs.length === 0) {
    if (page.total > 0) out.line(`No runs past offset ${view.offset}; the sweep has ${page.total} matching.`);
    else out.line(view.filtered ? 'No runs in those states.' : `Sweep ${sweep.id} has no runs yet${sweep.state === 'running' ? '; start an agent: ' + sweep.agentCommand : '.'}`);
    return;
  }
  const now = ctx.now();
  const tty = out.columns !== undefined;
  const columns: Column[] = [
    { header: '#', align: 'right' },
    { header: 'RUN' },
    { header: 'STATE' },
    { header: sweep.metric?.name ?? 'VALUE', align: 'right' },
    { header: 'STEP', align: 'right' },
    { header: 'TIME', align: 'right' },
    // Off a terminal nothing bounds the width, so cap the long columns to keep lines readable.
    { header: 'PARAMS', shrink: true, minWidth: 16, maxWidth: tty ? undefined : 80 },
    { header: 'NOTE', shrink: true, minWidth: 20, maxWidth: tty ? undefined : 120 },
  ];
  const rows: Cell[][] = page.runs.map((r) => [
    String(r.number),
    r.id,
    { text: r.attempt > 1 && r.state !== 'queued' ? `${r.state} (${r.attempt})` : r.state, color: stateColor(r.state) },
    formatNumber(r.value),
    r.valueStep === null ? '-' : String(r.valueStep),
    runDuration(r, now),
    formatParams(r.params),
    runNote(r),
  ]);
  // Runs that all finished normally have nothing to note: leave the column out.
  const noted = rows.some((r) => r[7] !== '');
  out.line(...renderTable(noted ? columns : columns.slice(0, 7), noted ? rows : rows.map((r) => r.slice(0, 7)), { style: out.style, width: out.columns }));
  const first = view.offset + 1;
  const last = view.offset + page.runs.length;
  const more = last < page.total ? `; next page: --offset ${last}` : '';
  out.line('', `Runs ${first}-${last} of ${page.total}, sorted by ${view.sort}${more}.`);
  // Refused points and data loss are never only a symbol in a cut-off column: say them in full.
  const warned = page.runs.filter((r) => r.warnings.length > 0);
  if (warned.length > 0) {
    out.line('', 'Warnings:');
    for (const r of warned) for (const w of r.warnings) out.line(`  #${r.number} (attempt ${w.attempt}): ${w.message}`);
  }
}
