/**
 * Observations → GP training data. Outcomes are oriented so that larger is better
 * (`metric.goal`). Finished runs contribute their value (W&B: the best value the run logged).
 * Failed, crashed and stopped runs, and finished runs that never logged the metric or logged a
 * non-finite value, follow `metric.impute`:
 * - `worst` (W&B's default): the worst value seen over every run's value, best and latest;
 * - `best` / `latest`: the run's own best / latest value, falling back to the worst value seen
 *   when the run has none (reported).
 * Canceled runs carry no information about their parameters and stay out of the model (they
 * still count as known points, so they are not proposed again).
 *
 * Failures — failed and crashed runs, and finished runs without a finite value — also become
 * feasibility labels (−1; every other modeled run +1) for the classifier of feasibility.ts, unless
 * `failures: 'impute'`. How the classifier and `metric.impute` combine, per `harrow.bayes.failures`:
 * - `model` (default): both. metric.impute keeps its W&B meaning for the *value* (a failure is
 *   still imputed, the worst value seen by default), and the acquisition is additionally weighed
 *   by P(feasible): the imputed value tells the objective model "bad here", the classifier tells
 *   the acquisition "runs fail here".
 * - `avoid`: the training set of `model`; the classifier and the acquisition's chance constraint
 *   differ (feasibility.ts).
 * - `classifier-only`: a failure's value enters the objective model only when metric.impute is
 *   `best`/`latest` and the run logged one (a real observation); the worst value is never made up
 *   for a failure. Stopped runs are not failures (early termination chose to stop them) and
 *   follow metric.impute in every mode.
 * - `impute`: W&B's behaviour, no classifier.
 * Figures for the choice of default: strategies/README.md.
 */
import { higherIsBetterSign } from '../objective.js';
import type { EncodedSpace, MetricSpec, Observation, Params } from '../types.js';

export interface TrainingSet {
  /** Encoded inputs of the modeled runs, n×d. */
  x: Float64Array;
  /** Oriented outcomes (larger is better), raw metric units times ±1. */
  y: Float64Array;
  n: number;
  /** Finished runs with a finite value: what the initial design counts. */
  completed: number;
  /** Runs whose outcome was imputed. */
  imputed: number;
  /** Coordinates and params of every encodable observation (including canceled ones). */
  known: Array<{ x: Float64Array; params: Params }>;
  /**
   * Feasibility labels over every modeled run (`failures: 'model'` only): +1 for a run that ended
   * with a value or was stopped, −1 for a failure; `failures` counts the −1s.
   */
  feasibility: { x: Float64Array; label: Float64Array; n: number; failures: number } | null;
  warnings: string[];
}

/** How failures reach the model: a feasibility classifier (`model`, `avoid`) or imputed values (`impute`). */
export type FailureHandling = 'model' | 'avoid' | 'classifier-only' | 'impute';

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v);
}

export function buildTrainingSet(
  space: EncodedSpace,
  metric: MetricSpec,
  observations: readonly Observation[],
  failures: FailureHandling = 'impute',
): TrainingSet {
  const d = space.dimensions.length;
  const sign = higherIsBetterSign(metric.goal);
  const warnings: string[] = [];
  const known: TrainingSet['known'] = [];
  // Rows stay in observation order (imputed ones filled in afterwards) so that a new run extends
  // the previous training set, which lets the GP extend its Cholesky factor instead of refactoring.
  const rows: Float64Array[] = [];
  const ys: number[] = [];
  const toImpute: Array<{ row: number; obs: Observation; failure: boolean }> = [];
  const feasRows: Float64Array[] = [];
  const feasLabels: number[] = [];
  let unfit = 0;
  let firstUnfit = '';
  let nonFinite = 0;
  let completed = 0;

  let worst = Infinity;
  for (const o of observations) {
    for (const v of [o.value, o.best, o.latest]) if (finite(v)) worst = Math.min(worst, sign * v);
  }

  for (const o of observations) {
    let x: Float64Array;
    try {
      x = space.encode(o.params);
    } catch (err) {
      unfit++;
      if (firstUnfit === '') firstUnfit = err instanceof Error ? err.message : String(err);
      continue;
    }
    known.push({ x, params: o.params });
    if (o.state === 'canceled') continue;
    const failure = o.state === 'failed' || o.state === 'crashed' || (o.state === 'finished' && !finite(o.value));
    feasRows.push(x);
    feasLabels.push(failure ? -1 : 1);
    if (o.state === 'finished' && finite(o.value)) {
      rows.push(x);
      ys.push(sign * o.value);
      completed++;
      continue;
    }
    if (o.state === 'finished' && o.value !== null && !finite(o.value)) nonFinite++;
    toImpute.push({ row: rows.length, obs: o, failure });
    rows.push(x);
    ys.push(NaN);
  }

  let fellBack = 0;
  let dropped = 0;
  let classified = 0;
  const modelFailures = failures !== 'impute' && feasLabels.includes(-1);
  for (const { row, obs, failure } of toImpute) {
    let v: number | null = null;
    switch (metric.impute) {
      case 'worst':
        break;
      case 'best':
        if (finite(obs.best)) v = sign * obs.best;
        break;
      case 'latest':
        if (finite(obs.latest)) v = sign * obs.latest;
        break;
      default: {
        const never: never = metric.impute;
        throw new Error(`unknown metric.impute ${String(never)}`);
      }
    }
    if (v === null && failure && modelFailures && failures === 'classifier-only') {
      // The classifier carries this failure; no made-up value for the objective model.
      classified++;
      continue;
    }
    if (v === null && metric.impute !== 'worst') fellBack++;
    if (v === null) {
      if (!Number.isFinite(worst)) {
        dropped++;
        continue;
      }
      v = worst;
    }
    ys[row] = v;
  }

  if (unfit > 0) {
    warnings.push(`${unfit} run(s) whose params do not fit the search space were left out of the model (${firstUnfit})`);
  }
  if (nonFinite > 0) warnings.push(`${nonFinite} finished run(s) logged a non-finite ${metric.name}; imputed per metric.impute`);
  if (fellBack > 0) {
    warnings.push(
      `${fellBack} run(s) had no ${metric.impute} value of ${metric.name} for metric.impute: ${metric.impute}; imputed with the worst value seen instead`,
    );
  }
  if (dropped > 0) {
    warnings.push(`${dropped} failed/stopped run(s) left out of the model: no value of ${metric.name} has been seen yet to impute from`);
  }

  const keep = ys.map((v, i) => i).filter((i) => !Number.isNaN(ys[i]));
  const n = keep.length;
  const x = new Float64Array(n * d);
  keep.forEach((r, i) => x.set(rows[r]!, i * d));
  const y = Float64Array.from(keep, (r) => ys[r]!);
  let feasibility: TrainingSet['feasibility'] = null;
  if (modelFailures) {
    const fx = new Float64Array(feasRows.length * d);
    feasRows.forEach((r, i) => fx.set(r, i * d));
    feasibility = { x: fx, label: Float64Array.from(feasLabels), n: feasRows.length, failures: feasLabels.filter((l) => l < 0).length };
  }
  return { x, y, n, completed, imputed: toImpute.length - dropped - classified, known, feasibility, warnings };
}
