/**
 * The line protocol of training programs (DESIGN decision 7). A line is metrics when it is
 *
 * - only `name=value` pairs separated by whitespace, every value a number (`nan`, `inf`,
 *   `-inf`, `infinity` allowed, any case), names starting with a letter or `_`
 *   (`loss=0.31 acc=0.9 step=12`), or
 * - one JSON object whose numeric fields are the metrics (`{"loss": 0.31, "step": 12}`),
 *   including the bare `NaN`, `Infinity`, `-Infinity` tokens Python's `json.dumps` writes.
 *
 * `step` (or `_step`) gives the step and is never a metric. Anything else is plain output.
 */

import { MAX_INT32, MAX_METRIC_NAME, metricNameProblem } from '../protocol/wire.js';

/** Longest metric name the wire contract carries. */
export { MAX_METRIC_NAME };

export interface MetricValue {
  name: string;
  /** May be NaN or ±Infinity (a diverged loss is worth reporting). */
  value: number;
}

export interface ParsedMetrics {
  /** The step the line named, or null when the agent should assign the next one. */
  step: number | null;
  values: MetricValue[];
  /** Why some of the line was not used (shown once per run by the agent). */
  warnings: string[];
}

const STEP_KEYS = new Set(['step', '_step']);
const NAME = /^[A-Za-z_][^\s=]*$/;
const DECIMAL = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const NON_FINITE = /^([+-]?)(nan|inf|infinity)$/i;

/** Parses one line (without its newline); returns null when the line is plain output. */
export function parseMetricLine(line: string): ParsedMetrics | null {
  const text = line.trim();
  if (text.length === 0) return null;
  if (text.startsWith('{') && text.endsWith('}')) return parseJsonLine(text);
  return parsePairsLine(text);
}

/** A number written in a `name=value` pair, or null when it is not one. */
export function parseNumber(text: string): number | null {
  if (DECIMAL.test(text)) {
    const n = Number(text);
    return Number.isNaN(n) ? null : n;
  }
  const m = NON_FINITE.exec(text);
  if (!m) return null;
  if (m[2]!.toLowerCase() === 'nan') return NaN;
  return m[1] === '-' ? -Infinity : Infinity;
}

function parsePairsLine(text: string): ParsedMetrics | null {
  const entries: Array<[string, number]> = [];
  for (const token of text.split(/\s+/)) {
    const eq = token.indexOf('=');
    if (eq <= 0) return null;
    const name = token.slice(0, eq);
    if (!NAME.test(name)) return null;
    const value = parseNumber(token.slice(eq + 1));
    if (value === null) return null;
    entries.push([name, value]);
  }
  return collect(entries);
}

function parseJsonLine(text: string): ParsedMetrics | null {
  const parsed = parseJsonAllowingNonFinite(text);
  if (parsed === undefined || parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return null;
  const entries: Array<[string, number]> = [];
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (typeof value === 'number') entries.push([name, value]);
  }
  return collect(entries);
}

/** Shared by both forms: split off the step, check names; null when no metric is left. */
function collect(entries: Array<[string, number]>): ParsedMetrics | null {
  const warnings: string[] = [];
  let step: number | null = null;
  let stepProblem: string | null = null;
  const byName = new Map<string, number>();
  for (const [name, value] of entries) {
    if (STEP_KEYS.has(name)) {
      // The controller stores steps as 32-bit integers: a larger one is refused here, with the line.
      if (Number.isSafeInteger(value) && value >= 0 && value <= MAX_INT32) step = value;
      else stepProblem = `${name} must be a whole number from 0 to ${MAX_INT32} (got ${value}); the line's metrics were ignored`;
      continue;
    }
    if (name.length > MAX_METRIC_NAME) {
      warnings.push(`metric name '${name.slice(0, 40)}…' is longer than ${MAX_METRIC_NAME} characters; ignored`);
      continue;
    }
    // The same rule the controller applies (protocol/wire.ts): a name it could not store is
    // dropped here, alone, with a warning the user sees, instead of being refused later.
    const problem = metricNameProblem(name);
    if (problem !== null) {
      warnings.push(`metric ${JSON.stringify(name.slice(0, 40))}: ${problem}; ignored`);
      continue;
    }
    byName.set(name, value);
  }
  if (byName.size === 0 && warnings.length === 0 && stepProblem === null) return null;
  if (stepProblem !== null) return { step: null, values: [], warnings: [...warnings, stepProblem] };
  return { step, values: [...byName].map(([name, value]) => ({ name, value })), warnings };
}

const SENTINEL = '\u0000harrow:';
const TOKEN_VALUES: Record<string, number> = { NaN: NaN, Infinity: Infinity, '-Infinity': -Infinity };

/**
 * JSON.parse that also accepts the bare NaN/Infinity/-Infinity tokens Python writes for
 * non-finite floats; undefined when the text is not JSON even then.
 */
export function parseJsonAllowingNonFinite(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    if (!text.includes('NaN') && !text.includes('Infinity')) return undefined;
  }
  // Rewrite the tokens to sentinel strings outside string literals, then map them back.
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') {
        out += text[i + 1] ?? '';
        i++;
      } else if (c === '"') {
        inString = false;
      }
      continue;
    }
    if (c === '"') {
      inString = true;
      out += c;
      continue;
    }
    const token = ['-Infinity', 'Infinity', 'NaN'].find((t) => text.startsWith(t, i));
    if (token !== undefined) {
      out += JSON.stringify(SENTINEL + token);
      i += token.length - 1;
      continue;
    }
    out += c;
  }
  try {
    return JSON.parse(out, (_key, value: unknown) =>
      typeof value === 'string' && value.startsWith(SENTINEL) ? TOKEN_VALUES[value.slice(SENTINEL.length)] : value,
    ) as unknown;
  } catch {
    return undefined;
  }
}
