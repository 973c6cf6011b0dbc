/**
 * Harrow's sweep library: no server, no I/O. Read a W&B-compatible sweep file, get a strategy, ask
 * it for configurations given the history, and render the command a run executes. The controller,
 * `harrow validate`/`preview` and the benchmarks all use exactly this API (see README.md here).
 *
 *   const spec = parseSweepConfig(yamlText);                 // throws SweepConfigError
 *   const strategy = createStrategy(spec, { seed: 42 });
 *   const [first] = strategy.propose({ observations: [], pending: [], count: 1 });
 *   const argv = renderCommand(spec.command, first.params, { program: spec.program, env: process.env });
 */
import type { Strategy, StrategyOptions, SweepSpec } from './types.js';
import { createBayesStrategy } from './bayes/index.js';
import { createGridStrategy } from './grid/grid-strategy.js';
import { createRandomStrategy } from './random/random-strategy.js';

export type * from './types.js';

export { parseSweepConfig } from './spec/parse-sweep-config.js';
export { validateSweepConfig, type ValidationResult } from './spec/validate-sweep-config.js';
export { SweepConfigError, formatIssue } from './spec/sweep-config-error.js';
export { DISTRIBUTIONS } from './spec/validate-parameters.js';
export { DEFAULT_FAIL_ON, DEFAULT_PAUSE_ON_FAILURES, failOnOf, matchFailOn, pauseOnFailuresOf } from './spec/failure-policy.js';

export { bestFirstOrder, bestValue, compareRuns, compareValues, higherIsBetterSign, isBetter, lowerIsBetterSign, reachesTarget } from './objective.js';

export { renderCommand, renderArgsJson, type RenderContext } from './command/render-command.js';
export { defaultCommand, checkCommandTemplate, MACROS } from './command/command-template.js';
export { pyStr, pyJsonDumps } from './command/python-format.js';

export { encodeSpace, paramsIssues, type ParamsIssue } from './space/encode-space.js';
export { fitParams, fitAll, type FitResult } from './space/fit-params.js';
export { sampleParams } from './space/sample-params.js';
export { flattenParameters, getPath, setPath, cloneJson, type FlatParam } from './space/flatten.js';
export { DiscreteSpace } from './space/discrete-space.js';
export { leafCount } from './space/leaf-model.js';
export { valueKey, sameValue } from './space/value-key.js';
export { Rng } from './space/rng.js';

export { createRandomStrategy } from './random/random-strategy.js';
export { createGridStrategy } from './grid/grid-strategy.js';
export { createBayesStrategy };
export { recommend, type Recommendation, type RecommendedRun, type RecommendOptions } from './bayes/index.js';

/** The strategy of `spec.method`, seeded (`seed` is usually `spec.harrow.seed` or one the server picked). */
export function createStrategy(spec: SweepSpec, options: StrategyOptions): Strategy {
  switch (spec.method) {
    case 'random':
      return createRandomStrategy(spec, options);
    case 'grid':
      return createGridStrategy(spec);
    case 'bayes':
      return createBayesStrategy(spec, { seed: options.seed });
  }
}

/**
 * The number of runs a grid sweep makes, or `null` for random and bayes (unbounded unless
 * `run_cap` is set).
 */
export function gridSize(spec: SweepSpec): number | null {
  return spec.method === 'grid' ? createGridStrategy(spec).size : null;
}

export { parsePriorResults, PriorResultsError, MAX_PRIOR_ROWS, type PriorResults, type PriorResult } from './warm-start/prior-results.js';
export { checkSpecEdit, extractDefaults, SpecEditError, type SpecEdit } from './spec/spec-edit.js';
