/**
 * Which configuration to *use* after a noisy sweep. The best observed value is biased: among many
 * runs whose metric carries noise, the lowest loss is partly the luckiest draw (the winner's
 * curse). The recommendation is the evaluated configuration with the best GP posterior mean (the
 * "best observed by the model" rule of Jalali et al. 2017 / BoTorch's and Ax's in-sample
 * recommendation): the model pools neighbouring runs and discounts a lone lucky value by its
 * learned noise. On noise-free objectives the two coincide (the posterior mean then interpolates).
 *
 * `recommend(spec, observations)` is pure and synchronous: the controller, API and CLI can show
 * both beside each other. It fits its own GP (a cold fit, as after a restart) with the sweep's
 * `harrow.bayes` prior and determinism, over the finished runs with a finite value.
 */
import type { MetricSpec, Observation, Params, SweepSpec } from '../types.js';
import { encodeSpace } from '../space/encode-space.js';
import { priorPreset } from './bayes-strategy.js';
import { fitHyperparameters, thetaToHyper } from './gp-fit.js';
import { GpPosterior } from './gp-posterior.js';
import { fitOutputTransform, type OutputTransformKind } from './output-transform.js';
import { selectSubset } from './subset.js';
import { buildTrainingSet } from './training-set.js';

export interface RecommendedRun {
  /** Index of the run in the `observations` given. */
  index: number;
  params: Params;
  /** Its observed value, in metric units. */
  value: number;
}

export interface Recommendation {
  /** The run with the best observed value; null when no run finished with a value. */
  bestObserved: RecommendedRun | null;
  /**
   * The run with the best posterior mean, and that mean in metric units (`predicted`); the best
   * observed run when there are too few runs for a model or the fit failed (`source` says which).
   */
  recommended: (RecommendedRun & { predicted: number | null }) | null;
  source: 'posterior-mean' | 'best-observed';
  /** Learned noise variance on the model's standardized scale (null without a model). */
  noise: number | null;
  warnings: string[];
}

/** Below this many finished runs the recommendation is the best observed one. */
const MIN_RUNS = 5;
/** The model is fit on at most this many runs (the quality subset keeps the best fifth). */
const MAX_RUNS = 500;

export interface RecommendOptions {
  /**
   * Outcome transform before the fit. Default `standardize`, unlike the strategy's Yeo–Johnson:
   * the recommendation compares posterior means among the best runs, and a transform fit to the
   * whole range of outcomes stretches exactly that end (where the noise is). bench:gp-extensions,
   * noise section, 20 seeds (10–29), noise-free regret of the recommended run against the best
   * observed one: Branin 0.158 against 0.300 (better on 12 seeds, worse on 7), Hartmann-3 0.0111
   * against 0.0207 (13 / 5); with Yeo–Johnson 0.262 and 0.0202 (10 / 9 on both).
   */
  outputTransform?: OutputTransformKind;
}

export function recommend(spec: SweepSpec, observations: readonly Observation[], options: RecommendOptions = {}): Recommendation {
  const metric: MetricSpec | undefined = spec.metric;
  if (metric === undefined) throw new RangeError('recommend needs a metric; the sweep has none');
  const sign = metric.goal === 'maximize' ? 1 : -1;
  const finishedIdx: number[] = [];
  observations.forEach((o, i) => {
    if (o.state === 'finished' && typeof o.value === 'number' && Number.isFinite(o.value)) finishedIdx.push(i);
  });
  const empty: Recommendation = { bestObserved: null, recommended: null, source: 'best-observed', noise: null, warnings: [] };
  if (finishedIdx.length === 0) return empty;
  let bestIdx = finishedIdx[0]!;
  for (const i of finishedIdx) if (sign * observations[i]!.value! > sign * observations[bestIdx]!.value!) bestIdx = i;
  const run = (i: number): RecommendedRun => ({ index: i, params: observations[i]!.params, value: observations[i]!.value! });
  const bestObserved = run(bestIdx);
  const fallback = (warning?: string): Recommendation => ({
    bestObserved,
    recommended: { ...bestObserved, predicted: null },
    source: 'best-observed',
    noise: null,
    warnings: warning === undefined ? [] : [warning],
  });
  if (finishedIdx.length < MIN_RUNS) return fallback(`fewer than ${MIN_RUNS} finished runs: the best observed run is the recommendation`);

  const space = encodeSpace(spec);
  const d = space.dimensions.length;
  if (d === 0) return fallback();
  const finished = finishedIdx.map((i) => observations[i]!);
  const data = buildTrainingSet(space, metric, finished);
  // Rows of `data` follow `finished` minus any run whose params no longer fit the space.
  const rowToObs: number[] = [];
  finished.forEach((o, k) => {
    try {
      space.encode(o.params);
      rowToObs.push(finishedIdx[k]!);
    } catch {
      // left out of the training set, as buildTrainingSet did
    }
  });
  if (data.n < MIN_RUNS) return fallback(`fewer than ${MIN_RUNS} finished runs fit the space: the best observed run is the recommendation`);
  const isCat = Uint8Array.from(space.dimensions, (dim) => (dim.kind === 'categorical' ? 1 : 0));
  const transform = fitOutputTransform(data.y, options.outputTransform ?? 'standardize');
  let x: Float64Array = data.x;
  let y: Float64Array = transform.y;
  let n = data.n;
  let rows: Int32Array = Int32Array.from({ length: n }, (_, i) => i);
  if (n > MAX_RUNS) {
    rows = selectSubset({ x, y, n, d, isCat, lengthscales: null }, MAX_RUNS, 20);
    const gx = new Float64Array(rows.length * d);
    const gy = new Float64Array(rows.length);
    rows.forEach((r, i) => {
      gx.set(data.x.subarray(r * d, (r + 1) * d), i * d);
      gy[i] = transform.y[r]!;
    });
    x = gx;
    y = gy;
    n = rows.length;
  }
  const bayes = spec.harrow?.bayes ?? {};
  const fit = fitHyperparameters(
    { x, y, n, d, isCat },
    { preset: priorPreset(bayes.prior, d), deterministic: bayes.deterministic ?? false, warmStart: null, alsoFromPriorMode: true, maxIterations: 100 },
  );
  const hyper = thetaToHyper(fit.theta, d);
  const post = GpPosterior.create(x, n, d, isCat, hyper, y);
  if (post === null) return fallback('the GP could not be fit; the best observed run is the recommendation');
  const means = post.meanAtTraining();
  let best = 0;
  for (let i = 1; i < n; i++) if (means[i]! > means[best]!) best = i;
  const obsIndex = rowToObs[rows[best]!]!;
  const predicted = sign * transform.inverse(means[best]!);
  return {
    bestObserved,
    recommended: { ...run(obsIndex), predicted: Number.isFinite(predicted) ? predicted : null },
    source: 'posterior-mean',
    noise: hyper.noise,
    warnings: fit.warnings,
  };
}
