/**
 * The bookkeeping every validation rule shares: collecting errors and warnings with dotted paths,
 * reading typed fields (with PyYAML-era numeric strings coerced, with a warning), and "did you
 * mean" hints. The validator is handwritten rather than a zod schema because W&B's format is an
 * ordered list of alternatives with inference; a schema union would report "no alternative
 * matched" where the user needs "uniform takes min and max, not values".
 */
import type { Issue, JsonValue } from '../types.js';
import { closestMatch } from './closest-match.js';
import { pathKey } from './read-source.js';

export type Path = readonly string[];

/** What a YAML 1.1 parser (PyYAML, hence many W&B files) leaves as a string but means as a number. */
const NUMERIC_STRING = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

export function isMapping(x: unknown): x is Record<string, unknown> {
  return x !== null && typeof x === 'object' && !Array.isArray(x);
}

/** A short description of a value for messages: `"abc"`, `1.5`, `a list`, `a mapping`. */
export function describe(x: unknown): string {
  if (x === null || x === undefined) return 'nothing (null)';
  if (Array.isArray(x)) return 'a list';
  if (typeof x === 'object') return 'a mapping';
  if (typeof x === 'string') return JSON.stringify(x);
  if (typeof x === 'number' || typeof x === 'boolean') return String(x);
  return typeof x;
}

/** `a, b or c` (or `a, b and c` with `conjunction: 'and'`). */
export function listOf(words: readonly string[], conjunction: 'or' | 'and' = 'or'): string {
  if (words.length <= 1) return words.join('');
  return `${words.slice(0, -1).join(', ')} ${conjunction} ${words[words.length - 1]}`;
}

export class IssueCollector {
  readonly errors: Issue[] = [];
  readonly warnings: Issue[];

  constructor(
    /** Numbers written as floats (`pathKey`s); numeric strings coerced here are added. */
    private readonly floats: Set<string>,
    warnings: Issue[] = [],
    /** False for object input, where `1.0` and `1` cannot be told apart. */
    readonly literalNumbers = true,
  ) {
    this.warnings = [...warnings];
  }

  error(path: Path, message: string): undefined {
    this.errors.push({ path: path.join('.'), message });
    return undefined;
  }

  warn(path: Path, message: string): void {
    this.warnings.push({ path: path.join('.'), message });
  }

  /** Whether the number at `path` was written as a float (`1.0`, `1e-5`). */
  isFloat(path: Path): boolean {
    return this.floats.has(pathKey(path));
  }

  /** Reports every key of `obj` outside `allowed`, with a "did you mean" when it looks like a typo. */
  unknownKeys(obj: Record<string, unknown>, path: Path, allowed: readonly string[], what: string): void {
    for (const key of Object.keys(obj)) {
      if (allowed.includes(key)) continue;
      const guess = closestMatch(key, allowed);
      this.error(
        [...path, key],
        `unknown key${guess ? ` (did you mean ${guess}?)` : ''}; ${what} takes ${listOf(allowed, 'and')}`,
      );
    }
  }

  /**
   * A finite number at `obj[key]` (undefined when absent). Numeric strings such as "1e-5" are
   * coerced with a warning. `integer` also refuses numbers written as floats (`3.0`).
   */
  number(obj: Record<string, unknown>, key: string, path: Path, opts: { integer?: boolean } = {}): number | undefined {
    const at = [...path, key];
    const raw = obj[key];
    if (raw === undefined) return undefined;
    let value: number;
    if (typeof raw === 'number') {
      value = raw;
    } else if (typeof raw === 'string' && NUMERIC_STRING.test(raw.trim())) {
      value = Number(raw.trim());
      if (/[.eE]/.test(raw)) this.floats.add(pathKey(at));
      // Store the number back so a second read (inference, then checks) neither re-warns nor differs.
      obj[key] = value;
      this.warn(at, `the string ${JSON.stringify(raw)} was read as the number ${value}; remove the quotes (YAML 1.1 parsers such as PyYAML read 1e-5 as a string, Harrow reads YAML 1.2)`);
    } else {
      return this.error(at, `must be a number (got ${describe(raw)})`);
    }
    if (!Number.isFinite(value)) return this.error(at, `must be a finite number (got ${value})`);
    if (opts.integer && (!Number.isInteger(value) || this.isFloat(at))) {
      return this.error(at, `must be an integer (got ${describe(raw)}); write it without a decimal point, e.g. ${Math.round(value)}`);
    }
    if (opts.integer && !Number.isSafeInteger(value)) return this.error(at, `is too large (got ${value})`);
    return value;
  }

  /** A string at `obj[key]` (undefined when absent). */
  string(obj: Record<string, unknown>, key: string, path: Path, opts: { nonEmpty?: boolean } = {}): string | undefined {
    const raw = obj[key];
    if (raw === undefined) return undefined;
    if (typeof raw !== 'string') {
      return this.error([...path, key], `must be a string (got ${describe(raw)}); quote it if it looks like a number or boolean`);
    }
    if (opts.nonEmpty && raw.trim() === '') return this.error([...path, key], 'must not be empty');
    return raw;
  }

  /** One of `choices` at `obj[key]` (undefined when absent), with a "did you mean". */
  choice<T extends string>(obj: Record<string, unknown>, key: string, path: Path, choices: readonly T[], note = ''): T | undefined {
    const raw = obj[key];
    if (raw === undefined) return undefined;
    if (typeof raw === 'string' && (choices as readonly string[]).includes(raw)) return raw as T;
    const guess = typeof raw === 'string' ? closestMatch(raw, choices) : undefined;
    return this.error(
      [...path, key],
      `must be ${listOf(choices)} (got ${describe(raw)})${guess ? `; did you mean ${guess}?` : ''}${note}`,
    );
  }

  boolean(obj: Record<string, unknown>, key: string, path: Path): boolean | undefined {
    const raw = obj[key];
    if (raw === undefined) return undefined;
    if (typeof raw === 'boolean') return raw;
    return this.error([...path, key], `must be true or false (got ${describe(raw)})`);
  }

  /** Checks that a value is storable JSON (no .inf/.nan, which JSON and Postgres cannot hold). */
  jsonValue(value: unknown, path: Path): value is JsonValue {
    if (typeof value === 'number' && !Number.isFinite(value)) {
      this.error(path, `${value} cannot be stored as a run parameter; write it as a string ("${value}") or use a large finite number`);
      return false;
    }
    if (Array.isArray(value)) return value.map((v, i) => this.jsonValue(v, [...path, String(i)])).every(Boolean);
    if (isMapping(value)) return Object.entries(value).map(([k, v]) => this.jsonValue(v, [...path, k])).every(Boolean);
    return true;
  }
}
