/**
 * `validateSweepConfig`: the whole W&B sweep format plus Harrow's `harrow:` block, checked strictly
 * with every problem reported at once, and normalized into a `SweepSpec` when valid.
 *
 * Where W&B only warns or silently does something surprising (an unknown key, `goal: maximise`
 * turning into minimize, a typo'd macro vanishing, a grid over a continuous parameter), Harrow
 * refuses with the path and a fix. Where W&B accepts something Harrow cannot honour (`controller:
 * local`, `scheduler`, `metrics`, Launch's `job`), Harrow says so instead of ignoring it.
 */
import type {
  AshaSpec,
  BayesSpec,
  BudgetSpec,
  WarmStartSpec,
  EarlyTerminateSpec,
  FailOnRule,
  HyperbandSpec,
  Impute,
  Issue,
  MedianSpec,
  Method,
  MetricSpec,
  ModelStopSpec,
  PauseOnFailuresSpec,
  RetrySpec,
  RunTimeoutSpec,
  SweepSpec,
} from '../types.js';
import { checkCommandTemplate, defaultCommand } from '../command/command-template.js';
import { pyNumber } from '../command/python-format.js';
import { lookupParam } from '../command/render-command.js';
import { PRIOR_PRESETS } from '../bayes/priors.js';
import { hyperbandBands } from '../early-terminate/bands.js';
import { MODEL_STOP_DEFAULT_AT, MODEL_STOP_DEFAULT_Z } from '../early-terminate/model-stop-rule.js';
import { leafCount } from '../space/leaf-model.js';
import { validateBudget, validateRunTimeout } from './budget-limits.js';
import { validateWarmStart } from './warm-start.js';
import { closestMatch } from './closest-match.js';
import { DEFAULT_FAIL_ON, DEFAULT_PAUSE_ON_FAILURES } from './failure-policy.js';
import { describe, isMapping, IssueCollector, type Path } from './issue-collector.js';
import { readSource } from './read-source.js';
import { validateParameters, type LeafRecord, type NodeRecord, type ParametersOutput } from './validate-parameters.js';

export interface ValidationResult {
  valid: boolean;
  errors: Issue[];
  warnings: Issue[];
  /** The normalized sweep, when valid. */
  spec?: SweepSpec;
}

/** More GPUs than any one box holds (16 on the largest NVLink systems): surely a typo. */
const MAX_GPUS_PER_RUN = 64;

const TOP_LEVEL_KEYS = [
  'method',
  'metric',
  'parameters',
  'early_terminate',
  'run_cap',
  'program',
  'command',
  'name',
  'description',
  'entity',
  'project',
  'apiVersion',
  'kind',
  'controller',
  'harrow',
] as const;

/** W&B keys Harrow does not run, with what to do instead. */
const UNSUPPORTED_KEYS: Record<string, string> = {
  metrics:
    'multi-objective sweeps (metrics:, W&B method: custom) are not supported by Harrow; optimize one metric with metric: {name: ..., goal: ...}',
  scheduler:
    'external schedulers (scheduler:, W&B\'s Optuna/Ax hook) are not supported by Harrow; remove scheduler and use method: bayes, random or grid',
  job: 'W&B Launch jobs (job:) are not supported by Harrow; set program (and command if needed) and run harrow agent on your machines',
  image_uri:
    'W&B Launch images (image_uri:) are not supported by Harrow; run harrow agent inside the image and set program/command',
};

const METHODS: readonly Method[] = ['grid', 'random', 'bayes'];
const IMPUTES: readonly Impute[] = ['worst', 'best', 'latest'];

/** Grids beyond this size get a warning: they are rarely meant (W&B users hit 13k-cell grids). */
export const LARGE_GRID = 100_000;
/**
 * Runs one sweep may ever start (run_cap, grid cells): run numbers are 32-bit integers where they
 * are stored, and at a run a second this is 68 years.
 */
export const MAX_RUNS = 2 ** 31 - 1;
/** Hyperband's s: W&B's min_iter mode uses 100 bands, and more cannot change a decision. */
export const MAX_HYPERBAND_S = 100;

export function validateSweepConfig(input: unknown): ValidationResult {
  const read = readSource(input);
  if (!read.ok) return { valid: false, errors: read.issues, warnings: [] };
  const c = new IssueCollector(read.floats, read.warnings, read.literalNumbers);
  const spec = validateTop(c, read.value);
  if (c.errors.length > 0 || !spec) return { valid: false, errors: c.errors, warnings: c.warnings };
  spec.warnings = c.warnings;
  return { valid: true, errors: [], warnings: c.warnings, spec };
}

function validateTop(c: IssueCollector, raw: unknown): SweepSpec | undefined {
  if (!isMapping(raw)) {
    return c.error([], `the sweep config must be a mapping of keys such as method and parameters (got ${describe(raw)})`);
  }
  for (const key of Object.keys(raw)) {
    if ((TOP_LEVEL_KEYS as readonly string[]).includes(key)) continue;
    // hasOwn: a key such as __proto__ or constructor must not find Object.prototype's members.
    const unsupported = Object.hasOwn(UNSUPPORTED_KEYS, key) ? UNSUPPORTED_KEYS[key] : undefined;
    if (unsupported) {
      c.error([key], unsupported);
      continue;
    }
    const guess = closestMatch(key, TOP_LEVEL_KEYS);
    c.error(
      [key],
      `unknown top-level key${guess ? ` (did you mean ${guess}?)` : ''}; the keys are ${TOP_LEVEL_KEYS.join(', ')} (Harrow's own settings go under harrow:)`,
    );
  }

  const method = validateMethod(c, raw);
  const metric = raw.metric === undefined ? undefined : validateMetric(c, raw.metric);

  const out: ParametersOutput = { leaves: [], nodes: [] };
  const parameters =
    raw.parameters === undefined
      ? c.error(['parameters'], 'is missing; list what to search, e.g. parameters: {lr: {min: 0.0001, max: 0.1}}')
      : validateParameters(c, raw.parameters, ['parameters'], [], out);
  if (parameters) checkDottedNames(c, out.nodes);

  const hyperband = raw.early_terminate === undefined ? undefined : validateHyperband(c, raw.early_terminate, ['early_terminate']);
  const harrow = validateHarrow(c, raw.harrow);
  if (raw.early_terminate !== undefined && harrow.earlyTerminatePresent) {
    c.error(
      ['harrow', 'early_terminate'],
      'give one early-termination rule: W&B\'s early_terminate (hyperband) or harrow.early_terminate (asha, median or model), not both',
    );
  }
  const earlyTerminate: EarlyTerminateSpec | undefined = hyperband ?? harrow.earlyTerminate;
  if (harrow.earlyTerminate?.type === 'model') {
    if (method !== undefined && method !== 'bayes') {
      c.error(
        ['harrow', 'early_terminate', 'type'],
        `model stops runs on the Bayesian strategy's learning-curve model, so it needs method: bayes (this sweep is method: ${method}); use method: bayes, or type: asha or median`,
      );
    } else if (harrow.bayes?.multiFidelity === false) {
      c.error(
        ['harrow', 'bayes', 'multi_fidelity'],
        'is false but harrow.early_terminate type: model learns from the curves of ended runs (the same model): remove multi_fidelity: false (type: model turns it on), or use type: asha or median',
      );
    } else if (method === 'bayes') {
      // The model stops runs: the GP must then learn from their curves, not impute them as the worst.
      harrow.bayes = { ...harrow.bayes, multiFidelity: true };
    }
  }
  if (harrow.bayesPresent && method !== undefined && method !== 'bayes') {
    c.error(['harrow', 'bayes'], `only applies to method: bayes (this sweep is method: ${method}); remove harrow.bayes, or use method: bayes`);
  }

  let runCap = positiveInteger(c, raw, 'run_cap', [], 'the largest number of runs the sweep starts, e.g. run_cap: 50');
  if (runCap !== undefined && runCap > MAX_RUNS) runCap = c.error(['run_cap'], `must be at most ${MAX_RUNS} (got ${runCap}); leave run_cap out for no limit`);
  const design = harrow.bayes?.initialDesign;
  if (design !== undefined && runCap !== undefined && design >= runCap) {
    c.warn(
      ['harrow', 'bayes', 'initial_design'],
      `is ${design} but run_cap is ${runCap}: every run will come from the quasi-random design and the GP never proposes; lower initial_design or raise run_cap`,
    );
  }
  const program = c.string(raw, 'program', [], { nonEmpty: true });
  const name = c.string(raw, 'name', []);
  const description = c.string(raw, 'description', []);
  const entity = c.string(raw, 'entity', []);
  const project = c.string(raw, 'project', []);
  c.string(raw, 'apiVersion', []);
  if (raw.kind !== undefined && raw.kind !== 'sweep') c.error(['kind'], `must be sweep (got ${describe(raw.kind)}); it can also be left out`);
  validateController(c, raw.controller);

  // Cross-field rules.
  const needsMetric = [method === 'bayes' ? 'method: bayes' : '', earlyTerminate || raw.early_terminate !== undefined || harrow.earlyTerminatePresent ? 'early termination' : '']
    .filter(Boolean);
  if (needsMetric.length > 0 && raw.metric === undefined) {
    c.error(['metric'], `is missing but ${needsMetric.join(' and ')} needs a metric to compare runs; add metric: {name: val_loss, goal: minimize}`);
  }
  if (parameters && method === 'bayes' && out.leaves.every((l) => leafCount(l.spec) === 1)) {
    if (out.leaves.every((l) => l.spec.distribution === 'constant')) {
      // W&B's bayes refuses this too ("Need at least one searchable parameter").
      c.error(['parameters'], 'has nothing to search: method: bayes needs at least one parameter that varies (values, a range or a distribution)');
    } else {
      // A one-item values: list is searchable for W&B, whose bayes then reruns the one configuration.
      c.warn(['parameters'], `every parameter has a single value, so there is one configuration: method: bayes reruns it for every run, as W&B does${raw.run_cap === undefined ? '; set run_cap to bound the sweep' : ''}`);
    }
  }
  // Valid leaves are checked even when others are broken; the size only means something when all are valid.
  if (method === 'grid') checkGrid(c, out.leaves, parameters !== undefined);
  const command = validateCommand(c, raw, program !== undefined, isMapping(raw.parameters) ? out.nodes : null);

  if (c.errors.length > 0 || !method || !parameters || !command) return undefined;
  const spec: SweepSpec = {
    method,
    parameters,
    command,
    harrow: {
      retry: harrow.retry,
      pauseOnFailures: harrow.pauseOnFailures,
      failOn: harrow.failOn,
      ...(harrow.seed !== undefined ? { seed: harrow.seed } : {}),
      ...(harrow.bayes !== undefined ? { bayes: harrow.bayes } : {}),
      ...(harrow.runTimeout !== undefined ? { runTimeout: harrow.runTimeout } : {}),
      ...(harrow.budget !== undefined ? { budget: harrow.budget } : {}),
      ...(harrow.warmStart !== undefined ? { warmStart: harrow.warmStart } : {}),
      ...(harrow.gpusPerRun !== undefined ? { gpusPerRun: harrow.gpusPerRun } : {}),
    },
    warnings: [],
  };
  if (metric) spec.metric = metric;
  if (earlyTerminate) spec.earlyTerminate = earlyTerminate;
  if (runCap !== undefined) spec.runCap = runCap;
  if (program !== undefined) spec.program = program;
  if (name !== undefined) spec.name = name;
  if (description !== undefined) spec.description = description;
  if (entity !== undefined) spec.entity = entity;
  if (project !== undefined) spec.project = project;
  return spec;
}

function validateMethod(c: IssueCollector, raw: Record<string, unknown>): Method | undefined {
  if (raw.method === undefined) return c.error(['method'], 'is missing; add method: random (or grid, bayes)');
  if (raw.method === 'custom') {
    return c.error(['method'], 'custom (W&B\'s external-scheduler method) is not supported by Harrow; use random, grid or bayes');
  }
  return c.choice(raw, 'method', [], METHODS);
}

function validateMetric(c: IssueCollector, raw: unknown): MetricSpec | undefined {
  const path = ['metric'];
  if (!isMapping(raw)) {
    const hint = typeof raw === 'string' ? ` such as metric: {name: ${raw}, goal: minimize}` : ' such as metric: {name: val_loss, goal: minimize}';
    return c.error(path, `must be a mapping${hint} (got ${describe(raw)})`);
  }
  c.unknownKeys(raw, path, ['name', 'goal', 'target', 'impute', 'impute_while_running'], 'metric');
  const name = raw.name === undefined ? c.error([...path, 'name'], 'is missing; the name the program logs, e.g. name: val_loss') : c.string(raw, 'name', path, { nonEmpty: true });
  const goal = c.choice(raw, 'goal', path, ['minimize', 'maximize'] as const, ' (W&B would silently replace an unknown goal with minimize)');
  const target = c.number(raw, 'target', path);
  const impute = c.choice(raw, 'impute', path, IMPUTES);
  let imputeWhileRunning: MetricSpec['imputeWhileRunning'] = false;
  const iwr = raw.impute_while_running;
  if (iwr !== undefined && iwr !== false && iwr !== 'false') {
    const v = c.choice(raw, 'impute_while_running', path, IMPUTES, ' or false');
    if (v) imputeWhileRunning = v;
  }
  const bad = c.errors.some((e) => e.path === 'metric' || e.path.startsWith('metric.'));
  if (bad || name === undefined) return undefined;
  const metric: MetricSpec = { name, goal: goal ?? 'minimize', impute: impute ?? 'worst', imputeWhileRunning };
  if (target !== undefined) metric.target = target;
  return metric;
}

function positiveInteger(c: IssueCollector, raw: Record<string, unknown>, key: string, path: Path, hint: string): number | undefined {
  const v = c.number(raw, key, path, { integer: true });
  if (v === undefined) return undefined;
  if (v <= 0) return c.error([...path, key], `must be an integer > 0 (got ${v}); ${hint}`);
  return v;
}

function validateHyperband(c: IssueCollector, raw: unknown, path: Path): HyperbandSpec | undefined {
  if (!isMapping(raw)) return c.error(path, `must be a mapping such as {type: hyperband, min_iter: 3} (got ${describe(raw)})`);
  if (raw.type === 'asha' || raw.type === 'median') {
    return c.error([...path, 'type'], `${raw.type} is a Harrow extension: put it under harrow: {early_terminate: {type: ${raw.type}, ...}}`);
  }
  if (raw.type === undefined) return c.error([...path, 'type'], 'is missing; W&B\'s early termination is type: hyperband');
  const type = c.choice(raw, 'type', path, ['hyperband'] as const, ' (asha and median go under harrow.early_terminate)');
  c.unknownKeys(raw, path, ['type', 'min_iter', 'max_iter', 's', 'eta', 'strict'], 'hyperband');
  const minIter = positiveInteger(c, raw, 'min_iter', path, 'the first band, in logged values of the metric');
  const maxIter = positiveInteger(c, raw, 'max_iter', path, 'the last band, in logged values of the metric');
  let s = positiveInteger(c, raw, 's', path, 'the number of bands below max_iter');
  if (s !== undefined && s > MAX_HYPERBAND_S) s = c.error([...path, 's'], `must be at most ${MAX_HYPERBAND_S} (got ${s}); more bands than that cannot change a decision`);
  const eta = c.number(raw, 'eta', path) ?? (Object.hasOwn(raw, 'eta') ? undefined : 3);
  const strict = c.boolean(raw, 'strict', path) ?? true;
  if (eta !== undefined && !(eta > 1)) c.error([...path, 'eta'], `must be > 1 (got ${eta}); runs in the top 1/eta continue, e.g. eta: 3`);
  const has = (k: string): boolean => Object.hasOwn(raw, k);
  if (has('max_iter') && !has('s')) c.error([...path, 's'], 'is missing: max_iter needs s, the number of bands below it (e.g. s: 2), or use min_iter instead');
  if (has('s') && !has('max_iter') && !has('min_iter')) c.error([...path, 'max_iter'], 'is missing: s counts bands below max_iter; add max_iter, or use min_iter instead');
  if (has('s') && !has('max_iter') && has('min_iter')) c.warn([...path, 's'], 'is ignored without max_iter (as in W&B); the bands come from min_iter');
  if (!has('max_iter') && !has('min_iter') && !has('s')) c.error(path, 'needs min_iter (e.g. min_iter: 3), or max_iter with s');
  if (has('max_iter') && has('s') && has('min_iter')) {
    c.warn([...path, 'min_iter'], 'is ignored: with max_iter and s given, W&B computes the bands from max_iter and s; remove one of the two forms');
  }
  const here = path.join('.');
  if (c.errors.some((e) => e.path === here || e.path.startsWith(`${here}.`)) || type === undefined || eta === undefined) return undefined;
  const useMax = maxIter !== undefined && s !== undefined;
  const bands = hyperbandBands(useMax ? { maxIter, s, eta } : { minIter: minIter!, eta });
  if (bands.length === 0) {
    return c.error(path, `no band can be formed: max_iter / eta (${maxIter} / ${eta}) is below 1; increase max_iter, or decrease eta`);
  }
  const spec: HyperbandSpec = { type: 'hyperband', bands, eta, strict };
  if (useMax) {
    spec.maxIter = maxIter;
    spec.s = s;
  } else spec.minIter = minIter;
  return spec;
}

interface HarrowBlock {
  seed?: number;
  retry: RetrySpec;
  pauseOnFailures: PauseOnFailuresSpec;
  failOn: FailOnRule[];
  earlyTerminate?: AshaSpec | MedianSpec | ModelStopSpec;
  earlyTerminatePresent: boolean;
  bayes?: BayesSpec;
  bayesPresent: boolean;
  runTimeout?: RunTimeoutSpec;
  budget?: BudgetSpec;
  warmStart?: WarmStartSpec;
  gpusPerRun?: number;
}

function validateHarrow(c: IssueCollector, raw: unknown): HarrowBlock {
  const block: HarrowBlock = {
    retry: { maxAttempts: 3, on: ['crashed'] },
    pauseOnFailures: { ...DEFAULT_PAUSE_ON_FAILURES },
    failOn: DEFAULT_FAIL_ON.map((r) => ({ ...r })),
    earlyTerminatePresent: false,
    bayesPresent: false,
  };
  if (raw === undefined) return block;
  const path = ['harrow'];
  const keys = ['seed', 'retry', 'pause_on_failures', 'fail_on', 'early_terminate', 'bayes', 'run_timeout', 'budget', 'warm_start', 'gpus_per_run'];
  if (!isMapping(raw)) {
    c.error(path, `must be a mapping of Harrow settings (${keys.join(', ')}) (got ${describe(raw)})`);
    return block;
  }
  c.unknownKeys(raw, path, keys, 'harrow');
  const seed = c.number(raw, 'seed', path, { integer: true });
  if (seed !== undefined) block.seed = seed;
  if (raw.retry !== undefined) {
    const retry = validateRetry(c, raw.retry, [...path, 'retry']);
    if (retry) block.retry = retry;
  }
  if (raw.pause_on_failures !== undefined) {
    const pause = validatePauseOnFailures(c, raw.pause_on_failures, [...path, 'pause_on_failures']);
    if (pause) block.pauseOnFailures = pause;
  }
  if (raw.fail_on !== undefined) {
    const failOn = validateFailOn(c, raw.fail_on, [...path, 'fail_on']);
    if (failOn) block.failOn = failOn;
  }
  if (raw.early_terminate !== undefined) {
    block.earlyTerminatePresent = true;
    const rule = validateHarrowRule(c, raw.early_terminate, [...path, 'early_terminate']);
    if (rule) block.earlyTerminate = rule;
  }
  if (raw.bayes !== undefined) {
    block.bayesPresent = true;
    const bayes = validateBayes(c, raw.bayes, [...path, 'bayes']);
    if (bayes) block.bayes = bayes;
  }
  if (raw.run_timeout !== undefined) {
    const limit = validateRunTimeout(c, raw.run_timeout, [...path, 'run_timeout']);
    if (limit) block.runTimeout = limit;
  }
  if (raw.budget !== undefined) {
    const budget = validateBudget(c, raw.budget, [...path, 'budget']);
    if (budget) block.budget = budget;
  }
  if (raw.warm_start !== undefined) {
    const warmStart = validateWarmStart(c, raw.warm_start, [...path, 'warm_start']);
    if (warmStart) block.warmStart = warmStart;
  }
  if (raw.gpus_per_run !== undefined) {
    const gpus = c.number(raw, 'gpus_per_run', path);
    if (gpus !== undefined) {
      if (Number.isInteger(gpus) && gpus >= 1 && gpus <= MAX_GPUS_PER_RUN && !c.isFloat([...path, 'gpus_per_run'])) block.gpusPerRun = gpus;
      else c.error([...path, 'gpus_per_run'], `must be a whole number of GPUs from 1 to ${MAX_GPUS_PER_RUN} (got ${gpus}): each run sees that many of its agent's GPUs in CUDA_VISIBLE_DEVICES, e.g. gpus_per_run: 2`);
    }
  }
  return block;
}

/** `harrow.bayes`: the Bayesian optimizer's tuning; only the keys the file sets are kept. */
function validateBayes(c: IssueCollector, raw: unknown, path: Path): BayesSpec | undefined {
  if (!isMapping(raw)) return c.error(path, `must be a mapping such as {prior: hvarfner, deterministic: true, initial_design: 8, trust_region: false} (got ${describe(raw)})`);
  c.unknownKeys(raw, path, ['prior', 'deterministic', 'initial_design', 'trust_region', 'failures', 'multi_fidelity'], 'bayes');
  const prior = c.choice(raw, 'prior', path, PRIOR_PRESETS, ' (the lengthscale prior: optuna, the default, or hvarfner for more than ~10 parameters or rugged objectives)');
  const deterministic = c.boolean(raw, 'deterministic', path);
  const initialDesign = validateInitialDesign(c, raw, path);
  const trustRegion = c.boolean(raw, 'trust_region', path);
  const failures = c.choice(raw, 'failures', path, ['model', 'avoid', 'classifier-only', 'impute'] as const, ' (model, the default, learns where runs fail; avoid also refuses configurations likely to fail; impute scores failures per metric.impute only, as W&B does)');
  const multiFidelity = c.boolean(raw, 'multi_fidelity', path);
  const spec: BayesSpec = {};
  if (prior !== undefined) spec.prior = prior;
  if (deterministic !== undefined) spec.deterministic = deterministic;
  if (initialDesign !== undefined) spec.initialDesign = initialDesign;
  if (trustRegion !== undefined) spec.trustRegion = trustRegion;
  if (failures !== undefined) spec.failures = failures;
  if (multiFidelity !== undefined) spec.multiFidelity = multiFidelity;
  return spec;
}

/** An integer ≥ 1 (a non-number gets the shared "must be a number"); a wrong number is told the default. */
function validateInitialDesign(c: IssueCollector, raw: Record<string, unknown>, path: Path): number | undefined {
  const v = c.number(raw, 'initial_design', path);
  if (v === undefined) return undefined;
  const at = [...path, 'initial_design'];
  if (Number.isSafeInteger(v) && v >= 1 && !c.isFloat(at)) return v;
  const fix = Number.isInteger(v) && v >= 1 ? `; write it without a decimal point, initial_design: ${v}` : '';
  return c.error(
    at,
    `must be an integer ≥ 1 (got ${v})${fix}: the number of quasi-random (Sobol) runs before the GP takes over, e.g. initial_design: 8; left out, it is clamp(2d, 5, 10) for the d parameters that vary, at most run_cap/5 and never below 5`,
  );
}

function validateRetry(c: IssueCollector, raw: unknown, path: Path): RetrySpec | undefined {
  if (!isMapping(raw)) return c.error(path, `must be a mapping such as {max_attempts: 3, on: [crashed]} (got ${describe(raw)})`);
  c.unknownKeys(raw, path, ['max_attempts', 'on'], 'retry');
  const maxAttempts = positiveInteger(c, raw, 'max_attempts', path, 'attempts in all, counting the first; 1 means never retry');
  let on: RetrySpec['on'] = ['crashed'];
  if (raw.on !== undefined) {
    if (!Array.isArray(raw.on)) {
      c.error([...path, 'on'], `must be a list drawn from crashed and failed (got ${describe(raw.on)})`);
    } else {
      const states = new Set<'crashed' | 'failed'>();
      (raw.on as unknown[]).forEach((s, i) => {
        if (s === 'crashed' || s === 'failed') states.add(s);
        else {
          const guess = typeof s === 'string' ? closestMatch(s, ['crashed', 'failed']) : undefined;
          c.error([...path, 'on', String(i)], `must be crashed (lost heartbeat) or failed (non-zero exit) (got ${describe(s)})${guess ? `; did you mean ${guess}?` : ''}`);
        }
      });
      on = [...states];
    }
  }
  return { maxAttempts: maxAttempts ?? 3, on };
}

/** `harrow.pause_on_failures`: `false`, or `{first, consecutive}`, each an integer ≥ 1 or false. */
function validatePauseOnFailures(c: IssueCollector, raw: unknown, path: Path): PauseOnFailuresSpec | undefined {
  if (raw === false) return { first: null, consecutive: null };
  const example = 'such as {first: 3, consecutive: 5}, or false to never pause on failures';
  if (!isMapping(raw)) return c.error(path, `must be a mapping ${example} (got ${describe(raw)})`);
  c.unknownKeys(raw, path, ['first', 'consecutive'], 'pause_on_failures');
  const rule = (key: 'first' | 'consecutive', what: string): number | null | undefined => {
    const v = raw[key];
    if (v === undefined) return DEFAULT_PAUSE_ON_FAILURES[key];
    if (v === false) return null;
    if (typeof v === 'number' && Number.isSafeInteger(v) && v >= 1 && !c.isFloat([...path, key])) return v;
    return c.error([...path, key], `must be an integer ≥ 1 or false (got ${describe(v)}): ${what}`);
  };
  const first = rule('first', 'pause when this many first runs to end all failed or crashed');
  const consecutive = rule('consecutive', 'pause when this many runs in a row failed or crashed');
  if (first === undefined || consecutive === undefined) return undefined;
  return { first, consecutive };
}

/**
 * `harrow.fail_on`: a list of regular expressions (or `{pattern, name}` mappings) matched against
 * the lines of a failed run's output; it replaces the default (out-of-memory messages), so `[]`
 * turns the policy off.
 */
function validateFailOn(c: IssueCollector, raw: unknown, path: Path): FailOnRule[] | undefined {
  if (!Array.isArray(raw)) {
    return c.error(path, `must be a list of regular expressions, such as ['CUDA out of memory', {pattern: 'NCCL error', name: 'NCCL failure'}] (got ${describe(raw)})`);
  }
  const rules: FailOnRule[] = [];
  (raw as unknown[]).forEach((item, i) => {
    const at = [...path, String(i)];
    let pattern: string | undefined;
    let name = 'output matched fail_on';
    if (typeof item === 'string') pattern = item;
    else if (isMapping(item)) {
      c.unknownKeys(item, at, ['pattern', 'name'], 'fail_on entry');
      pattern = c.string(item, 'pattern', at, { nonEmpty: true });
      if (item.pattern === undefined) c.error([...at, 'pattern'], 'is missing: the regular expression to look for in the output');
      name = c.string(item, 'name', at, { nonEmpty: true }) ?? name;
    } else {
      c.error(at, `must be a regular expression (a string) or {pattern, name} (got ${describe(item)})`);
      return;
    }
    if (pattern === undefined) return;
    if (pattern.trim() === '') {
      c.error(at, 'must not be empty: an empty pattern matches every line');
      return;
    }
    try {
      new RegExp(pattern);
    } catch (err) {
      c.error(typeof item === 'string' ? at : [...at, 'pattern'], `is not a valid regular expression: ${(err as Error).message}`);
      return;
    }
    rules.push({ pattern, name });
  });
  return rules;
}

function validateHarrowRule(c: IssueCollector, raw: unknown, path: Path): AshaSpec | MedianSpec | ModelStopSpec | undefined {
  if (!isMapping(raw)) return c.error(path, `must be a mapping such as {type: asha}, {type: median} or {type: model} (got ${describe(raw)})`);
  if (raw.type === 'hyperband') {
    return c.error([...path, 'type'], 'hyperband is W&B\'s rule: write it as the top-level early_terminate: {type: hyperband, ...}');
  }
  if (raw.type === undefined) return c.error([...path, 'type'], 'is missing; use type: asha, type: median or type: model');
  const type = c.choice(raw, 'type', path, ['asha', 'median', 'model'] as const);
  if (type === 'asha') {
    c.unknownKeys(raw, path, ['type', 'grace_period', 'eta', 'max_iter', 'min_runs_per_rung'], 'asha');
    const gracePeriod = positiveInteger(c, raw, 'grace_period', path, 'the first rung, in logged values of the metric') ?? 1;
    const eta = c.number(raw, 'eta', path) ?? 3;
    if (!(eta > 1)) c.error([...path, 'eta'], `must be > 1 (got ${eta}); the top 1/eta of each rung continue, e.g. eta: 3`);
    const maxIter = positiveInteger(c, raw, 'max_iter', path, 'the last rung, in logged values of the metric');
    if (maxIter !== undefined && maxIter < gracePeriod) {
      c.error([...path, 'max_iter'], `must be ≥ grace_period (${gracePeriod}) (got ${maxIter})`);
    }
    const minRunsPerRung = positiveInteger(c, raw, 'min_runs_per_rung', path, 'runs a rung needs before it decides') ?? 3;
    const spec: AshaSpec = { type: 'asha', gracePeriod, eta, minRunsPerRung };
    if (maxIter !== undefined) spec.maxIter = maxIter;
    return spec;
  }
  if (type === 'median') {
    c.unknownKeys(raw, path, ['type', 'min_steps', 'min_runs'], 'median');
    const minSteps = positiveInteger(c, raw, 'min_steps', path, 'logged values before a run can be stopped') ?? 3;
    const minRuns = positiveInteger(c, raw, 'min_runs', path, 'other runs needed at that step') ?? 5;
    return { type: 'median', minSteps, minRuns };
  }
  if (type === 'model') return validateModelStop(c, raw, path);
  return undefined;
}

/** `harrow.early_terminate: {type: model, z, at}`; the method and multi_fidelity are checked by the caller. */
function validateModelStop(c: IssueCollector, raw: Record<string, unknown>, path: Path): ModelStopSpec | undefined {
  c.unknownKeys(raw, path, ['type', 'z', 'at'], 'model');
  const errorsBefore = c.errors.length;
  const z = c.number(raw, 'z', path) ?? MODEL_STOP_DEFAULT_Z;
  if (!(z >= 0)) {
    c.error(
      [...path, 'z'],
      `must be ≥ 0 (got ${z}): a run is stopped when its predicted final value, z standard deviations on the optimistic side, is still worse than the best finished run; z: ${MODEL_STOP_DEFAULT_Z} (the default) stops at P(beating it) < 5%, z: 0 when the prediction itself is worse`,
    );
  }
  let at = [...MODEL_STOP_DEFAULT_AT];
  if (raw.at !== undefined) {
    const example = `e.g. at: [${MODEL_STOP_DEFAULT_AT.join(', ')}]`;
    if (!Array.isArray(raw.at) || raw.at.length === 0) {
      c.error([...path, 'at'], `must be a non-empty list of logged-value counts at which a run is judged, ascending (got ${describe(raw.at)}); ${example}`);
    } else {
      const list = raw.at as unknown[];
      list.forEach((v, i) => {
        if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 1) {
          c.error([...path, 'at', String(i)], `must be an integer ≥ 1 (got ${describe(v)}): a count of logged values of the metric; ${example}`);
        } else if (i > 0 && typeof list[i - 1] === 'number' && v <= (list[i - 1] as number)) {
          c.error([...path, 'at', String(i)], `must be greater than the entry before it (${String(list[i - 1])}): list the counts ascending, each once; ${example}`);
        }
      });
      at = list as number[];
    }
  }
  if (c.errors.length > errorsBefore) return undefined;
  return { type: 'model', z, at };
}

function validateController(c: IssueCollector, raw: unknown): void {
  if (raw === undefined) return;
  if (!isMapping(raw)) {
    c.error(['controller'], `must be a mapping such as {type: cloud} (got ${describe(raw)})`);
    return;
  }
  c.unknownKeys(raw, ['controller'], ['type'], 'controller');
  if (raw.type === 'local') {
    c.error(['controller', 'type'], 'local (W&B\'s client-side controller) is not supported: Harrow\'s server always controls the sweep; remove controller');
  } else if (raw.type === 'cloud' || raw.type === undefined) {
    c.warn(['controller'], 'is ignored: Harrow\'s server always controls the sweep (the same as W&B\'s type: cloud)');
  } else {
    c.choice(raw, 'type', ['controller'], ['cloud', 'local'] as const);
  }
}

/** Dotted names of `${...}` placeholders must be unambiguous: `a.b` cannot be both a name and a path. */
function checkDottedNames(c: IssueCollector, nodes: NodeRecord[]): void {
  const seen = new Map<string, NodeRecord>();
  for (const node of nodes) {
    const dotted = node.paramPath.join('.');
    const other = seen.get(dotted);
    if (other) {
      c.error(
        node.yamlPath,
        `the name ${dotted} is also the path of ${other.yamlPath.join('.')}, so a run would have both params["${dotted}"] and a nested ${dotted}; rename one`,
      );
    } else seen.set(dotted, node);
  }
}

function checkGrid(c: IssueCollector, leaves: LeafRecord[], complete: boolean): void {
  let size = 1;
  let gridable = true;
  for (const leaf of leaves) {
    const d = leaf.spec.distribution;
    if (d === 'categorical_w_probabilities') {
      c.error(
        [...leaf.yamlPath, 'probabilities'],
        'a grid tries every value once, so probabilities mean nothing there; remove probabilities, or use method: random',
      );
      gridable = false;
    } else if (d === 'constant' || d === 'categorical' || d === 'int_uniform' || d === 'q_uniform') {
      size *= leafCount(leaf.spec);
    } else {
      c.error(
        leaf.explicit ? [...leaf.yamlPath, 'distribution'] : leaf.yamlPath,
        `a grid needs a finite list of values, and ${d} is ${d.startsWith('q_') ? 'not evenly spaced between bounds' : 'continuous'}; use values: [...], int_uniform, or q_uniform with a q (or method: random)`,
      );
      gridable = false;
    }
  }
  if (!gridable || !complete) return;
  if (size > MAX_RUNS) {
    c.error(['parameters'], `the grid has about ${size.toExponential(2)} cells, more than can ever run (at most ${MAX_RUNS}); use method: random or bayes, or fewer values`);
  } else if (size > LARGE_GRID) {
    c.warn(['parameters'], `the grid has ${size} cells; at one minute per run that is ${Math.round(size / 60 / 24)} GPU-days. Consider method: random with run_cap`);
  }
}

/** A tree of parameter names for `${...}` lookups: leaves are `true` (or a constant's value). */
function placeholderTree(nodes: NodeRecord[]): Record<string, never> {
  const root: Record<string, unknown> = {};
  for (const node of nodes) {
    let cur = root;
    node.paramPath.forEach((key, i) => {
      const last = i === node.paramPath.length - 1;
      if (last && !node.nested) {
        Object.defineProperty(cur, key, { value: node.constant ?? true, enumerable: true, configurable: true, writable: true });
      } else {
        if (!Object.hasOwn(cur, key) || !isMapping(cur[key])) {
          Object.defineProperty(cur, key, { value: {}, enumerable: true, configurable: true, writable: true });
        }
        cur = cur[key] as Record<string, unknown>;
      }
    });
  }
  return root as Record<string, never>;
}

function validateCommand(c: IssueCollector, raw: Record<string, unknown>, hasProgram: boolean, nodes: NodeRecord[] | null): string[] | undefined {
  let command: string[];
  const explicit = raw.command !== undefined;
  if (!explicit) {
    command = defaultCommand();
  } else if (!Array.isArray(raw.command)) {
    const hint = typeof raw.command === 'string' ? `; split it into a list, e.g. command: [${raw.command.split(/\s+/).filter(Boolean).map((s) => JSON.stringify(s)).join(', ')}]` : '';
    return c.error(['command'], `must be a list of argv elements (got ${describe(raw.command)})${hint}`);
  } else if (raw.command.length === 0) {
    c.warn(['command'], 'is empty, so the default ${env} ${interpreter} ${program} ${args} is used (as in W&B)');
    command = defaultCommand();
  } else {
    command = [];
    let ok = true;
    raw.command.forEach((el, i) => {
      if (typeof el === 'string') command.push(el);
      else if (typeof el === 'number' && Number.isFinite(el)) command.push(pyNumber(el));
      else if (typeof el === 'boolean') {
        // W&B's agent passes str(element): a YAML true becomes the text True.
        const text = el ? 'True' : 'False';
        command.push(text);
        c.warn(['command', String(i)], `is the boolean ${String(el)}, passed as the text ${text} (as W&B's agent does); quote it ("${String(el)}") to pass it in lower case`);
      } else {
        c.error(['command', String(i)], `must be a string (got ${describe(el)}); quote it`);
        ok = false;
      }
    });
    if (!ok) return undefined;
  }
  if (nodes === null) return command;
  const tree = placeholderTree(nodes);
  const problems = checkCommandTemplate(command, {
    hasProgram,
    hasParam: (ref) => lookupParam(tree, ref) !== undefined,
    paramNames: nodes.map((n) => n.paramPath.join('.')),
  });
  let errors = 0;
  for (const p of problems) {
    if (!explicit && p.message.startsWith('${program}')) {
      // W&B's function-agent sweeps have no program: train() is called in the agent's process.
      c.warn(
        ['program'],
        'is missing, so only a function agent can run this sweep (harrow.agent(sweep_id, function=train) or wandb.agent(..., function=train) in Python); `harrow agent` refuses it. Add program: train.py to run a script',
      );
    } else {
      c.error(['command', String(p.index)], p.message);
      errors++;
    }
  }
  return errors > 0 ? undefined : command;
}
