/** `harrow runs SWEEP`: a sweep's runs as a table, with why each stopped, failed or crashed. */
import { RUN_SORTS, type ListRunsResponse, type RunSummary, type SweepDetail } from '../../protocol/api.js';
import { RUN_STATES, type RunState } from '../../protocol/run-states.js';
import type { RunSort } from '../client.js';
import { UsageError } from '../command.js';
import { csvLine, flattenValues, formatNumber, formatParams, formatValue, renderTable, runDuration, runNote, stateColor, type Cell, type Column } from '../format.js';
import { defineApiVerb, intOption, parseCliArgs, positionalArgs, SWEEP_HINT, type VerbContext } from './api-verb.js';

const USAGE = `Usage: harrow runs SWEEP [--state STATES] [--sort ORDER] [--limit N] [--offset N | --cursor C] [--json | --csv]

The sweep's runs: number, id, state, the sweep metric, duration, one column per parameter that
varies (those the same in every run are shown once above the table), the last value of the other
metrics, and for runs that did not finish normally why (the early-termination rule with its band
or rung, threshold and value; the exit code; the lost heartbeat). Metric points a run sent that
could not be stored (refused alone) or never arrived (data loss) are listed under Warnings.

Options:
  --state STATES  only runs in these states, comma-separated
                  (${RUN_STATES.join(', ')})
  --sort ORDER    ${RUN_SORTS.join(', ')}; \`metric\` puts the best first
                  whatever the goal, a leading - reverses (default: number)
  --limit N       at most N runs (1-1000, default 50)
  --offset N      skip the first N runs (for the next page)
  --cursor C      start after the page that printed this cursor (sorts by
                  number; cheap however deep, where an offset walks every run)
  --json          print the server's response as JSON
  --csv           print CSV: every parameter and every metric's last value as columns

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
      cursor: { type: 'string' },
      json: { type: 'boolean' },
      csv: { type: 'boolean' },
    });
    if (values.json && values.csv) throw new UsageError('--json and --csv are two formats: choose one');
    if (values.cursor !== undefined && values.offset !== undefined) throw new UsageError('--offset and --cursor both say where the page starts: give one');
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const query = {
      states: values.state === undefined ? undefined : runStates(values.state),
      sort: values.sort === undefined ? undefined : runSort(values.sort),
      limit: intOption('limit', values.limit, 1, 1000),
      offset: intOption('offset', values.offset, 0, Number.MAX_SAFE_INTEGER),
      cursor: values.cursor,
    };
    const client = ctx.client();
    if (values.json) {
      ctx.out.json(await client.listRuns(id, query));
      return 0;
    }
    // The runs carry no metric name; the sweep has it for the column header.
    const [sweep, page] = await Promise.all([client.getSweep(id), client.listRuns(id, query)]);
    if (values.csv) {
      printCsv(ctx, sweep, page);
      return 0;
    }
    printRuns(ctx, sweep, page, { sort: query.sort ?? 'number', offset: query.cursor === undefined ? (query.offset ?? 0) : null, filtered: query.states !== undefined });
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

/** The narrowest the NOTE column gets before the table gives up one column per parameter. */
const NOTE_FLOOR = 20;

function cellText(c: Cell): string {
  return typeof c === 'string' ? c : c.text;
}

/** Parameter names of the page, split into those that vary and those the same in every run. */
function paramColumns(page: ListRunsResponse): { varying: string[]; constants: Array<[string, unknown]> } {
  const flats = page.runs.map((r) => flattenValues(r.params));
  const names = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  const varying: string[] = [];
  const constants: Array<[string, unknown]> = [];
  for (const n of names) {
    const distinct = new Set(flats.map((f) => JSON.stringify(f[n])));
    if (distinct.size > 1) varying.push(n);
    else constants.push([n, flats[0]![n]]);
  }
  return { varying, constants };
}

/** Every metric the runs logged besides the sweep's own. */
function otherMetrics(sweep: SweepDetail, page: ListRunsResponse): string[] {
  return [...new Set(page.runs.flatMap((r) => Object.keys(r.summary)))].filter((n) => n !== sweep.metric?.name).sort();
}

function printCsv(ctx: VerbContext, sweep: SweepDetail, page: ListRunsResponse): void {
  const names = [...new Set(page.runs.flatMap((r) => Object.keys(flattenValues(r.params))))].sort();
  const metrics = otherMetrics(sweep, page);
  const now = ctx.now();
  const lines = [csvLine(['number', 'id', 'state', 'attempt', sweep.metric?.name ?? 'value', 'step', 'seconds', ...names, ...metrics, 'note'])];
  for (const r of page.runs) {
    const flat = flattenValues(r.params);
    const seconds = r.startedAt === null ? null : ((r.endedAt === null ? now : Date.parse(r.endedAt)) - Date.parse(r.startedAt)) / 1000;
    lines.push(csvLine([r.number, r.id, r.state, r.attempt, r.value, r.valueStep, seconds, ...names.map((n) => flat[n]), ...metrics.map((m) => r.summary[m]?.last ?? null), runNote(r)]));
  }
  ctx.out.line(...lines);
}

function printRuns(ctx: VerbContext, sweep: SweepDetail, page: ListRunsResponse, view: { sort: RunSort; offset: number | null; filtered: boolean }): void {
  const { out } = ctx;
  if (page.runs.length === 0) {
    if (page.total > 0) out.line(`No runs past ${view.offset === null ? 'that cursor' : `offset ${view.offset}`}; the sweep has ${page.total} matching.`);
    else out.line(view.filtered ? 'No runs in those states.' : `Sweep ${sweep.id} has no runs yet${sweep.state === 'running' ? '; start an agent: ' + sweep.agentCommand : '.'}`);
    return;
  }
  const now = ctx.now();
  const tty = out.columns !== undefined;
  const { varying, constants } = paramColumns(page);
  // A few other metrics fit beside the parameters; --csv has them all.
  const metrics = otherMetrics(sweep, page).slice(0, 3);
  if (constants.length > 0) out.line(`Same in every run: ${constants.map(([k, v]) => `${k}=${formatValue(v)}`).join(' ')}`, '');
  const fixedColumns: Column[] = [
    { header: '#', align: 'right' },
    { header: 'RUN' },
    { header: 'STATE' },
    { header: sweep.metric?.name ?? 'VALUE', align: 'right' },
    { header: 'STEP', align: 'right' },
    { header: 'TIME', align: 'right' },
  ];
  const fixedCells = (r: RunSummary): Cell[] => [
    String(r.number),
    r.id,
    { text: r.attempt > 1 && r.state !== 'queued' ? `${r.state} (${r.attempt})` : r.state, color: stateColor(r.state) },
    formatNumber(r.value),
    r.valueStep === null ? '-' : String(r.valueStep),
    runDuration(r, now),
  ];
  const paramCells = (r: RunSummary): string[] => {
    const flat = flattenValues(r.params);
    return varying.map((n) => (n in flat ? formatValue(flat[n]) : '-'));
  };
  // One column per parameter when they fit the terminal; otherwise one PARAMS column that
  // shrinks (--csv always has them all).
  const wide: Cell[][] = page.runs.map((r) => [...fixedCells(r), ...paramCells(r), ...metrics.map((m) => formatNumber(r.summary[m]?.last ?? null))]);
  const headers = [...fixedColumns.map((c) => c.header), ...varying, ...metrics];
  const natural = headers.map((h, i) => Math.max([...h].length, ...wide.map((row) => [...cellText(row[i]!)].length)));
  const needed = natural.reduce((a, w) => a + w, 0) + 2 * headers.length + NOTE_FLOOR;
  const perParam = out.columns === undefined || needed <= out.columns;
  const columns: Column[] = [
    ...fixedColumns,
    ...(perParam ? varying.map((n): Column => ({ header: n, align: 'right' })) : [{ header: 'PARAMS', shrink: true, minWidth: 16 } satisfies Column]),
    ...metrics.map((m): Column => ({ header: m, align: 'right' })),
    // Off a terminal nothing bounds the width, so cap the long column to keep lines readable.
    { header: 'NOTE', shrink: true, minWidth: NOTE_FLOOR, maxWidth: tty ? undefined : 120 },
  ];
  const rows: Cell[][] = page.runs.map((r) => [
    ...fixedCells(r),
    ...(perParam ? paramCells(r) : [formatParams(r.params)]),
    ...metrics.map((m) => formatNumber(r.summary[m]?.last ?? null)),
    runNote(r),
  ]);
  // Runs that all finished normally have nothing to note: leave the column out.
  const noteAt = columns.length - 1;
  const noted = rows.some((r) => r[noteAt] !== '');
  out.line(...renderTable(noted ? columns : columns.slice(0, noteAt), noted ? rows : rows.map((r) => r.slice(0, noteAt)), { style: out.style, width: out.columns }));
  // A cursor is cheap at any depth; the other sorts page by offset.
  if (view.offset === null) {
    const more = page.nextCursor ? `; next page: --cursor ${page.nextCursor}` : '';
    out.line('', `${page.runs.length} runs of ${page.total}, sorted by ${view.sort}${more}.`);
  } else {
    const first = view.offset + 1;
    const last = view.offset + page.runs.length;
    const more = last < page.total ? `; next page: ${page.nextCursor ? `--cursor ${page.nextCursor}` : `--offset ${last}`}` : '';
    out.line('', `Runs ${first}-${last} of ${page.total}, sorted by ${view.sort}${more}.`);
  }
  // Refused points and data loss are never only a symbol in a cut-off column: say them in full.
  const warned = page.runs.filter((r) => r.warnings.length > 0);
  if (warned.length > 0) {
    out.line('', 'Warnings:');
    for (const r of warned) for (const w of r.warnings) out.line(`  #${r.number} (attempt ${w.attempt}): ${w.message}`);
  }
}
