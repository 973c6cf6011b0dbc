/**
 * The `parameters:` block: every W&B parameter form, the 18 distributions with their defaults, the
 * inference rules when `distribution` is omitted, and the checks W&B skips or only warns about
 * (stray keys, min ≥ max, log bounds ≤ 0, probabilities that do not sum to 1, sigma/q ≤ 0, ...).
 */
import type { Distribution, JsonValue, ParameterSpec } from '../types.js';
import type { LeafSpec } from '../space/flatten.js';
import { levelValue, quantizedBounds, quantizedRange } from '../space/leaf-model.js';
import { valueKey } from '../space/value-key.js';
import { closestMatch } from './closest-match.js';
import { describe, isMapping, listOf, type IssueCollector, type Path } from './issue-collector.js';

export const DISTRIBUTIONS: readonly Distribution[] = [
  'constant',
  'categorical',
  'categorical_w_probabilities',
  'int_uniform',
  'uniform',
  'q_uniform',
  'log_uniform',
  'log_uniform_values',
  'q_log_uniform',
  'q_log_uniform_values',
  'inv_log_uniform',
  'inv_log_uniform_values',
  'normal',
  'q_normal',
  'log_normal',
  'q_log_normal',
  'beta',
  'q_beta',
];

/** The keys each distribution takes besides `distribution` (W&B's schema, `additionalProperties: false`). */
export const DISTRIBUTION_KEYS: Record<Distribution, readonly string[]> = {
  constant: ['value'],
  categorical: ['values'],
  categorical_w_probabilities: ['values', 'probabilities'],
  int_uniform: ['min', 'max'],
  uniform: ['min', 'max'],
  log_uniform: ['min', 'max'],
  log_uniform_values: ['min', 'max'],
  inv_log_uniform: ['min', 'max'],
  inv_log_uniform_values: ['min', 'max'],
  q_uniform: ['min', 'max', 'q'],
  q_log_uniform: ['min', 'max', 'q'],
  q_log_uniform_values: ['min', 'max', 'q'],
  normal: ['mu', 'sigma'],
  log_normal: ['mu', 'sigma'],
  q_normal: ['mu', 'sigma', 'q'],
  q_log_normal: ['mu', 'sigma', 'q'],
  beta: ['a', 'b'],
  q_beta: ['a', 'b', 'q'],
};

/** Keys without a default: W&B's schema `required` lists. */
const REQUIRED: Record<Distribution, readonly string[]> = Object.fromEntries(
  DISTRIBUTIONS.map((d) => {
    const keys = DISTRIBUTION_KEYS[d];
    if (keys.includes('min')) return [d, ['min', 'max']];
    if (d === 'constant') return [d, ['value']];
    if (keys.includes('values')) return [d, keys];
    return [d, []];
  }),
) as Record<Distribution, readonly string[]>;

const PARAMETER_KEYS = ['distribution', 'value', 'values', 'probabilities', 'min', 'max', 'q', 'mu', 'sigma', 'a', 'b', 'parameters'];

/**
 * Parameters in one sweep, nested blocks included. Real sweeps have a handful to a few hundred;
 * the bound keeps every per-parameter pass (placeholder lookups, encodings, the GP's dimensions)
 * small whatever a file says.
 */
export const MAX_PARAMETERS = 1000;
/** Values of one `values:` list: a categorical with more is data, not a search space. */
export const MAX_VALUES = 10_000;

/** W&B's parameter-name pattern: dots and hyphens allowed (`model.lr`, `batch-size`). */
export const PARAMETER_NAME = /^[A-Za-z_][A-Za-z0-9_.-]*$/;

/** The quantized counterpart of a distribution, for "q only applies to ..." hints. */
const QUANTIZED: Partial<Record<Distribution, Distribution>> = {
  uniform: 'q_uniform',
  log_uniform: 'q_log_uniform',
  log_uniform_values: 'q_log_uniform_values',
  normal: 'q_normal',
  log_normal: 'q_log_normal',
  beta: 'q_beta',
};

/** A leaf found while validating, with where it sits in the file and in the run's params. */
export interface LeafRecord {
  yamlPath: Path;
  paramPath: readonly string[];
  spec: LeafSpec;
  /** Whether the file wrote `distribution:` (else it was inferred), so errors point at a real key. */
  explicit: boolean;
}

/** A node (leaf or nested block) with its dotted name as `${...}` placeholders see it. */
export interface NodeRecord {
  yamlPath: Path;
  paramPath: readonly string[];
  nested: boolean;
  /** The constant's value when the leaf is a constant (placeholders may reach into it). */
  constant?: JsonValue;
}

export interface ParametersOutput {
  leaves: LeafRecord[];
  nodes: NodeRecord[];
}

export function validateParameters(
  c: IssueCollector,
  raw: unknown,
  yamlPath: Path,
  paramPath: readonly string[],
  out: ParametersOutput,
): { [name: string]: ParameterSpec } | undefined {
  if (!isMapping(raw)) {
    return c.error(yamlPath, `must be a mapping of parameter names to parameters (got ${describe(raw)})`);
  }
  const names = Object.keys(raw);
  if (names.length === 0) {
    return c.error(yamlPath, 'is empty; add at least one parameter, e.g. lr: {values: [0.01, 0.1]}');
  }
  if (out.nodes.length + names.length > MAX_PARAMETERS) {
    return c.error(yamlPath, `holds more than ${MAX_PARAMETERS} parameters in all; search fewer (fix the others with value:, or split the sweep)`);
  }
  const result: { [name: string]: ParameterSpec } = {};
  let ok = true;
  for (const name of names) {
    const at = [...yamlPath, name];
    if (!PARAMETER_NAME.test(name)) {
      c.error(at, badNameMessage(name));
      ok = false;
      continue;
    }
    const spec = validateParameter(c, raw[name], at, [...paramPath, name], out);
    if (spec) Object.defineProperty(result, name, { value: spec, enumerable: true, writable: true, configurable: true });
    else ok = false;
  }
  return ok ? result : undefined;
}

function badNameMessage(name: string): string {
  const allowed = 'names use letters, digits, _, . and - and start with a letter or _';
  if (/\s/.test(name)) return `the parameter name ${JSON.stringify(name)} contains a space; ${allowed} (e.g. ${name.trim().replace(/\s+/g, '_')})`;
  if (name === '') return `a parameter name is empty; ${allowed}`;
  if (name.startsWith('+')) {
    return `the parameter name ${JSON.stringify(name)} starts with +; for Hydra's +name=value or ++name=value use \${args_append_hydra} or \${args_override_hydra} in command and name the parameter ${name.replace(/^\++/, '')}`;
  }
  if (/^[0-9.-]/.test(name)) return `the parameter name ${JSON.stringify(name)} must start with a letter or _; ${allowed}`;
  return `the parameter name ${JSON.stringify(name)} has characters W&B does not allow; ${allowed}`;
}

function validateParameter(
  c: IssueCollector,
  raw: unknown,
  path: Path,
  paramPath: readonly string[],
  out: ParametersOutput,
): ParameterSpec | undefined {
  if (!isMapping(raw)) {
    const hint = Array.isArray(raw)
      ? `to choose among these write values: ${JSON.stringify(raw)}`
      : `for a fixed value write value: ${JSON.stringify(raw)}`;
    out.nodes.push({ yamlPath: path, paramPath, nested: false });
    return c.error(path, `must be a mapping such as {values: [...]} or {min: ..., max: ...} (got ${describe(raw)}); ${hint}`);
  }
  if (Object.hasOwn(raw, 'default') && !Object.hasOwn(raw, 'parameters')) {
    // `default:` is `harrow edit`'s: the value the runs made before the edit ran with, for a
    // parameter the edit adds (spec-edit.ts takes it out before this parser reads the file). In
    // a file read on its own it is known and does nothing: say so, and read the rest.
    c.warn([...path, 'default'], 'read only by `harrow edit` (the value the runs made before the edit ran with, for a parameter the edit adds); creating a sweep ignores it');
    const { default: _default, ...rest } = raw;
    return validateParameter(c, rest, path, paramPath, out);
  }
  const keys = Object.keys(raw);
  // Recorded even when invalid, so the command template is still checked against every name.
  const node: NodeRecord = { yamlPath: path, paramPath, nested: Object.hasOwn(raw, 'parameters') };
  out.nodes.push(node);
  if (keys.length === 0) {
    return c.error(path, 'is empty; give value, values, min and max, or a distribution');
  }

  if (Object.hasOwn(raw, 'parameters')) {
    for (const k of keys) {
      if (k !== 'parameters') {
        c.error([...path, k], `a nested block (parameters:) takes no other keys; move ${k} into one of its parameters or remove it`);
      }
    }
    const nested = validateParameters(c, raw.parameters, [...path, 'parameters'], paramPath, out);
    return nested && keys.length === 1 ? { distribution: 'nested', parameters: nested } : undefined;
  }

  let distribution: Distribution | undefined;
  if (Object.hasOwn(raw, 'distribution')) {
    distribution = c.choice(raw, 'distribution', path, DISTRIBUTIONS);
    if (!distribution) {
      // Still report keys that are unknown to every form.
      c.unknownKeys(raw, path, PARAMETER_KEYS, 'a parameter');
      return undefined;
    }
  } else {
    distribution = infer(c, raw, path, paramPath.length > 1);
    if (!distribution) return undefined;
  }

  const allowed = DISTRIBUTION_KEYS[distribution];
  let stray = false;
  for (const k of keys) {
    if (k === 'distribution' || allowed.includes(k)) continue;
    stray = true;
    if (!PARAMETER_KEYS.includes(k)) {
      const guess = closestMatch(k, [...allowed, 'distribution']);
      c.error([...path, k], `unknown key${guess ? ` (did you mean ${guess}?)` : ''}; ${distribution} takes ${listOf(allowed, 'and')}`);
    } else {
      c.error([...path, k], strayKeyMessage(distribution, k));
    }
  }
  // With a stray key the form is probably wrong as a whole: "min is missing" would be noise.
  if (stray && REQUIRED[distribution].some((k) => !Object.hasOwn(raw, k))) return undefined;
  const spec = build(c, raw, path, distribution);
  if (!spec || stray) return undefined;
  out.leaves.push({ yamlPath: path, paramPath, spec, explicit: Object.hasOwn(raw, 'distribution') });
  if (spec.distribution === 'constant') node.constant = spec.value;
  return spec;
}

/** W&B's inference when `distribution` is omitted. */
function infer(c: IssueCollector, raw: Record<string, unknown>, path: Path, nested: boolean): Distribution | undefined {
  const has = (k: string): boolean => Object.hasOwn(raw, k);
  if (has('values') && has('value')) {
    return c.error(path, 'has both value and values: value is one fixed value, values a list to choose from; keep one');
  }
  if (has('values')) return has('probabilities') ? 'categorical_w_probabilities' : 'categorical';
  if (has('value')) return 'constant';
  if (has('min') || has('max')) {
    if (!has('min')) return c.error([...path, 'min'], 'is missing; a range needs both min and max');
    if (!has('max')) return c.error([...path, 'max'], 'is missing; a range needs both min and max');
    const min = c.number(raw, 'min', path);
    const max = c.number(raw, 'max', path);
    if (min === undefined || max === undefined) return undefined;
    const minInt = Number.isInteger(min) && !c.isFloat([...path, 'min']);
    const maxInt = Number.isInteger(max) && !c.isFloat([...path, 'max']);
    if (minInt && maxInt) return 'int_uniform';
    // An object cannot say 0.0, so one fractional bound there is enough to mean uniform (as W&B's
    // schema reads mixed bounds); in text, W&B's client calls mixed bounds ambiguous.
    if ((!minInt && !maxInt) || !c.literalNumbers) return 'uniform';
    if (nested) {
      // W&B's client checks only top-level parameters; inside a nested block its schema takes
      // mixed bounds as uniform, and so does its agent. Do the same, but say so.
      c.warn(path, `has min (${min}) and max (${max}) written as one integer and one float: read as distribution: uniform (floats), as W&B does inside a nested block; write both as integers for int_uniform`);
      return 'uniform';
    }
    return c.error(
      path,
      `is ambiguous: min (${min}) is written as ${minInt ? 'an integer' : 'a float'} and max (${max}) as ${maxInt ? 'an integer' : 'a float'}; ` +
        `write both as floats (e.g. min: ${min.toFixed(1)}, max: ${max.toFixed(1)}) for uniform, both as integers for int_uniform, or set distribution`,
    );
  }
  if (has('mu') || has('sigma')) {
    return c.error(path, 'mu and sigma need a distribution: add distribution: normal (or log_normal, q_normal, q_log_normal)');
  }
  if (has('a') || has('b')) return c.error(path, 'a and b need a distribution: add distribution: beta (or q_beta)');
  if (has('q')) return c.error(path, 'q needs a quantized distribution: add distribution: q_uniform (or another q_ distribution) with min and max');
  if (has('probabilities')) return c.error(path, 'probabilities need values: list one value per probability under values');
  c.unknownKeys(raw, path, PARAMETER_KEYS, 'a parameter');
  return c.error(path, 'says nothing to sample: give value, values, min and max, or a distribution');
}

function strayKeyMessage(distribution: Distribution, key: string): string {
  const takes = `${distribution} takes ${listOf(DISTRIBUTION_KEYS[distribution], 'and')}, not ${key}`;
  switch (key) {
    case 'values':
      return `${takes}; to choose among listed values remove distribution: ${distribution} (or write distribution: categorical)`;
    case 'value':
      return `${takes}; for one fixed value remove distribution: ${distribution} (or write distribution: constant)`;
    case 'probabilities':
      return distribution === 'categorical'
        ? `${takes}; for weighted choices write distribution: categorical_w_probabilities (or leave distribution out)`
        : takes;
    case 'q': {
      const quantized = QUANTIZED[distribution];
      if (quantized) return `${takes}; q applies to quantized distributions: write distribution: ${quantized}`;
      if (distribution === 'int_uniform') return `${takes}; int_uniform already gives every integer; for a step write distribution: q_uniform with q`;
      return takes;
    }
    case 'min':
    case 'max':
      if (distribution === 'categorical' || distribution === 'categorical_w_probabilities' || distribution === 'constant') {
        return `${takes}; for a range remove ${distribution === 'constant' ? 'value' : 'values'} and use min and max (with a distribution such as uniform or int_uniform)`;
      }
      return `${takes}; ${distribution} is unbounded; for a bounded range use uniform, log_uniform_values or int_uniform`;
    case 'mu':
    case 'sigma':
      return `${takes}; for a normal law write distribution: normal (or log_normal)`;
    case 'a':
    case 'b':
      return `${takes}; for a beta law write distribution: beta`;
    default:
      return takes;
  }
}

function required(c: IssueCollector, raw: Record<string, unknown>, path: Path, distribution: Distribution, keys: string[]): boolean {
  let ok = true;
  for (const k of keys) {
    if (!Object.hasOwn(raw, k)) {
      c.error([...path, k], `is missing; ${distribution} needs ${listOf(keys, 'and')}`);
      ok = false;
    }
  }
  return ok;
}

function fmt(x: number): string {
  return Number(x.toPrecision(6)).toString();
}

/** The distribution-specific checks, producing the normalized leaf. */
function build(c: IssueCollector, raw: Record<string, unknown>, path: Path, distribution: Distribution): LeafSpec | undefined {
  switch (distribution) {
    case 'constant': {
      if (!required(c, raw, path, distribution, ['value'])) return undefined;
      const value = raw.value;
      if (!c.jsonValue(value, [...path, 'value'])) return undefined;
      if (Array.isArray(value)) {
        c.warn([...path, 'value'], 'is a list, so every run gets the whole list; if each item was meant to be tried in turn, write values: instead');
      }
      return { distribution, value };
    }
    case 'categorical':
    case 'categorical_w_probabilities': {
      const keys = distribution === 'categorical' ? ['values'] : ['values', 'probabilities'];
      if (!required(c, raw, path, distribution, keys)) return undefined;
      const values = categoricalValues(c, raw.values, [...path, 'values']);
      if (distribution === 'categorical') return values && { distribution, values };
      const probabilities = probabilitiesOf(c, raw, path, values);
      return values && probabilities && { distribution, values, probabilities };
    }
    case 'int_uniform': {
      if (!required(c, raw, path, distribution, ['min', 'max'])) return undefined;
      const min = integerBound(c, raw, path, 'min');
      const max = integerBound(c, raw, path, 'max');
      if (min === undefined || max === undefined || !ordered(c, path, min, max)) return undefined;
      return { distribution, min, max };
    }
    case 'uniform':
    case 'log_uniform':
    case 'log_uniform_values':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values':
    case 'q_uniform':
    case 'q_log_uniform':
    case 'q_log_uniform_values': {
      if (!required(c, raw, path, distribution, ['min', 'max'])) return undefined;
      const min = c.number(raw, 'min', path);
      const max = c.number(raw, 'max', path);
      const q = distribution.startsWith('q_') ? quantum(c, raw, path) : null;
      if (min === undefined || max === undefined || q === undefined) return undefined;
      if (!logBoundsOk(c, path, distribution, min, max) || !ordered(c, path, min, max)) return undefined;
      deprecation(c, path, distribution, min, max);
      if (q === null) return { distribution: distribution as Exclude<typeof distribution, `q_${string}`>, min, max };
      const spec = { distribution: distribution as Extract<typeof distribution, `q_${string}`>, min, max, ...q };
      quantizedWarnings(c, path, spec);
      return spec;
    }
    case 'normal':
    case 'log_normal':
    case 'q_normal':
    case 'q_log_normal': {
      const mu = c.number(raw, 'mu', path) ?? (Object.hasOwn(raw, 'mu') ? undefined : 0);
      const sigma = positive(c, raw, path, 'sigma', 1, 'for one fixed value write value: instead');
      const q = distribution.startsWith('q_') ? quantum(c, raw, path) : null;
      if (mu === undefined || sigma === undefined || q === undefined) return undefined;
      if (distribution === 'log_normal' || distribution === 'q_log_normal') {
        if (mu + 8 * sigma > 709) c.error([...path, 'mu'], `e^(mu + 8·sigma) overflows; log_normal's mu and sigma are in natural-log units (values are e^N(mu, sigma))`);
      }
      if (q === null) return { distribution: distribution as 'normal' | 'log_normal', mu, sigma };
      return { distribution: distribution as 'q_normal' | 'q_log_normal', mu, sigma, ...q };
    }
    case 'beta':
    case 'q_beta': {
      const a = positive(c, raw, path, 'a', 1, 'Beta(a, b) needs a > 0 and b > 0');
      const b = positive(c, raw, path, 'b', 1, 'Beta(a, b) needs a > 0 and b > 0');
      const q = distribution === 'q_beta' ? quantum(c, raw, path) : null;
      if (a === undefined || b === undefined || q === undefined) return undefined;
      if (q === null) return { distribution: 'beta', a, b };
      const spec = { distribution: 'q_beta' as const, a, b, ...q };
      quantizedWarnings(c, path, spec);
      return spec;
    }
  }
}

function categoricalValues(c: IssueCollector, raw: unknown, path: Path): JsonValue[] | undefined {
  if (!Array.isArray(raw)) {
    return c.error(path, `must be a list (got ${describe(raw)}); for one fixed value write value: ${JSON.stringify(raw)} instead`);
  }
  if (raw.length === 0) return c.error(path, 'is empty; list at least one value');
  if (raw.length > MAX_VALUES) return c.error(path, `lists ${raw.length} values (the limit is ${MAX_VALUES}); a categorical with more is better written as a range (min, max)`);
  if (!raw.map((v, i) => c.jsonValue(v, [...path, String(i)])).every(Boolean)) return undefined;
  const values = raw as JsonValue[];
  const seen = new Set<string>();
  const repeated = new Set<string>();
  for (const v of values) {
    const key = valueKey(v);
    if (seen.has(key)) repeated.add(JSON.stringify(v));
    seen.add(key);
  }
  if (repeated.size > 0) {
    c.warn(path, `lists ${[...repeated].join(', ')} more than once; grid tries each value once, random picks repeated values more often`);
  }
  const numeric = values.filter((v) => typeof v === 'string' && v.trim() !== '' && Number.isFinite(Number(v)));
  if (numeric.length > 0 && numeric.length === values.length) {
    c.warn(path, 'are all strings that look like numbers; remove the quotes if the program expects numbers (${args_json} passes them as strings)');
  }
  return values;
}

function probabilitiesOf(
  c: IssueCollector,
  raw: Record<string, unknown>,
  path: Path,
  values: JsonValue[] | undefined,
): number[] | undefined {
  const at = [...path, 'probabilities'];
  const list = raw.probabilities;
  if (!Array.isArray(list)) return c.error(at, `must be a list of numbers, one per value (got ${describe(list)})`);
  const holder = Object.fromEntries(list.map((v, i) => [String(i), v as unknown]));
  const probabilities: number[] = [];
  let ok = true;
  list.forEach((_, i) => {
    const p = c.number(holder, String(i), at);
    if (p === undefined) ok = false;
    else if (p < 0) {
      c.error([...at, String(i)], `must be ≥ 0 (got ${p})`);
      ok = false;
    } else probabilities.push(p);
  });
  if (!ok) return undefined;
  if (values && list.length !== values.length) {
    return c.error(at, `has ${list.length} entries but values has ${values.length}; give one probability per value`);
  }
  const sum = probabilities.reduce((a, b) => a + b, 0);
  // numpy.isclose(sum, 1), W&B's own test.
  if (Math.abs(sum - 1) > 1e-8 + 1e-5) {
    return c.error(at, `sum to ${fmt(sum)}, not 1; adjust them so they add up to 1`);
  }
  return probabilities;
}

function integerBound(c: IssueCollector, raw: Record<string, unknown>, path: Path, key: 'min' | 'max'): number | undefined {
  const v = c.number(raw, key, path);
  if (v === undefined) return undefined;
  if (!Number.isInteger(v) || c.isFloat([...path, key])) {
    return c.error(
      [...path, key],
      `int_uniform needs integer bounds (got ${v}${Number.isInteger(v) ? ', written as a float' : ''}); write ${Math.round(v)}, or use distribution: uniform for real values`,
    );
  }
  if (!Number.isSafeInteger(v)) return c.error([...path, key], `is too large for an integer bound (got ${v})`);
  return v;
}

function ordered(c: IssueCollector, path: Path, min: number, max: number): boolean {
  if (min < max) return true;
  const hint = min === max ? `; for one fixed value write value: ${min}` : '; did you swap min and max?';
  c.error([...path, 'min'], `must be less than max (min is ${min}, max is ${max})${hint}`);
  return false;
}

function logBoundsOk(c: IssueCollector, path: Path, distribution: Distribution, min: number, max: number): boolean {
  switch (distribution) {
    case 'log_uniform_values':
    case 'inv_log_uniform_values':
    case 'q_log_uniform_values': {
      let ok = true;
      if (!(min > 0)) {
        c.error([...path, 'min'], `${distribution} needs min > 0 (got ${min}); use a small positive bound such as 1e-8`);
        ok = false;
      }
      if (!(max > 0)) {
        c.error([...path, 'max'], `${distribution} needs max > 0 (got ${max}); the bounds of a log scale are positive`);
        ok = false;
      }
      return ok;
    }
    case 'log_uniform':
    case 'q_log_uniform':
      // Exponents: e^max must be a finite number.
      if (max > 709) {
        c.error([...path, 'max'], `e^${max} overflows: ${distribution} takes natural-log exponents; did you mean log_uniform_values with raw bounds?`);
        return false;
      }
      return true;
    case 'inv_log_uniform':
      if (min < -709 || max > 745) {
        c.error([...path, min < -709 ? 'min' : 'max'], `e^-${min < -709 ? min : max} is out of range: inv_log_uniform takes natural-log exponents; did you mean inv_log_uniform_values?`);
        return false;
      }
      return true;
    default:
      return true;
  }
}

/** W&B flags the exponent forms as deprecated; say what the raw-bound form would be. */
function deprecation(c: IssueCollector, path: Path, distribution: Distribution, min: number, max: number): void {
  let lo: number;
  let hi: number;
  let replacement: string;
  switch (distribution) {
    case 'log_uniform':
    case 'q_log_uniform':
      [lo, hi] = [Math.exp(min), Math.exp(max)];
      replacement = distribution === 'log_uniform' ? 'log_uniform_values' : 'q_log_uniform_values';
      break;
    case 'inv_log_uniform':
      [lo, hi] = [Math.exp(-max), Math.exp(-min)];
      replacement = 'inv_log_uniform_values';
      break;
    default:
      return;
  }
  const suspicious = min >= 0 && max <= 1 ? ` (values between ${fmt(lo)} and ${fmt(hi)} are rarely what is meant: did you write raw bounds?)` : '';
  const exponents = distribution === 'inv_log_uniform' ? `[e^-${max}, e^-${min}]` : `[e^${min}, e^${max}]`;
  c.warn(
    [...path, 'distribution'],
    `${distribution} is deprecated in W&B: min and max are natural-log exponents, so values lie in ${exponents} = [${fmt(lo)}, ${fmt(hi)}]${suspicious}; ` +
      `write distribution: ${replacement}, min: ${fmt(lo)}, max: ${fmt(hi)} for the same law`,
  );
}

/** `q` (> 0, default 1.0) and whether it was written as an integer (W&B casts results to int then). */
function quantum(c: IssueCollector, raw: Record<string, unknown>, path: Path): { q: number; qIsInteger: boolean } | undefined {
  if (!Object.hasOwn(raw, 'q')) return { q: 1, qIsInteger: false };
  const q = c.number(raw, 'q', path);
  if (q === undefined) return undefined;
  if (!(q > 0)) return c.error([...path, 'q'], `must be > 0 (got ${q}); q is the step values are rounded to, e.g. q: 0.1`);
  return { q, qIsInteger: Number.isInteger(q) && !c.isFloat([...path, 'q']) };
}

function positive(c: IssueCollector, raw: Record<string, unknown>, path: Path, key: string, fallback: number, hint: string): number | undefined {
  if (!Object.hasOwn(raw, key)) return fallback;
  const v = c.number(raw, key, path);
  if (v === undefined) return undefined;
  if (!(v > 0)) return c.error([...path, key], `must be > 0 (got ${v}); ${hint}`);
  return v;
}

type QuantizedLeaf = Extract<LeafSpec, { q: number }>;

/** Levels that leave [min, max], or a single level, surprise people; W&B does the same silently. */
function quantizedWarnings(c: IssueCollector, path: Path, spec: QuantizedLeaf): void {
  const bounds = quantizedBounds(spec);
  if (!bounds) return;
  const [lo, hi] = bounds;
  const [kLo, kHi] = quantizedRange(lo, hi, spec.q);
  const first = levelValue(kLo, spec.q, spec.qIsInteger);
  const last = levelValue(kHi, spec.q, spec.qIsInteger);
  if (kLo === kHi) {
    c.warn(path, `rounds every value to ${first} (q = ${spec.q} is as wide as the range); use a smaller q or value: ${first}`);
    return;
  }
  const tol = 1e-9 * Math.max(spec.q, Math.abs(lo), Math.abs(hi));
  const outside: string[] = [];
  if (first < lo - tol) outside.push(`${first} (below ${fmt(lo)})`);
  if (last > hi + tol) outside.push(`${last} (above ${fmt(hi)})`);
  if (outside.length > 0) {
    c.warn(
      path,
      `values are rounded to multiples of q = ${spec.q}, so they include ${outside.join(' and ')}, as in W&B; make the bounds multiples of q to stay within them`,
    );
  }
}
