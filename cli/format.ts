/**
 * Terminal output for the CLI verbs: aligned tables, numbers with sensible precision, durations,
 * parameters on one line, sparklines, and state colors — colors only on a terminal, and never
 * when NO_COLOR is set (https://no-color.org).
 */
import type { BestResponse, BestRun, RunSummary, SweepSummary } from '../protocol/api.js';
import type { RunState, SweepStateName } from '../protocol/run-states.js';
import { HOUR, MINUTE, SECOND } from '../protocol/time.js';

export interface Style {
  color: boolean;
}

export function detectStyle(stream: { isTTY?: boolean }, env: Record<string, string | undefined>): Style {
  const noColor = env.NO_COLOR !== undefined && env.NO_COLOR !== '';
  return { color: stream.isTTY === true && !noColor && env.TERM !== 'dumb' };
}

const SGR = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, blue: 34, magenta: 35, cyan: 36 } as const;
export type Color = keyof typeof SGR;

export function paint(style: Style, color: Color | undefined, text: string): string {
  return style.color && color && text !== '' ? `\x1b[${SGR[color]}m${text}\x1b[0m` : text;
}

export function stateColor(state: RunState | SweepStateName): Color {
  switch (state) {
    case 'running':
      return 'cyan';
    case 'queued':
    case 'canceled':
      return 'dim';
    case 'finished':
      return 'green';
    case 'failed':
    case 'crashed':
      return 'red';
    case 'stopped':
    case 'paused':
    case 'preempted':
      return 'yellow';
  }
}

/**
 * A sweep's state as shown to a user: a sweep whose runs all failed is never shown like a success
 * (`finished, all runs failed` in red); the run counts next to it show any other failures.
 */
export function sweepStateCell(s: Pick<SweepSummary, 'state' | 'health'>): { text: string; color: Color } {
  if (s.health === 'failing') return { text: `${s.state}, all runs failed`, color: 'red' };
  return { text: s.state, color: stateColor(s.state) };
}

/**
 * A metric or parameter value: integers as they are, others to `digits` significant digits
 * without trailing zeros, exponent form for the very small and very large (learning rates).
 */
export function formatNumber(x: number | null | undefined, digits = 5): string {
  if (x === null || x === undefined) return '-';
  if (!Number.isFinite(x)) return Number.isNaN(x) ? 'NaN' : x > 0 ? 'inf' : '-inf';
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (Number.isInteger(x) && abs < 1e15) return String(x);
  if (abs >= 1e9 || abs < 1e-4) {
    const [mantissa = '', exponent = ''] = x.toExponential(digits - 1).split('e');
    return `${trimZeros(mantissa)}e${exponent.replace('+', '')}`;
  }
  if (abs >= 10 ** digits) return String(Math.round(x));
  return trimZeros(x.toPrecision(digits));
}

function trimZeros(s: string): string {
  return s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s;
}

/** `42s`, `1m 05s`, `2h 03m`, `3d 04h`: two units at most, the second zero-padded. */
export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '-';
  const s = Math.floor(ms / SECOND);
  if (ms < MINUTE) return `${s}s`;
  const pad = (n: number): string => String(n).padStart(2, '0');
  if (ms < HOUR) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  const m = Math.floor(ms / MINUTE);
  if (ms < 24 * HOUR) return `${Math.floor(m / 60)}h ${pad(m % 60)}m`;
  const h = Math.floor(ms / HOUR);
  return `${Math.floor(h / 24)}d ${pad(h % 24)}h`;
}

/** How long ago an ISO time was: `5m 10s ago`. */
export function formatAge(iso: string | null, now: number): string {
  if (iso === null) return '-';
  const t = Date.parse(iso);
  return Number.isNaN(t) ? '-' : `${formatDuration(Math.max(0, now - t))} ago`;
}

/** The wall time a run took, or has taken so far when it is still going. */
export function runDuration(run: { startedAt: string | null; endedAt: string | null }, now: number): string {
  if (run.startedAt === null) return '-';
  const end = run.endedAt === null ? now : Date.parse(run.endedAt);
  return formatDuration(end - Date.parse(run.startedAt));
}

export function formatValue(v: unknown): string {
  if (typeof v === 'number') return formatNumber(v, 4);
  if (typeof v === 'string') return /[\s"=]/.test(v) || v === '' ? JSON.stringify(v) : v;
  if (v === null || v === undefined || typeof v === 'boolean') return String(v);
  return JSON.stringify(v);
}

/** `batch=32 lr=0.001 opt=adam`, keys sorted, cut to `maxWidth` with an ellipsis. */
export function formatParams(params: Record<string, unknown>, maxWidth = Infinity): string {
  const text = Object.keys(params)
    .sort()
    .map((k) => `${k}=${formatValue(params[k])}`)
    .join(' ');
  return truncate(text, maxWidth);
}

/** Nested parameter blocks as dotted names (`optimizer.lr`), as the sweep file names them. */
export function flattenValues(params: Record<string, unknown>, prefix = '', out: Record<string, unknown> = {}): Record<string, unknown> {
  for (const [k, v] of Object.entries(params)) {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) flattenValues(v as Record<string, unknown>, `${prefix}${k}.`, out);
    else out[`${prefix}${k}`] = v;
  }
  return out;
}

/** One CSV line (RFC 4180): fields with a comma, quote or line break are quoted. */
export function csvLine(fields: readonly unknown[]): string {
  return fields
    .map((f) => {
      const s = f === null || f === undefined ? '' : typeof f === 'string' ? f : typeof f === 'number' || typeof f === 'boolean' ? String(f) : JSON.stringify(f);
      return /[",\r\n]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
    })
    .join(',');
}

export function truncate(text: string, width: number): string {
  const chars = [...text];
  if (chars.length <= width) return text;
  if (width <= 0) return '';
  return `${chars.slice(0, width - 1).join('')}…`;
}

function width(text: string): number {
  return [...text].length;
}

export type Cell = string | { text: string; color?: Color };

export interface Column {
  header: string;
  align?: 'left' | 'right';
  /** This column gives up width first when the table is wider than the terminal. */
  shrink?: boolean;
  minWidth?: number;
  maxWidth?: number;
}

/**
 * Rows under a header, columns two spaces apart. Cells are plain text plus an optional color,
 * so widths are measured before any escape codes are added.
 */
export function renderTable(columns: readonly Column[], rows: readonly (readonly Cell[])[], options: { style: Style; width?: number }): string[] {
  const text = (c: Cell | undefined): string => (c === undefined ? '' : typeof c === 'string' ? c : c.text);
  const widths = columns.map((col, i) => {
    const natural = Math.max(width(col.header), ...rows.map((r) => width(text(r[i]))));
    return Math.min(natural, col.maxWidth ?? Infinity);
  });
  const gap = 2;
  if (options.width !== undefined) {
    // Max-min fairness: the shrinkable columns share what the fixed ones leave; a column under
    // its fair share keeps its width, the widest ones are cut first (never below their floor).
    const shrinkable = columns.map((c, i) => i).filter((i) => columns[i]!.shrink);
    const fixed = widths.reduce((a, w, i) => (columns[i]!.shrink ? a : a + w), 0);
    let budget = options.width - fixed - gap * (columns.length - 1);
    const byWidth = [...shrinkable].sort((a, b) => widths[a]! - widths[b]!);
    byWidth.forEach((i, k) => {
      const fair = Math.floor(budget / (byWidth.length - k));
      const floor = Math.min(widths[i]!, Math.max(columns[i]!.minWidth ?? 10, width(columns[i]!.header)));
      widths[i] = Math.max(floor, Math.min(widths[i]!, fair));
      budget -= widths[i];
    });
  }
  const line = (cells: readonly Cell[], header: boolean): string => {
    const parts = columns.map((col, i) => {
      const cell = cells[i];
      const raw = truncate(text(cell), widths[i]!);
      const padded = col.align === 'right' ? raw.padStart(widths[i]! + raw.length - width(raw)) : raw.padEnd(widths[i]! + raw.length - width(raw));
      const color = header ? 'bold' : typeof cell === 'object' ? cell.color : undefined;
      // Pad first, then paint: escape codes must not count toward the width.
      if (!color) return padded;
      const trimmed = padded.trimEnd();
      return paint(options.style, color, trimmed) + padded.slice(trimmed.length);
    });
    return parts.join(' '.repeat(gap)).trimEnd();
  };
  return [line(columns.map((c) => c.header), true), ...rows.map((r) => line(r, false))];
}

const BLOCKS = '▁▂▃▄▅▆▇█';

/**
 * Values as a row of block characters, highest value tallest. Null (no value yet) is a space;
 * with more values than `maxWidth`, each column shows the last value of its bucket, which suits
 * a best-so-far series (it only ever improves).
 */
export function sparkline(values: readonly (number | null)[], maxWidth = 60): string {
  let series = values;
  if (values.length > maxWidth) {
    series = Array.from({ length: maxWidth }, (_, i) => values[Math.min(values.length - 1, Math.floor(((i + 1) * values.length) / maxWidth) - 1)] ?? null);
  }
  const finite = series.filter((v): v is number => v !== null && Number.isFinite(v));
  if (finite.length === 0) return ' '.repeat(series.length);
  const lo = Math.min(...finite);
  const hi = Math.max(...finite);
  return series
    .map((v) => {
      if (v === null || !Number.isFinite(v)) return ' ';
      if (hi === lo) return BLOCKS[3];
      return BLOCKS[Math.round(((v - lo) / (hi - lo)) * (BLOCKS.length - 1))];
    })
    .join('');
}

/**
 * The best-so-far curve as one value per counted run (the curve lists only improvements, each at
 * its 1-based position among the finished and stopped runs): the best value as of each such run.
 */
export function bestSoFarSeries(best: Pick<BestResponse, 'curve' | 'counted'>): (number | null)[] {
  const series: (number | null)[] = [];
  const points = [...best.curve].sort((a, b) => a.index - b.index);
  const length = Math.max(best.counted, ...points.map((p) => p.index));
  let current: number | null = null;
  let next = 0;
  for (let i = 1; i <= length; i++) {
    while (next < points.length && points[next]!.index <= i) current = points[next++]!.value;
    series.push(current);
  }
  return series;
}

/** Local wall-clock time of day, `14:03:27`. */
export function clockTime(t: number | Date): string {
  const d = new Date(t);
  const pad = (n: number): string => String(n).padStart(2, '0');
  return `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

const COUNT_STATES = ['queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted'] as const satisfies readonly RunState[];

/** `running 4  queued 2  finished 5`: the states with runs in them (all of them with `all`). */
export function formatCounts(counts: SweepSummary['counts'], style: Style, options: { all?: boolean } = {}): string {
  const parts = COUNT_STATES.filter((s) => options.all || counts[s] > 0).map((s) => `${paint(style, stateColor(s), s)} ${counts[s]}`);
  return parts.length > 0 ? parts.join('  ') : 'no runs yet';
}

/** `12 runs (36 expected, cap 50)`. */
export function formatProgress(sweep: Pick<SweepSummary, 'counts' | 'runCap' | 'expectedRuns'>): string {
  const limits = [
    ...(sweep.expectedRuns !== null ? [`${sweep.expectedRuns} expected`] : []),
    ...(sweep.runCap !== null ? [`run cap ${sweep.runCap}`] : []),
  ];
  const n = sweep.counts.total;
  return `${n} run${n === 1 ? '' : 's'}${limits.length > 0 ? ` (${limits.join(', ')})` : ''}`;
}

/** `minimize val_loss`, or a note that the sweep has no metric. */
export function formatMetric(metric: SweepSummary['metric']): string {
  return metric ? `${metric.goal} ${metric.name}` : 'no metric';
}

/** `val_loss=0.1234 (run #7 at step 30)`; params are shown separately. */
export function formatBest(best: BestRun | null, metric: SweepSummary['metric']): string {
  if (!best) return metric ? `none yet (no run has reported ${metric.name})` : 'none (the sweep has no metric)';
  const step = best.step !== null ? ` at step ${best.step}` : '';
  return `${metric?.name ?? 'value'}=${formatNumber(best.value)} (run #${best.number}${step})`;
}

/**
 * Why an early-termination rule or a user stopped a run, from the `stopInfo` the controller
 * records (`{ rule, band | rung, at, threshold, value, message }`).
 */
export function describeStop(info: Record<string, unknown>): string {
  const rule = typeof info.rule === 'string' ? info.rule : undefined;
  const message = typeof info.message === 'string' ? info.message : undefined;
  const num = (k: string): number | undefined => (typeof info[k] === 'number' ? info[k] : undefined);
  const value = num('value');
  const threshold = num('threshold');
  if (rule === undefined || rule === 'user' || value === undefined || threshold === undefined) {
    return message ?? (rule === 'user' ? 'stopped by user' : rule ?? 'stopped');
  }
  const band = num('band');
  const rung = num('rung');
  const at = num('at');
  const where = band !== undefined ? ` at band ${band}` : rung !== undefined ? ` at rung ${rung}` : at !== undefined ? ` after ${at} values` : '';
  const optimistic = num('optimistic');
  if (rule === 'model' && optimistic !== undefined) {
    return `model${where}: predicted final ${formatNumber(value)} (optimistic ${formatNumber(optimistic)}) vs best ${formatNumber(threshold)}`;
  }
  const against = rule === 'median' ? 'median' : 'threshold';
  return `${rule}${where}: ${formatNumber(value)} vs ${against} ${formatNumber(threshold)}`;
}

/** The one-line note beside a run: why it stopped, failed or crashed, or where it runs, and its warnings. */
export function runNote(run: RunSummary): string {
  return [stateNote(run), warningNote(run)].filter((s) => s !== '').join('; ');
}

/**
 * A run's warnings in a few words (`⚠ 3 points refused, data loss: 2 points missing`), or '' when
 * every point it sent was stored. The full messages are in `run.warnings[].message`.
 */
export function warningNote(run: Pick<RunSummary, 'warnings'>): string {
  const plural = (n: number) => (n === 1 ? '' : 's');
  const parts = run.warnings.map((w) =>
    w.kind === 'data_loss' ? `data loss: ${w.count} point${plural(w.count)} missing` : `${w.count} point${plural(w.count)} refused`,
  );
  return parts.length > 0 ? `⚠ ${parts.join(', ')}` : '';
}

function stateNote(run: RunSummary): string {
  const reason = run.reason ?? '';
  switch (run.state) {
    case 'stopped':
      return run.stopInfo ? describeStop(run.stopInfo) : reason;
    case 'running': {
      if (run.stopInfo) return `stopping: ${describeStop(run.stopInfo)}`;
      const where = [run.host, run.gpu !== null ? `gpu ${run.gpu}` : null].filter((s) => s !== null && s !== '').join(' ');
      return where ? `on ${where}` : '';
    }
    case 'failed': {
      if (run.exitCode === null || /exit|signal/i.test(reason)) return reason || 'failed';
      return reason ? `exit ${run.exitCode}: ${reason}` : `exit ${run.exitCode}`;
    }
    case 'crashed':
    case 'canceled':
    case 'preempted':
      return reason;
    case 'queued':
      return run.attempt > 1 ? `attempt ${run.attempt}${reason ? ` (${reason})` : ''}` : '';
    case 'finished':
      return '';
  }
}

/** A color escape sequence (built from a string: the linter rightly frowns on control characters in regex literals). */
const SGR_CODE = `${String.fromCharCode(27)}\\[[0-9;]*m`;

/** Cuts a line that may hold color codes to `width` visible characters, codes left intact. */
export function fitLine(line: string, width: number): string {
  if ([...line.replace(new RegExp(SGR_CODE, 'g'), '')].length <= width) return line;
  let out = '';
  let visible = 0;
  let colored = false;
  for (let i = 0; i < line.length && visible < width - 1; ) {
    const esc = new RegExp(`^${SGR_CODE}`).exec(line.slice(i));
    if (esc) {
      out += esc[0];
      colored = esc[0] !== '\x1b[0m';
      i += esc[0].length;
      continue;
    }
    const ch = String.fromCodePoint(line.codePointAt(i)!);
    out += ch;
    visible++;
    i += ch.length;
  }
  return `${out}…${colored ? '\x1b[0m' : ''}`;
}
