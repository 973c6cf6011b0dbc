/**
 * The GP posterior at fixed hyperparameters: the Cholesky factor of K = K_f + σ²I, α = K⁻¹y and
 * predictions. The factor depends only on the inputs and the hyperparameters, so when a refit is
 * skipped and the new training set extends the previous one, it is extended in O(n²) per new
 * point instead of refactored in O(n³).
 */
import { crossKernel, kernelMatrix, matern52, scaledSqDist, type KernelParams } from './kernel.js';
import { backSolve, extendCholesky, forwardSolve, robustCholesky } from './linalg.js';
import type { GpHyperparameters } from './gp-fit.js';

export class GpPosterior {
  readonly x: Float64Array;
  readonly n: number;
  readonly d: number;
  readonly isCat: Uint8Array;
  readonly hyper: GpHyperparameters;
  readonly kernel: KernelParams;
  readonly l: Float64Array;
  readonly jitter: number;
  /** K⁻¹y for the y given at construction. */
  readonly alpha: Float64Array;
  readonly y: Float64Array;
  /** True when the factor was extended from a previous posterior instead of recomputed. */
  readonly incremental: boolean;

  private constructor(
    x: Float64Array,
    n: number,
    d: number,
    isCat: Uint8Array,
    hyper: GpHyperparameters,
    l: Float64Array,
    jitter: number,
    y: Float64Array,
    incremental: boolean,
  ) {
    this.x = x;
    this.n = n;
    this.d = d;
    this.isCat = isCat;
    this.hyper = hyper;
    const kappa = new Float64Array(d);
    for (let i = 0; i < d; i++) kappa[i] = 1 / (hyper.lengthscales[i]! * hyper.lengthscales[i]!);
    this.kernel = { kappa, signal: hyper.signal };
    this.l = l;
    this.jitter = jitter;
    this.y = y;
    this.incremental = incremental;
    this.alpha = new Float64Array(n);
    forwardSolve(l, n, y, this.alpha);
    backSolve(l, n, this.alpha, this.alpha);
  }

  /**
   * Builds the posterior, reusing `previous`'s factor when it has the same hyperparameters and
   * its inputs are a prefix of `x`. Returns null if K cannot be factored even with jitter.
   */
  static create(
    x: Float64Array,
    n: number,
    d: number,
    isCat: Uint8Array,
    hyper: GpHyperparameters,
    y: Float64Array,
    previous?: GpPosterior | null,
  ): GpPosterior | null {
    if (previous && previous.hyper === hyper && previous.d === d && previous.n <= n && previous.n > 0) {
      const m = previous.n;
      let prefix = true;
      for (let i = 0; i < m * d && prefix; i++) if (previous.x[i] !== x[i]) prefix = false;
      if (prefix && m === n) return new GpPosterior(x, n, d, isCat, hyper, previous.l, previous.jitter, y, true);
      if (prefix && previous.jitter === 0) {
        const k = n - m;
        const newX = x.subarray(m * d, n * d);
        const c = crossKernel(previous.x, m, newX, k, d, isCat, previous.kernel);
        const dd = kernelMatrix(newX, k, d, isCat, previous.kernel, hyper.noise);
        const ext = extendCholesky(previous.l, m, c, dd, k);
        if (ext !== null && ext.jitter === 0) return new GpPosterior(x, n, d, isCat, hyper, ext.l, 0, y, true);
      }
    }
    const kappa = new Float64Array(d);
    for (let i = 0; i < d; i++) kappa[i] = 1 / (hyper.lengthscales[i]! * hyper.lengthscales[i]!);
    const k = kernelMatrix(x, n, d, isCat, { kappa, signal: hyper.signal }, hyper.noise);
    const chol = robustCholesky(k, n);
    if (chol === null) return null;
    return new GpPosterior(x, n, d, isCat, hyper, chol.l, chol.jitter, y, false);
  }

  /** Posterior mean of f at the training inputs: K_f·α = y − σ²α. */
  meanAtTraining(): Float64Array {
    const out = new Float64Array(this.n);
    for (let a = 0; a < this.n; a++) out[a] = this.y[a]! - this.hyper.noise * this.alpha[a]!;
    return out;
  }

  /** Latent mean and variance at one point (no noise added). */
  predict(point: Float64Array): { mean: number; variance: number } {
    const { n, d, x, isCat, kernel } = this;
    const kx = new Float64Array(n);
    let mean = 0;
    for (let a = 0; a < n; a++) {
      kx[a] = kernel.signal * matern52(scaledSqDist(point, 0, x, a, d, isCat, kernel.kappa));
      mean += kx[a]! * this.alpha[a]!;
    }
    forwardSolve(this.l, n, kx, kx);
    let vv = 0;
    for (let a = 0; a < n; a++) vv += kx[a]! * kx[a]!;
    return { mean, variance: Math.max(kernel.signal - vv, 0) };
  }
}
