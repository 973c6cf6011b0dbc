/**
 * Prior results from a file: the runs export of W&B or of MLflow, as CSV or JSON, read into
 * observations of a sweep's metric in its space.
 *
 * Accepted shapes (the format is recognized from the content, not the file name):
 * - W&B runs table, CSV (the UI's "Export as CSV"): `Name`, `State`, ... then one column per
 *   config key (nested keys dotted, `optimizer.lr`) and per summary metric. Columns may also be
 *   prefixed `config.` / `summary.`.
 * - W&B public API, JSON: a list (or `{runs: [...]}`) of `{id?, name?, state?, config, summary}`, as
 *   written by `[{'id': r.id, 'name': r.name, 'state': r.state, 'config': r.config, 'summary':
 *   r.summary._json_dict} for r in api.runs(...)]`. Config values wrapped as `{value: x}` (W&B's
 *   config.yaml form) are unwrapped.
 * - MLflow, CSV or JSON records (`mlflow.search_runs(...).to_csv()` / `.to_json(orient='records')`,
 *   the `mlflow experiments csv` export): `run_id`, `status`, `params.<name>`, `metrics.<name>`;
 *   also MLflow's REST form `{info: {run_id, status}, data: {params: [{key, value}], metrics: [...]}}`.
 *
 * A row's state: W&B `finished|failed|crashed|killed` and MLflow `FINISHED|FAILED|KILLED` (killed
 * is `stopped`); a row still running or scheduled is skipped (it has no result yet); no state
 * column means finished. A row's value is its metric column: W&B's summary holds what the run
 * logged last (or what it set), MLflow's the latest value of the metric.
 *
 * Bad input is refused with the row and column named (`row 4, column "metrics.loss": "abc" is
 * not a number`). A well-formed row outside the sweep's space is not an error: it is skipped and
 * counted with its reason, and the rows that fit are used.
 */
import type { JsonValue, Params, SweepSpec } from '../types.js';
import { flattenParameters, setPath } from '../space/flatten.js';
import { fitParams } from '../space/fit-params.js';
import { parseCsv } from './csv.js';
import { PriorResultsError } from './prior-results-error.js';

export { PriorResultsError };

export type PriorState = 'finished' | 'failed' | 'crashed' | 'stopped';

export interface PriorResult {
  /** The run's id in its source (W&B id or name, MLflow run_id), when the file has one. */
  sourceRun: string | null;
  params: Params;
  state: PriorState;
  value: number | null;
}

export interface PriorResults {
  format: 'wandb-csv' | 'mlflow-csv' | 'wandb-json' | 'mlflow-json';
  results: PriorResult[];
  /** Rows left out: outside the space, still running, not in `priorRuns`. `row` as in errors. */
  skipped: Array<{ row: string; reason: string }>;
  /** How many rows the file held. */
  rows: number;
}

/** At most this many rows in one file (W&B caps prior runs at 1000; an export can hold more). */
export const MAX_PRIOR_ROWS = 100_000;

type Cells = Map<string, JsonValue>;

const ID_COLUMNS = ['run_id', 'ID', 'id', 'Run ID', 'Name', 'name'];
const STATE_COLUMNS = ['status', 'State', 'state', 'attributes.status'];

const STATES: Record<string, PriorState | 'pending'> = {
  finished: 'finished',
  failed: 'failed',
  crashed: 'crashed',
  killed: 'stopped',
  stopped: 'stopped',
  running: 'pending',
  pending: 'pending',
  scheduled: 'pending',
  preempting: 'pending',
  preempted: 'crashed',
};

const isRecord = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/** Flattens a nested config or summary mapping into dotted keys under `prefix`. */
function flattenInto(cells: Cells, prefix: string, value: unknown, unwrap: boolean): void {
  if (!isRecord(value)) return;
  for (const [key, v] of Object.entries(value)) {
    if (key.startsWith('_')) continue; // W&B's own keys (_wandb, _step, _runtime, _timestamp)
    let inner: unknown = v;
    if (unwrap && isRecord(inner) && 'value' in inner && Object.keys(inner).every((k) => k === 'value' || k === 'desc')) inner = inner.value;
    const name = prefix === '' ? key : `${prefix}.${key}`;
    if (isRecord(inner)) flattenInto(cells, name, inner, unwrap);
    else cells.set(name, inner as JsonValue);
  }
}

/** One JSON record as cells: W&B API, MLflow REST, or a flat record (MLflow search_runs, any table). */
function cellsOfRecord(record: unknown, where: string): { cells: Cells; kind: 'wandb' | 'mlflow' | 'flat' } {
  if (!isRecord(record)) throw new PriorResultsError(`${where}: must be an object with the run's config and metrics (got ${Array.isArray(record) ? 'a list' : JSON.stringify(record)})`);
  const cells: Cells = new Map();
  if (isRecord(record.info) && isRecord(record.data)) {
    const info = record.info;
    if (typeof info.run_id === 'string' || typeof info.run_id === 'number') cells.set('run_id', String(info.run_id));
    if (typeof info.status === 'string') cells.set('status', info.status);
    for (const part of ['params', 'metrics'] as const) {
      const list = record.data[part];
      if (list === undefined) continue;
      if (!Array.isArray(list)) throw new PriorResultsError(`${where}.data.${part}: must be a list of {key, value} (MLflow's REST form)`);
      list.forEach((kv, i) => {
        if (!isRecord(kv) || typeof kv.key !== 'string') throw new PriorResultsError(`${where}.data.${part}[${i}]: must be {key, value}`);
        cells.set(`${part}.${kv.key}`, kv.value as JsonValue);
      });
    }
    return { cells, kind: 'mlflow' };
  }
  if (isRecord(record.config) || isRecord(record.summary)) {
    for (const k of ['id', 'name', 'state']) {
      const v = record[k];
      if (typeof v === 'string' || typeof v === 'number') cells.set(k, String(v));
    }
    flattenInto(cells, 'config', record.config, true);
    flattenInto(cells, 'summary', record.summary, false);
    return { cells, kind: 'wandb' };
  }
  for (const [k, v] of Object.entries(record)) cells.set(k, (isRecord(v) ? JSON.stringify(v) : v) as JsonValue);
  return { cells, kind: [...cells.keys()].some((k) => k.startsWith('params.') || k.startsWith('metrics.')) ? 'mlflow' : 'flat' };
}

function parseJson(text: string, fileName: string): { records: Array<{ cells: Cells; where: string }>; kind: 'wandb' | 'mlflow' } {
  let data: unknown;
  try {
    data = JSON.parse(text) as unknown;
  } catch (err) {
    throw new PriorResultsError(`${fileName} is not valid JSON: ${(err as Error).message}`);
  }
  const list = Array.isArray(data) ? data : isRecord(data) && Array.isArray(data.runs) ? data.runs : null;
  if (!list) throw new PriorResultsError(`${fileName}: expected a list of runs, or {"runs": [...]} (W&B API or MLflow search_runs records)`);
  const base = Array.isArray(data) ? '' : 'runs';
  let kind: 'wandb' | 'mlflow' = 'wandb';
  const records = list.map((r, i) => {
    const where = `${base}[${i}]`;
    const one = cellsOfRecord(r, where);
    if (one.kind === 'mlflow') kind = 'mlflow';
    return { cells: one.cells, where };
  });
  return { records, kind };
}

function parseCsvRecords(text: string): { records: Array<{ cells: Cells; where: string }>; kind: 'wandb' | 'mlflow' } {
  const table = parseCsv(text);
  if (table.length === 0) throw new PriorResultsError('the CSV file is empty: expected a header row, then one row per run');
  const header = table[0]!.cells.map((h) => h.trim());
  const seen = new Map<string, number>();
  header.forEach((h, i) => {
    if (h === '') return;
    const before = seen.get(h);
    if (before !== undefined) throw new PriorResultsError(`row 1 (the header): column "${h}" appears twice (columns ${before + 1} and ${i + 1}); rename or remove one`);
    seen.set(h, i);
  });
  const records = table.slice(1).map((line) => {
    if (line.cells.length !== header.length) {
      throw new PriorResultsError(`row ${line.row}: has ${line.cells.length} cells but the header has ${header.length}; quote cells that contain commas ("a,b")`);
    }
    const cells: Cells = new Map();
    header.forEach((h, i) => {
      if (h !== '') cells.set(h, line.cells[i]!);
    });
    return { cells, where: `row ${line.row}` };
  });
  return { records, kind: header.some((h) => h.startsWith('params.') || h.startsWith('metrics.')) ? 'mlflow' : 'wandb' };
}

/** The column of `records` holding `name` under one of `prefixes` (or bare), or null. */
function findColumn(columns: ReadonlySet<string>, name: string, prefixes: readonly string[]): string | null {
  for (const p of prefixes) if (columns.has(`${p}${name}`)) return `${p}${name}`;
  return null;
}

const NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** A cell as the JSON value it stands for: CSV cells and MLflow params are text. */
function cellValue(v: JsonValue): JsonValue | undefined {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (t === '') return undefined;
  if (NUMBER.test(t)) return Number(t);
  if (t === 'true' || t === 'True') return true;
  if (t === 'false' || t === 'False') return false;
  if (t === 'null' || t === 'None') return null;
  if ((t.startsWith('[') && t.endsWith(']')) || (t.startsWith('{') && t.endsWith('}'))) {
    try {
      return JSON.parse(t) as JsonValue;
    } catch {
      return v;
    }
  }
  return v;
}

function metricValue(v: JsonValue | undefined, where: string, column: string): number | null | 'nonfinite' {
  if (v === undefined || v === null) return null;
  if (typeof v === 'number') return Number.isFinite(v) ? v : 'nonfinite';
  if (typeof v === 'string') {
    const t = v.trim();
    if (t === '') return null;
    if (NUMBER.test(t)) return Number(t);
    if (/^[+-]?(nan|inf|infinity)$/i.test(t)) return 'nonfinite';
  }
  throw new PriorResultsError(`${where}, column "${column}": ${JSON.stringify(v)} is not a number; the metric column must hold numbers (or be empty for a run that logged none)`);
}

export interface ParsePriorOptions {
  /** Shown in errors. */
  fileName?: string;
  /** W&B's `prior_runs`: only these run ids (or names) are taken. */
  priorRuns?: readonly string[];
}

export function parsePriorResults(text: string, spec: Pick<SweepSpec, 'parameters' | 'metric' | 'harrow'>, options: ParsePriorOptions = {}): PriorResults {
  const fileName = options.fileName ?? 'the file';
  if (!spec.metric) throw new PriorResultsError('this sweep has no metric: prior results need one to be compared with its runs');
  const metric = spec.metric.name;
  const trimmed = text.replace(/^\uFEFF/, '').trimStart();
  if (trimmed === '') throw new PriorResultsError(`${fileName} is empty`);
  const json = trimmed.startsWith('[') || trimmed.startsWith('{');
  const { records, kind } = json ? parseJson(trimmed, fileName) : parseCsvRecords(trimmed);
  if (records.length > MAX_PRIOR_ROWS) throw new PriorResultsError(`${fileName} holds ${records.length} runs; at most ${MAX_PRIOR_ROWS} are imported at once: split it`);
  const format: PriorResults['format'] = `${kind}-${json ? 'json' : 'csv'}`;

  const columns = new Set<string>();
  for (const r of records) for (const k of r.cells.keys()) columns.add(k);
  const metricColumn = findColumn(columns, metric, ['metrics.', 'summary.', '']);
  if (records.length > 0 && !metricColumn) {
    const shown = [...columns].slice(0, 20).join(', ');
    throw new PriorResultsError(
      `${fileName} has no column for the sweep's metric ${metric}: expected "${metric}", "summary.${metric}" (W&B) or "metrics.${metric}" (MLflow); its columns are ${shown}${columns.size > 20 ? ', ...' : ''}`,
    );
  }
  const leaves = flattenParameters(spec.parameters).map((leaf) => ({ leaf, column: findColumn(columns, leaf.name, ['params.', 'config.', '']) }));
  const idColumn = ID_COLUMNS.find((c) => columns.has(c)) ?? null;
  const stateColumn = STATE_COLUMNS.find((c) => columns.has(c)) ?? null;
  const wanted = options.priorRuns ? new Set(options.priorRuns) : null;
  if (wanted && !idColumn) throw new PriorResultsError(`prior_runs lists run ids but ${fileName} has no id column (${ID_COLUMNS.join(', ')})`);

  const results: PriorResult[] = [];
  const skipped: PriorResults['skipped'] = [];
  for (const { cells, where } of records) {
    const sourceRun = idColumn ? cellText(cells.get(idColumn)) : null;
    if (wanted) {
      const name = cellText(cells.get('name')) ?? cellText(cells.get('Name'));
      if (!(sourceRun !== null && wanted.has(sourceRun)) && !(name !== null && wanted.has(name))) {
        skipped.push({ row: where, reason: 'not in prior_runs' });
        continue;
      }
    }
    let state: PriorState = 'finished';
    if (stateColumn) {
      const raw = cellText(cells.get(stateColumn));
      if (raw !== null) {
        const s = STATES[raw.toLowerCase()];
        if (!s) throw new PriorResultsError(`${where}, column "${stateColumn}": unknown run state ${JSON.stringify(raw)}; expected one of ${Object.keys(STATES).join(', ')} (any case)`);
        if (s === 'pending') {
          skipped.push({ row: where, reason: `still ${raw.toLowerCase()}: no result yet` });
          continue;
        }
        state = s;
      }
    }
    let value = metricValue(metricColumn ? cells.get(metricColumn) : undefined, where, metricColumn ?? metric);
    if (value === 'nonfinite') {
      // A diverged run: a failure to the strategy, like a run of the sweep logging NaN.
      state = 'failed';
      value = null;
    }
    if (value === null && state === 'finished') {
      skipped.push({ row: where, reason: `no value of ${metric}` });
      continue;
    }
    const params: Params = {};
    for (const { leaf, column } of leaves) {
      if (!column) continue;
      const v = cellValue(cells.get(column) ?? '');
      if (v !== undefined) setPath(params, leaf.path, coerceToLeaf(v, leaf.spec));
    }
    const fit = fitParams(spec, params);
    if (!fit.ok) {
      skipped.push({ row: where, reason: `outside the space: ${fit.reason}` });
      continue;
    }
    results.push({ sourceRun, params: fit.params, state, value });
  }
  return { format, results, skipped, rows: records.length };
}

function cellText(v: JsonValue | undefined): string | null {
  if (v === undefined || v === null) return null;
  const t = (typeof v === 'string' ? v : JSON.stringify(v)).trim();
  return t === '' ? null : t;
}

/**
 * A categorical value written as text in a CSV (`"64"` for the value 64, `adam` for "adam") is
 * matched against the leaf's values by its text, so a string category that looks like a number
 * stays a string.
 */
function coerceToLeaf(v: JsonValue, spec: ReturnType<typeof flattenParameters>[number]['spec']): JsonValue {
  if (spec.distribution !== 'categorical' && spec.distribution !== 'categorical_w_probabilities' && spec.distribution !== 'constant') return v;
  const values = spec.distribution === 'constant' ? [spec.value] : spec.values;
  if (values.some((x) => JSON.stringify(x) === JSON.stringify(v))) return v;
  const text = typeof v === 'string' ? v : JSON.stringify(v);
  const match = values.find((x) => (typeof x === 'string' ? x : JSON.stringify(x)) === text);
  return match !== undefined ? match : v;
}
