/**
 * W&B's hyperband bands: the iteration counts (numbers of logged values of the metric) at which
 * running runs are compared. Reproduces `sweeps/hyperband_stopping.py` bit for bit, including
 * its floating-point habits, so a sweep file gives the same bands here as on W&B.
 */

export interface HyperbandBandsOptions {
  minIter?: number;
  maxIter?: number;
  s?: number;
  eta: number;
}

/** W&B computes exactly 100 bands in `min_iter` mode; most are far beyond any real run. */
const MIN_ITER_BAND_COUNT = 100;

/**
 * The bands, ascending and without duplicates.
 *
 * - `max_iter` mode (wins when `minIter` is also given, as in W&B): for i = 1..s the band is
 *   max_iter / eta^i, kept as int(band) while band ≥ 1.
 * - `min_iter` mode: int(min_iter · eta^k) for k = 0..99.
 *
 * Both modes divide or multiply by `eta` step by step rather than calling `pow`, because that is
 * what W&B does and the two can differ in the last bit, which changes `int()` when the exact
 * result is an integer. Duplicates (possible when eta is close to 1) are dropped: W&B keeps them,
 * but a repeated band has the same threshold and the same "largest band ≤ count", so no decision
 * changes. Past 2^53 the bands are doubles where Python, given an integer eta, keeps exact
 * integers; no run logs 9·10^15 values, so no decision changes either.
 *
 * Returns `[]` when no band can be formed (neither `maxIter` nor `minIter`, `s < 1`, or
 * `maxIter < eta`), where W&B raises "Bands must be an array of length at least 1. Try increasing
 * s, decreasing eta, or increasing min_iter." — the sweep parser turns that into an issue with a
 * path. Throws `RangeError` for values the W&B schema rejects (eta ≤ 1, non-finite numbers,
 * min_iter < 1), since those would loop or give meaningless bands.
 */
export function hyperbandBands(opts: HyperbandBandsOptions): number[] {
  const { minIter, maxIter, s, eta } = opts;
  if (!Number.isFinite(eta) || eta <= 1) {
    throw new RangeError(`early_terminate.eta must be a number > 1 (got ${eta}); W&B's default is 3`);
  }
  const bands: number[] = [];
  if (maxIter !== undefined) {
    if (!Number.isFinite(maxIter)) {
      throw new RangeError(`early_terminate.max_iter must be a finite number (got ${maxIter})`);
    }
    const rounds = s ?? 0;
    if (Number.isNaN(rounds)) throw new RangeError('early_terminate.s must be a number (got NaN)');
    let band = maxIter;
    for (let i = 1; i <= rounds; i++) {
      band /= eta;
      if (band < 1) break;
      bands.push(Math.trunc(band));
    }
  } else if (minIter !== undefined) {
    if (!Number.isFinite(minIter) || minIter < 1) {
      throw new RangeError(`early_terminate.min_iter must be a number ≥ 1 (got ${minIter})`);
    }
    let band = minIter;
    for (let k = 0; k < MIN_ITER_BAND_COUNT; k++) {
      bands.push(Math.trunc(band));
      band *= eta;
    }
  }
  bands.sort((a, b) => a - b);
  return bands.filter((b, i) => i === 0 || b !== bands[i - 1]);
}
