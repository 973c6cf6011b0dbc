/**
 * The shared vocabulary of `strategies/`: the normalized sweep spec, observations, proposals and
 * the unit-cube encoding the Bayesian strategy works in. Pure types, no runtime code.
 *
 * Everything in `strategies/` is a function of (spec, seed, history): no I/O, no clock, no
 * `Math.random`. The controller, `harrow preview` and the benchmarks all call the same code.
 */
import type { PriorPreset } from './bayes/priors.js';

/** Any value a YAML/JSON sweep file can hold. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** A run's parameters: nested objects shaped like the sweep file's `parameters` block. */
export type Params = { [name: string]: JsonValue };

/** One `{ path, message }` problem; `path` is dotted (`parameters.lr.min`, `metric.goal`). */
export interface Issue {
  path: string;
  message: string;
}

export type Method = 'grid' | 'random' | 'bayes';
export type Goal = 'minimize' | 'maximize';
export type Impute = 'worst' | 'best' | 'latest';

export interface MetricSpec {
  name: string;
  goal: Goal;
  /** Once any run reaches this value, no new runs start. */
  target?: number;
  /** How failed, crashed and stopped runs are scored for the Bayesian strategy. Default `worst`. */
  impute: Impute;
  /** W&B's `impute_while_running`; `false` means running runs are pending, not observations. */
  imputeWhileRunning: false | Impute;
}

/** The 18 W&B distribution names. */
export type Distribution =
  | 'constant'
  | 'categorical'
  | 'categorical_w_probabilities'
  | 'int_uniform'
  | 'uniform'
  | 'q_uniform'
  | 'log_uniform'
  | 'log_uniform_values'
  | 'q_log_uniform'
  | 'q_log_uniform_values'
  | 'inv_log_uniform'
  | 'inv_log_uniform_values'
  | 'normal'
  | 'q_normal'
  | 'log_normal'
  | 'q_log_normal'
  | 'beta'
  | 'q_beta';

/**
 * A normalized parameter: every default filled in, the distribution resolved (inferred when the
 * file omitted it). Discriminated by `distribution`; `nested` is a `parameters:` block.
 */
export type ParameterSpec =
  | { distribution: 'constant'; value: JsonValue }
  | { distribution: 'categorical'; values: JsonValue[] }
  | { distribution: 'categorical_w_probabilities'; values: JsonValue[]; probabilities: number[] }
  | { distribution: 'int_uniform'; min: number; max: number }
  | {
      distribution:
        | 'uniform'
        | 'log_uniform'
        | 'log_uniform_values'
        | 'inv_log_uniform'
        | 'inv_log_uniform_values';
      min: number;
      max: number;
    }
  | {
      distribution: 'q_uniform' | 'q_log_uniform' | 'q_log_uniform_values';
      min: number;
      max: number;
      q: number;
      /** W&B casts quantized values to integers only when `q` was written as an integer. */
      qIsInteger: boolean;
    }
  | { distribution: 'normal' | 'log_normal'; mu: number; sigma: number }
  | { distribution: 'q_normal' | 'q_log_normal'; mu: number; sigma: number; q: number; qIsInteger: boolean }
  | { distribution: 'beta'; a: number; b: number }
  | { distribution: 'q_beta'; a: number; b: number; q: number; qIsInteger: boolean }
  | { distribution: 'nested'; parameters: { [name: string]: ParameterSpec } };

/** W&B's hyperband rule (top-level `early_terminate`). */
export interface HyperbandSpec {
  type: 'hyperband';
  /** The iteration counts (logged values of the metric) at which runs are compared, ascending. */
  bands: number[];
  eta: number;
  strict: boolean;
  minIter?: number;
  maxIter?: number;
  s?: number;
}

/** Asynchronous successive halving (Harrow extension, under `harrow.early_terminate`). */
export interface AshaSpec {
  type: 'asha';
  /** Rungs at gracePeriod·eta^k logged values of the metric. */
  gracePeriod: number;
  eta: number;
  /** Rungs stop at maxIter when given. */
  maxIter?: number;
  /** A rung decides only once it holds at least this many values (counting the run itself). */
  minRunsPerRung: number;
}

/** The median stopping rule (Harrow extension, under `harrow.early_terminate`). */
export interface MedianSpec {
  type: 'median';
  /** No decision before a run has logged this many values of the metric. */
  minSteps: number;
  /** No decision until this many other runs have values at that step. */
  minRuns: number;
}

/**
 * Model-based stopping (Harrow extension, under `harrow.early_terminate`; `method: bayes` only):
 * at each of `at` logged values, a running run is stopped when the multi-fidelity curve model's
 * prediction of its final value, `z` posterior standard deviations on the optimistic side, is
 * still worse than the best value a finished run logged (strategies/early-terminate/model-stop-rule.ts).
 */
export interface ModelStopSpec {
  type: 'model';
  /** Optimism of the bound: the run continues while P(beating the best finished run) ≥ Φ(−z). */
  z: number;
  /** The iteration counts (logged values of the metric) at which a run is judged, ascending. */
  at: number[];
}

/** The rules judged from the curves alone, synchronously as points arrive (`EarlyTerminator`). */
export type CurveRuleSpec = HyperbandSpec | AshaSpec | MedianSpec;

export type EarlyTerminateSpec = CurveRuleSpec | ModelStopSpec;

/** How runs are retried; a Harrow extension under `harrow.retry`. */
export interface RetrySpec {
  /** Attempts in all, including the first. */
  maxAttempts: number;
  /** Which end states trigger a retry. `crashed` (infrastructure) by default; `failed` is a user fault. */
  on: Array<'crashed' | 'failed'>;
}

/**
 * When runs that keep failing pause the sweep (`harrow.pause_on_failures`): after the first
 * `first` runs that ended all failed or crashed, or after `consecutive` such runs in a row,
 * counted since the sweep last started or resumed. `null` turns a rule off.
 */
export interface PauseOnFailuresSpec {
  first: number | null;
  consecutive: number | null;
}

/**
 * A failure policy read from a failed run's output (`harrow.fail_on`): when a line of the output
 * tail matches `pattern` (a JavaScript regular expression), the run is failed with the reason
 * `<name>: <line>` and never retried (the same configuration would fail the same way).
 */
export interface FailOnRule {
  pattern: string;
  name: string;
}

/**
 * Tuning of the Bayesian optimizer (`harrow.bayes`, only with `method: bayes`). Only what the file
 * sets is present; `createBayesStrategy` fills the rest with the strategy's defaults.
 */
export interface BayesSpec {
  /** Lengthscale prior preset: `optuna` (the default) or `hvarfner` (many dimensions, rugged objectives). */
  prior?: PriorPreset;
  /** Pin the GP noise at its 1e-6 floor: the objective is known to be noise-free. Default false. */
  deterministic?: boolean;
  /**
   * Runs of the quasi-random (Sobol) design before the GP takes over, an integer ≥ 1, used as
   * given. Default clamp(2d, 5, 10) for d searched dimensions, at most run_cap/5, never below 5.
   */
  initialDesign?: number;
  /**
   * Search each proposal inside a trust region around the best run so far, which shrinks while
   * runs stop improving and restarts when it gets small (TuRBO). Default true; false searches
   * the whole space every time.
   */
  trustRegion?: boolean;
  /**
   * Failed and crashed runs: `model` (default) learns where runs fail with a feasibility
   * classifier and weighs proposals by P(not failing); `avoid` also refuses proposals whose
   * P(not failing) is below 0.95; `impute` gives them a value per metric.impute (W&B's behaviour).
   */
  failures?: 'model' | 'avoid' | 'classifier-only' | 'impute';
  /**
   * Learn from stopped runs' learning curves (`multi_fidelity: true`): a GP over (configuration,
   * budget) gives each stopped run its predicted final value instead of `metric.impute`, and the
   * controller passes `Observation.curve`. Default false.
   */
  multiFidelity?: boolean;
}

/** `harrow.run_timeout`, e.g. `2h`: the limit in milliseconds and as written (for the stop reason). */
export interface RunTimeoutSpec {
  ms: number;
  text: string;
}

/**
 * `harrow.budget`: `{run_hours: 10}` (wall-clock time of every attempt) or `{gpu_hours: 8}` (that
 * time multiplied by the GPUs the attempt held).
 */
export interface BudgetSpec {
  unit: 'run_hours' | 'gpu_hours';
  limit: number;
}

/**
 * `harrow.warm_start`: `{from: SWEEP_ID}` (that sweep's ended runs) or `{file: results.csv}` (a W&B
 * or MLflow export, uploaded by `harrow create`); `prior_runs` keeps only the listed run ids (W&B's
 * `prior_runs`: existing runs attached to the sweep).
 */
export interface WarmStartSpec {
  from?: string;
  file?: string;
  priorRuns?: string[];
}

/** The normalized sweep: what `parseSweepConfig` returns and what the controller stores. */
export interface SweepSpec {
  method: Method;
  metric?: MetricSpec;
  parameters: { [name: string]: ParameterSpec };
  earlyTerminate?: EarlyTerminateSpec;
  runCap?: number;
  program?: string;
  /** The argv template, W&B's default `${env} ${interpreter} ${program} ${args}` when omitted. */
  command: string[];
  name?: string;
  description?: string;
  entity?: string;
  project?: string;
  /** Harrow's extensions: everything W&B does not have lives under the `harrow:` key. */
  harrow: {
    seed?: number;
    retry: RetrySpec;
    /** Filled in by `parseSweepConfig`; specs stored by older versions lack it and get the default. */
    pauseOnFailures?: PauseOnFailuresSpec;
    /** Filled in by `parseSweepConfig`; specs stored by older versions lack it and get the default. */
    failOn?: FailOnRule[];
    /** The Bayesian optimizer's tuning (`harrow.bayes`); present only when the file has the block. */
    bayes?: BayesSpec;
    /** `harrow.run_timeout`: a run still running this long after its attempt started is stopped. */
    runTimeout?: RunTimeoutSpec;
    /** `harrow.budget`: the sweep finishes once this much run time has been spent. */
    budget?: BudgetSpec;
    /** `harrow.warm_start`: results the sweep starts from (another sweep's, or an exported file's). */
    warmStart?: WarmStartSpec;
    /**
     * Values that runs made before a parameter was added (by `harrow edit`) are taken to have had,
     * by dotted parameter name. Set by edits, never by the file itself.
     */
    paramDefaults?: { [name: string]: JsonValue };
    /** `harrow.gpus_per_run`: GPUs each run gets from an agent started with `--gpus` (1 when absent). */
    gpusPerRun?: number;
  };
  /** Non-fatal findings (deprecated forms, coerced values), each `{ path, message }`. */
  warnings: Issue[];
}

export type ObservationState = 'finished' | 'failed' | 'crashed' | 'stopped' | 'canceled';

/** A run that has ended, as a strategy sees it. */
export interface Observation {
  params: Params;
  state: ObservationState;
  /**
   * The run's objective for a finished run (W&B: the best value the run logged). `null` when the
   * run never logged the metric.
   */
  value: number | null;
  /** Last logged value, for `metric.impute: latest`. */
  latest?: number | null;
  /** Best logged value, for `metric.impute: best`. */
  best?: number | null;
  /**
   * The metric's learning curve, for ended runs: either its logged values in step order
   * (`curve[i]` is the (i+1)-th value; non-finite entries are allowed and skipped), or a
   * `CurveSummary` of it (what the controller reads from storage, bounded per run). Optional: only
   * the Bayesian strategy's multi-fidelity model (`multiFidelity`, bayes/multi-fidelity.ts) reads
   * it, to give `stopped` runs a predicted final value instead of `metric.impute`; it learns from
   * `finished` runs' curves, whose length is taken as the full budget. Without it a run is treated
   * as before.
   */
  curve?: readonly number[] | CurveSummary;
}

/**
 * A learning curve known at some of its points: `length` finite values were logged in all, and
 * `best[k]` is the best of the first `at[k]` of them (1-based positions, ascending; the last is
 * `length`, so `best.at(-1)` is the run's best). The multi-fidelity model uses the running best at
 * positions 1, 3, 9, … and the last (`CURVE_POSITION_RATIO`); a summary at those positions gives
 * it exactly what the whole curve would.
 */
export interface CurveSummary {
  length: number;
  at: readonly number[];
  best: readonly number[];
}

export interface ProposeInput {
  observations: readonly Observation[];
  /** Params of runs that are queued or running: a proposal must not duplicate them. */
  pending: readonly Params[];
  count: number;
}

export interface Proposal {
  params: Params;
  /**
   * What produced it and anything that fell back (`{ source: 'sobol' | 'gp' | 'grid' | ...,
   * warnings: [...] }`): shown with the run, logged by the controller, never silent.
   */
  info?: { source: string; warnings?: string[]; [key: string]: unknown };
}

export interface Strategy {
  readonly method: Method;
  /** Number of distinct configurations when finite (grid, fully discrete spaces), else `null`. */
  readonly size: number | null;
  /** `count` proposals, or fewer when a grid has run out (an empty array means exhausted). */
  propose(input: ProposeInput): Proposal[];
}

export interface StrategyOptions {
  seed: number;
}

/**
 * One searchable dimension of the unit-cube encoding. Constants are not dimensions.
 * - `continuous`: coordinate in [0, 1] (linear, log or CDF-warped inside the encoder).
 * - `discrete`: an ordered grid of `levels` values (integers, quantized values); level i sits at
 *   the centre of its cell, (i + 0.5) / levels, so every level owns an equal share of [0, 1].
 * - `categorical`: coordinate is the choice index 0..choices-1 (not normalized); kernels treat it
 *   by equality only.
 */
export type Dimension =
  | { kind: 'continuous'; path: string }
  | { kind: 'discrete'; path: string; levels: number }
  | { kind: 'categorical'; path: string; choices: number };

export interface EncodedSpace {
  readonly dimensions: readonly Dimension[];
  /** Params to coordinates; throws if params do not fit the space. */
  encode(params: Params): Float64Array;
  /** Coordinates to params (rounding discrete coordinates to their level). */
  decode(x: ArrayLike<number>): Params;
}
