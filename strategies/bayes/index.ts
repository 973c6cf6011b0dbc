/** The Bayesian (GP) strategy. `createBayesStrategy` is what `createStrategy` calls for `method: bayes`. */
import type { EncodedSpace, MetricSpec, Strategy, SweepSpec } from '../types.js';
import { Rng, encodeSpace, sampleParams } from '../space/index.js';
import { BayesStrategy, type BayesOptions } from './bayes-strategy.js';

export { BayesStrategy, defaultInitialDesign, type BayesOptions, type BayesTuning } from './bayes-strategy.js';
export { PRIOR_PRESETS, type PriorPreset } from './priors.js';
export { recommend, type Recommendation, type RecommendedRun, type RecommendOptions } from './recommend.js';
export { curvePositions, CURVE_POSITION_RATIO } from './multi-fidelity.js';

/**
 * Synchronous and pure: the controller runs it in a worker thread (`controller/strategy-worker.ts`).
 *
 * Tuning comes from the sweep file's `harrow.bayes` (`prior`, `deterministic`, `initial_design`);
 * an option the caller passes explicitly (not `undefined`) wins over the file's, and what neither
 * sets gets the strategy's default.
 */
export function createBayesStrategy(spec: SweepSpec, options: BayesOptions): Strategy {
  if (spec.metric === undefined) {
    throw new RangeError('method: bayes needs a metric to optimize; add `metric: { name: ..., goal: minimize | maximize }`');
  }
  const space = encodeSpace(spec);
  if (space.dimensions.length === 0) return oneConfiguration(spec);
  return new BayesStrategy(space, spec.metric, {
    // `?.`: hand-built specs from JavaScript may lack `harrow`; specs stored before the block existed lack `bayes`.
    ...definedOnly(spec.harrow?.bayes ?? {}),
    ...definedOnly(options),
    ...(spec.runCap === undefined ? {} : { runCap: spec.runCap }),
  });
}

/**
 * A space whose every parameter has one value (`values: [x]`; the validator refuses a space of
 * `value:` constants only, as W&B does): there is nothing to model, and W&B's bayes reruns that one
 * configuration until the sweep is stopped or reaches run_cap, so this does the same.
 */
function oneConfiguration(spec: SweepSpec): Strategy {
  const params = sampleParams(spec.parameters, Rng.from(0));
  return {
    method: 'bayes',
    size: 1,
    propose: (input) => Array.from({ length: input.count }, () => ({ params: structuredClone(params), info: { source: 'only configuration' } })),
  };
}

/** The entries that are not `undefined`, so `{ prior: undefined }` does not hide a value set elsewhere. */
function definedOnly<T extends object>(options: T): T {
  return Object.fromEntries(Object.entries(options).filter(([, v]) => v !== undefined)) as T;
}

/** The same strategy over an explicit encoding (tests and benchmarks with hand-made spaces). */
export function createBayesStrategyForSpace(space: EncodedSpace, metric: MetricSpec, options: BayesOptions & { runCap?: number }): Strategy {
  return new BayesStrategy(space, metric, options);
}
