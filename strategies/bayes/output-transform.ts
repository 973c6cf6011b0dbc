/**
 * Outcome transforms applied before the GP: z-scoring, optionally preceded by a Yeo–Johnson power
 * transform with λ fitted by maximum likelihood (HEBO's recipe, scikit-learn's PowerTransformer).
 * Heavy-tailed objectives (a loss that explodes in a corner of the space) otherwise force short
 * length scales and an over-exploring model. Both maps are monotone, so the incumbent and the
 * ranking of runs are unchanged.
 */

export type OutputTransformKind = 'standardize' | 'yeo-johnson';

export interface OutputTransform {
  /** Transformed, standardized outcomes. */
  y: Float64Array;
  /** Maps a value on the standardized scale back to the oriented outcome scale. */
  inverse(v: number): number;
  /** The fitted λ (Yeo–Johnson only). */
  lambda?: number;
}

function yj(y: number, lambda: number): number {
  if (y >= 0) return Math.abs(lambda) < 1e-10 ? Math.log1p(y) : (Math.pow(y + 1, lambda) - 1) / lambda;
  const l2 = 2 - lambda;
  return Math.abs(l2) < 1e-10 ? -Math.log1p(-y) : -(Math.pow(1 - y, l2) - 1) / l2;
}

function yjInverse(t: number, lambda: number): number {
  if (t >= 0) {
    if (Math.abs(lambda) < 1e-10) return Math.expm1(t);
    const base = lambda * t + 1;
    return base > 0 ? Math.pow(base, 1 / lambda) - 1 : Infinity;
  }
  const l2 = 2 - lambda;
  if (Math.abs(l2) < 1e-10) return -Math.expm1(-t);
  const base = 1 - l2 * t;
  return base > 0 ? 1 - Math.pow(base, 1 / l2) : -Infinity;
}

function meanSd(v: ArrayLike<number>): { mean: number; sd: number } {
  const n = v.length;
  let mean = 0;
  for (let i = 0; i < n; i++) mean += v[i]! / n;
  let ss = 0;
  for (let i = 0; i < n; i++) ss += (v[i]! - mean) ** 2;
  return { mean, sd: Math.sqrt(ss / n) };
}

/** Profile log-likelihood of λ under normality of the transformed values. */
function yjLogLik(y: Float64Array, lambda: number): number {
  const t = Float64Array.from(y, (v) => yj(v, lambda));
  const { sd } = meanSd(t);
  if (!(sd > 0)) return -Infinity;
  let jac = 0;
  for (const v of y) jac += Math.sign(v) * Math.log1p(Math.abs(v));
  return -y.length * Math.log(sd) + (lambda - 1) * jac;
}

/** z-score; a constant vector maps to zeros (σ taken as 1). */
function standardize(v: Float64Array): { y: Float64Array; mean: number; sd: number } {
  const { mean, sd: raw } = meanSd(v);
  const sd = raw > 1e-12 * Math.max(1, Math.abs(mean)) ? raw : 1;
  return { y: Float64Array.from(v, (x) => (x - mean) / sd), mean, sd };
}

export function fitOutputTransform(y: Float64Array, kind: OutputTransformKind): OutputTransform {
  const first = standardize(y);
  if (kind === 'standardize' || y.length < 3) {
    return { y: first.y, inverse: (v) => v * first.sd + first.mean };
  }
  // λ by golden-section search on the profile likelihood over [−2, 4] (unimodal in practice).
  let a = -2;
  let b = 4;
  const g = (Math.sqrt(5) - 1) / 2;
  let c = b - g * (b - a);
  let d = a + g * (b - a);
  let fc = yjLogLik(first.y, c);
  let fd = yjLogLik(first.y, d);
  for (let i = 0; i < 60; i++) {
    if (fc > fd) {
      b = d;
      d = c;
      fd = fc;
      c = b - g * (b - a);
      fc = yjLogLik(first.y, c);
    } else {
      a = c;
      c = d;
      fc = fd;
      d = a + g * (b - a);
      fd = yjLogLik(first.y, d);
    }
  }
  const lambda = (a + b) / 2;
  const second = standardize(Float64Array.from(first.y, (v) => yj(v, lambda)));
  return {
    y: second.y,
    lambda,
    inverse: (v) => yjInverse(v * second.sd + second.mean, lambda) * first.sd + first.mean,
  };
}
