/**
 * A TuRBO-style trust region (Eriksson et al., NeurIPS 2019) for the acquisition search: a box
 * around the incumbent whose side doubles after `successTolerance` improvements in a row and
 * halves after `failureTolerance` runs in a row without one; below `min` it starts again at
 * `initial`. Each continuous dimension's side is proportional to its length scale (geometric
 * mean 1), so the box is long where the model says the objective changes slowly.
 *
 * Why: over the whole space, LogEI of a stationary GP keeps finding high-variance corners far
 * from anything good, and with pending runs (whose fantasies already cover the incumbent's
 * neighbourhood) it does so more often. On Rosenbrock-4 (20 seeds), 21% of the GP's proposals
 * had a coordinate on the boundary of the space for one worker and 28% for 8 simulated workers;
 * inside the region, 13% and 10%. Searching the acquisition there keeps sequential and parallel
 * proposals where the data say progress is, and the restart keeps the search from freezing
 * around a local optimum. bench:quality measures the effect (`--bayes trust_region=false`).
 *
 * Differences from TuRBO, each because Harrow's setting differs:
 * - One region and one global GP (TuRBO-1's model is local); the GP sees every run.
 * - An improvement is measured on the model's standardized, Yeo–Johnson-transformed outcomes
 *   (1e-3 of a standard deviation), not as 1e-3·|best| of the raw metric, so a metric shifted by
 *   a constant or a maximized accuracy behaves like a minimized loss.
 * - Runs are counted one at a time in the order they ended (asynchronous agents have no
 *   batches); max(4, d) failures is TuRBO's rule for a batch of one.
 * - A restart keeps the data and re-centres on the incumbent at the initial side.
 * - Only continuous coordinates are bounded (long integer ranges are continuous here). A grid of
 *   a few levels would be pinned to one level by a box narrower than a level, and categories
 *   have no order to centre a box on (CASMOPOLITAN's Hamming-distance region would be the way).
 *
 * The state is never stored: it is replayed from the outcomes in the order runs ended, so the
 * strategy stays a function of its history and a restarted controller gets the same region.
 */

export interface TrustRegionOptions {
  /** Initial side (unit cube, before length-scale weighting). TuRBO: 0.8. */
  initial?: number;
  /** Below this side the region restarts at `initial`. TuRBO: 2⁻⁷. */
  min?: number;
  /** Largest side. TuRBO: 1.6. */
  max?: number;
  /** Improvements in a row that double the side. TuRBO: 3. */
  successTolerance?: number;
  /** Runs in a row without improvement that halve the side. Default max(4, d). */
  failureTolerance?: number;
  /** How much (on the scale of `y`) a run must beat the best by to count. Default 1e-3. */
  threshold?: number;
}

export interface TrustRegionState {
  /** The side before weighting. */
  length: number;
  successes: number;
  failures: number;
  /** Times the side fell below `min` and started again. */
  restarts: number;
}

/**
 * Replays the trust region over the first `n` outcomes of `y` (larger is better, standardized, in
 * the order runs ended), counting from row `start`: the rows before it are the initial design.
 */
export function replayTrustRegion(y: ArrayLike<number>, n: number, start: number, d: number, options: TrustRegionOptions = {}): TrustRegionState {
  const initial = options.initial ?? 0.8;
  const min = options.min ?? 2 ** -7;
  const max = options.max ?? 1.6;
  const successTolerance = options.successTolerance ?? 3;
  const failureTolerance = options.failureTolerance ?? Math.max(4, d);
  const threshold = options.threshold ?? 1e-3;
  const state: TrustRegionState = { length: initial, successes: 0, failures: 0, restarts: 0 };
  const first = Math.min(Math.max(0, start), n);
  let best = -Infinity;
  for (let i = 0; i < first; i++) best = Math.max(best, y[i]!);
  for (let i = first; i < n; i++) {
    const v = y[i]!;
    if (v > best + threshold) {
      state.successes++;
      state.failures = 0;
    } else {
      state.failures++;
      state.successes = 0;
    }
    best = Math.max(best, v);
    if (state.successes >= successTolerance) {
      state.length = Math.min(max, 2 * state.length);
      state.successes = 0;
    } else if (state.failures >= failureTolerance) {
      state.length /= 2;
      state.failures = 0;
    }
    if (state.length < min) {
      state.length = initial;
      state.restarts++;
    }
  }
  return state;
}

export interface Box {
  lower: Float64Array;
  upper: Float64Array;
}

/**
 * The box of side `length`·w_j centred on `center` and clipped to [0, 1] for every dimension
 * `inRegion` marks, with w_j = ℓ_j / (geometric mean of those ℓ); the others span [0, 1].
 */
export function trustRegionBox(center: ArrayLike<number>, lengthscales: ArrayLike<number>, inRegion: ArrayLike<number>, length: number): Box {
  const d = center.length;
  const lower = new Float64Array(d);
  const upper = new Float64Array(d).fill(1);
  let logSum = 0;
  let k = 0;
  for (let j = 0; j < d; j++) {
    if (!inRegion[j]) continue;
    logSum += Math.log(lengthscales[j]!);
    k++;
  }
  if (k === 0) return { lower, upper };
  const geo = Math.exp(logSum / k);
  for (let j = 0; j < d; j++) {
    if (!inRegion[j]) continue;
    const half = (length * lengthscales[j]!) / geo / 2;
    lower[j] = Math.max(0, center[j]! - half);
    upper[j] = Math.min(1, center[j]! + half);
  }
  return { lower, upper };
}
