/**
 * Editing a sweep's spec while it runs (`harrow edit`): which edits the runs made so far can
 * support, what each edit changes, and the defaults earlier runs take for added parameters.
 *
 * Supported: widen or narrow a range, change values, add a parameter (with `default:`, the value
 * earlier runs are taken to have had), drop one, change run_cap (not below the runs made), early
 * termination, the metric's target, and the other settings. Refused, with the reason: changing
 * the method, the metric's name or goal (every recorded value would mean something else), a
 * parameter's type so that no old value can be a new one (categorical strings to a numeric range),
 * adding a parameter without a default, `harrow.warm_start` (it applies when a sweep is created).
 */
import type { JsonValue, SweepSpec } from '../types.js';
import { flattenParameters, type LeafSpec } from '../space/flatten.js';
import { paramsIssues } from '../space/encode-space.js';
import { valueKey } from '../space/value-key.js';

export interface SpecEdit {
  /** The new spec, with `harrow.paramDefaults` for every parameter earlier runs lacked. */
  spec: SweepSpec;
  /** What changed, one line each (`parameters.lr: uniform [0, 0.1] → uniform [0, 0.3]`). */
  changes: string[];
}

export class SpecEditError extends Error {
  override readonly name = 'SpecEditError';
  constructor(readonly reasons: string[]) {
    super(reasons.length === 1 ? reasons[0]! : `${reasons.length} problems: ${reasons.join('; ')}`);
  }
}

const isMapping = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x);

/**
 * Takes the `default:` keys out of a sweep file's parameters (a key the sweep format does not
 * have: it only means something to an edit), by dotted parameter name.
 */
export function extractDefaults(config: Record<string, unknown>): { config: Record<string, unknown>; defaults: Record<string, JsonValue> } {
  const copy = structuredClone(config);
  const defaults: Record<string, JsonValue> = {};
  const walk = (block: unknown, prefix: string): void => {
    if (!isMapping(block)) return;
    for (const [name, p] of Object.entries(block)) {
      if (!isMapping(p)) continue;
      const path = prefix === '' ? name : `${prefix}.${name}`;
      if ('default' in p) {
        defaults[path] = p.default as JsonValue;
        delete p.default;
      }
      if (isMapping(p.parameters)) walk(p.parameters, path);
    }
  };
  walk(copy.parameters, '');
  return { config: copy, defaults };
}

const NUMERIC = new Set(['int_uniform', 'uniform', 'q_uniform', 'log_uniform', 'log_uniform_values', 'q_log_uniform', 'q_log_uniform_values', 'inv_log_uniform', 'inv_log_uniform_values', 'normal', 'q_normal', 'log_normal', 'q_log_normal', 'beta', 'q_beta']);

function typeOf(v: JsonValue): string {
  return v === null ? 'null' : Array.isArray(v) ? 'list' : typeof v === 'object' ? 'mapping' : typeof v;
}

/** The kinds of value a leaf can take. */
function valueTypes(spec: LeafSpec): Set<string> {
  if (NUMERIC.has(spec.distribution)) return new Set(['number']);
  if (spec.distribution === 'constant') return new Set([typeOf(spec.value)]);
  if (spec.distribution === 'categorical' || spec.distribution === 'categorical_w_probabilities') return new Set(spec.values.map(typeOf));
  return new Set();
}

function describeLeaf(spec: LeafSpec): string {
  const s = spec as Record<string, unknown>;
  switch (spec.distribution) {
    case 'constant':
      return `constant ${JSON.stringify(spec.value)}`;
    case 'categorical':
    case 'categorical_w_probabilities':
      return `values ${JSON.stringify(spec.values)}`;
    default:
      if ('min' in s) return `${spec.distribution} [${String(s.min)}, ${String(s.max)}]${'q' in s ? ` q=${String(s.q)}` : ''}`;
      if ('mu' in s) return `${spec.distribution} mu=${String(s.mu)} sigma=${String(s.sigma)}`;
      return `${spec.distribution} a=${String(s.a)} b=${String(s.b)}`;
  }
}

/** Equal as JSON, whatever the key order (a stored spec comes back from jsonb with its keys reordered). */
const same = (a: unknown, b: unknown): boolean => valueKey(JSON.parse(JSON.stringify(a ?? null)) as JsonValue) === valueKey(JSON.parse(JSON.stringify(b ?? null)) as JsonValue);

/** A single-leaf space, to check one value with the same rules as whole configurations. */
function leafIssues(spec: LeafSpec, value: JsonValue): string | null {
  const issues = paramsIssues({ parameters: { v: spec } }, { v: value });
  return issues.length === 0 ? null : issues[0]!.message;
}

/**
 * Checks an edit of `old` into `next` (both parsed), given the `default:`s the new file set and
 * how many runs the sweep has made. Throws SpecEditError with every reason an edit is refused.
 */
export function checkSpecEdit(old: SweepSpec, next: SweepSpec, defaults: Readonly<Record<string, JsonValue>>, made: number): SpecEdit {
  const refused: string[] = [];
  const changes: string[] = [];
  if (old.method !== next.method) {
    refused.push(`method cannot change (${old.method} → ${next.method}): the runs so far were chosen by ${old.method}; create a new sweep with harrow: {warm_start: {from: SWEEP_ID}} to start ${next.method} from them`);
  }
  if (old.metric && !next.metric) refused.push(`metric cannot be removed: the runs so far are scored by ${old.metric.name}`);
  else if (old.metric && next.metric) {
    if (old.metric.name !== next.metric.name) {
      refused.push(`metric.name cannot change (${old.metric.name} → ${next.metric.name}): every recorded value is a value of ${old.metric.name}; create a new sweep with harrow: {warm_start: {from: SWEEP_ID}} instead`);
    }
    if (old.metric.goal !== next.metric.goal) refused.push(`metric.goal cannot change (${old.metric.goal} → ${next.metric.goal}): the best run and every decision so far assume ${old.metric.goal}`);
    if (old.metric.target !== next.metric.target) changes.push(`metric.target: ${old.metric.target ?? 'none'} → ${next.metric.target ?? 'none'}`);
    if (old.metric.impute !== next.metric.impute || old.metric.imputeWhileRunning !== next.metric.imputeWhileRunning) changes.push('metric.impute changed');
  } else if (!old.metric && next.metric) changes.push(`metric: none → ${next.metric.name} (${next.metric.goal}); runs so far logged it or not`);

  const before = new Map(flattenParameters(old.parameters).map((l) => [l.name, l.spec]));
  const after = new Map(flattenParameters(next.parameters).map((l) => [l.name, l.spec]));
  const paramDefaults: Record<string, JsonValue> = {};
  for (const [name, spec] of after) {
    const prev = before.get(name);
    if (!prev) {
      const d = defaults[name] ?? old.harrow.paramDefaults?.[name];
      if (d === undefined) {
        refused.push(`parameters.${name} is new: give it a default (parameters: {${name.split('.').pop()}: {..., default: VALUE}}), the value the ${made} run${made === 1 ? '' : 's'} made so far ran with, so they can still be compared`);
        continue;
      }
      if (!valueTypes(spec).has(typeOf(d))) {
        refused.push(`parameters.${name}.default: ${JSON.stringify(d)} is a ${typeOf(d)}, but ${name} takes ${[...valueTypes(spec)].join(' or ')} values`);
        continue;
      }
      paramDefaults[name] = d;
      const outside = leafIssues(spec, d);
      changes.push(`parameters.${name}: added (${describeLeaf(spec)}), earlier runs taken as ${JSON.stringify(d)}${outside ? ` (outside the new range: they are excluded from the model)` : ''}`);
      continue;
    }
    if (defaults[name] !== undefined) refused.push(`parameters.${name}.default: only a parameter the edit adds takes a default (${name} exists already)`);
    if (old.harrow.paramDefaults?.[name] !== undefined) paramDefaults[name] = old.harrow.paramDefaults[name]!;
    if (same(prev, spec)) continue;
    const shared = [...valueTypes(prev)].filter((t) => valueTypes(spec).has(t));
    if (shared.length === 0) {
      refused.push(
        `parameters.${name}: ${describeLeaf(prev)} → ${describeLeaf(spec)} changes its type (${[...valueTypes(prev)].join('/')} → ${[...valueTypes(spec)].join('/')}): no value of the runs so far can be a value of the new parameter; add it under a new name with a default, and drop this one`,
      );
      continue;
    }
    changes.push(`parameters.${name}: ${describeLeaf(prev)} → ${describeLeaf(spec)}`);
  }
  for (const [name, spec] of before) if (!after.has(name)) changes.push(`parameters.${name}: dropped (was ${describeLeaf(spec)})`);

  if (next.runCap !== old.runCap) {
    if (next.runCap !== undefined && next.runCap < made) refused.push(`run_cap ${next.runCap} is below the ${made} runs made already: give at least ${made}`);
    else changes.push(`run_cap: ${old.runCap ?? 'none'} → ${next.runCap ?? 'none'}`);
  }
  if (!same(old.earlyTerminate, next.earlyTerminate)) changes.push(`early_terminate: ${old.earlyTerminate?.type ?? 'none'} → ${next.earlyTerminate?.type ?? 'none'}${old.earlyTerminate?.type === next.earlyTerminate?.type ? ' (settings changed)' : ''}`);
  if (!same(old.harrow.warmStart, next.harrow.warmStart) && next.harrow.warmStart !== undefined) {
    refused.push('harrow.warm_start applies when a sweep is created; import results into this sweep with harrow warm-start SWEEP FILE (or remove the key, or keep it as it was)');
  }
  const settings: Array<[string, unknown, unknown]> = [
    ['command', old.command, next.command],
    ['program', old.program, next.program],
    ['harrow.retry', old.harrow.retry, next.harrow.retry],
    ['harrow.bayes', old.harrow.bayes, next.harrow.bayes],
    ['harrow.run_timeout', old.harrow.runTimeout, next.harrow.runTimeout],
    ['harrow.budget', old.harrow.budget, next.harrow.budget],
    ['harrow.pause_on_failures', old.harrow.pauseOnFailures, next.harrow.pauseOnFailures],
    ['harrow.fail_on', old.harrow.failOn, next.harrow.failOn],
    ['harrow.seed', old.harrow.seed, next.harrow.seed],
  ];
  for (const [key, a, b] of settings) if (!same(a, b)) changes.push(`${key} changed`);

  if (refused.length > 0) throw new SpecEditError(refused);
  if (changes.length === 0) throw new SpecEditError(['the new file changes nothing that matters to the sweep (names, descriptions and formatting aside); edit a range, a parameter, run_cap, early_terminate or metric.target']);
  const { paramDefaults: _drop, warmStart: _ws, ...harrow } = next.harrow;
  void _drop;
  void _ws;
  const spec: SweepSpec = {
    ...next,
    harrow: {
      ...harrow,
      ...(old.harrow.warmStart ? { warmStart: old.harrow.warmStart } : {}),
      ...(Object.keys(paramDefaults).length > 0 ? { paramDefaults } : {}),
    },
  };
  return { spec, changes };
}
