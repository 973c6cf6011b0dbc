/**
 * The acquisition function: LogEI, and with pending runs the fantasy-averaged LogEI (Snoek et al.
 * 2012; BoTorch's X_pending and Optuna 5's qLogEI follow the same idea):
 *
 * - extend the Cholesky factor with the pending inputs (depends on X only, done once);
 * - draw S joint samples y_s of the pending (latent) outcomes from the posterior, with fixed
 *   base normals so that repeated evaluations agree; the extension's Schur block is exactly the
 *   Cholesky factor of that posterior covariance, so no extra factorization is needed;
 * - per sample: α_s = K_ext⁻¹[y; y_s] and incumbent f*_s = max(f*, max y_s); σ(x) is shared;
 * - value = log-mean-exp over s of LogEI(μ_s(x), σ(x), f*_s).
 *
 * The Kriging believer (S = 1, y_pending = posterior mean) is the cheap fallback. It only
 * collapses the variance around pending points, so once the model is confident it proposes
 * near-replicates of a pending run (measured: 8 simultaneous proposals within 1e-4 of each other
 * on Branin after 10 runs); the fantasies also move the mean, which keeps them apart.
 */
import { crossKernel, kernelMatrix, scaledSqDist } from './kernel.js';
import { backSolve, extendCholesky, forwardSolve, forwardSolve4 } from './linalg.js';
import { logH } from './log-ei.js';
import type { GpPosterior } from './gp-posterior.js';
import type { Rng } from '../space/rng.js';

export type AcquisitionMode = 'logei' | 'fantasy-logei' | 'kriging-believer';

export interface AcquisitionOptions {
  /** Fantasy samples for pending runs. Default 16. */
  fantasySamples?: number;
  /** More pending runs than this use the Kriging believer (cost grows with S·pending). */
  fantasyMaxPending?: number;
  /** Force the Kriging believer (for A/B runs). */
  krigingBeliever?: boolean;
}

const VARIANCE_FLOOR = 1e-12;
/** Relative diagonal for pending outcomes conditioned on as exact values (jitter level). */
const EXACT_PENDING_NOISE = 1e-6;

export class LogEiAcquisition {
  readonly mode: AcquisitionMode;
  readonly warnings: string[] = [];
  readonly d: number;
  /** Training plus pending inputs (N×d). */
  private readonly x: Float64Array;
  private readonly nAll: number;
  private readonly l: Float64Array;
  private readonly isCat: Uint8Array;
  private readonly kappa: Float64Array;
  private readonly signal: number;
  /** S×N: α_s per fantasy sample. */
  private readonly alphas: Float64Array;
  private readonly best: Float64Array;
  private readonly samples: number;
  private readonly logS: number;
  private readonly post: GpPosterior;
  // Work buffers, reused across evaluations.
  private readonly kx: Float64Array;
  private readonly coef: Float64Array;
  private readonly v: Float64Array;
  private readonly c: Float64Array;
  private readonly le: Float64Array;
  private readonly dz: Float64Array;
  private readonly zs: Float64Array;
  private readonly der = new Float64Array(1);
  evaluations = 0;

  constructor(
    post: GpPosterior,
    incumbent: number,
    pending: Float64Array,
    pendingCount: number,
    rng: Rng,
    options: AcquisitionOptions = {},
  ) {
    this.post = post;
    this.d = post.d;
    this.isCat = post.isCat;
    this.kappa = post.kernel.kappa;
    this.signal = post.kernel.signal;
    const n = post.n;
    const d = post.d;
    const k = pendingCount;
    const maxPending = options.fantasyMaxPending ?? 64;
    let mode: AcquisitionMode = 'logei';
    let l = post.l;
    let x = post.x;
    let nAll = n;
    let alphas: Float64Array = post.alpha;
    let best = Float64Array.of(incumbent);

    if (k > 0) {
      const pendX = pending.subarray(0, k * d);
      const cross = crossKernel(post.x, n, pendX, k, d, post.isCat, post.kernel);
      // Pending outcomes are fantasized as latent values and conditioned on exactly, not as noisy
      // observations: a noisy fantasy only shrinks the variance around it like 1/√replicates, and
      // with a learned noise of 1e-4..1e-3 parallel proposals piled up within 3e-4 of each other
      // (Branin, 10 runs, 8 asks); exact conditioning keeps them apart at equal regret (bench).
      const dd = kernelMatrix(pendX, k, d, post.isCat, post.kernel, EXACT_PENDING_NOISE * post.kernel.signal);
      const ext = extendCholesky(post.l, n, cross, dd, k);
      if (ext === null) {
        this.warnings.push(
          `could not condition on ${k} pending run(s) (kernel matrix not positive definite); they are only excluded as duplicates`,
        );
      } else {
        nAll = n + k;
        l = ext.l;
        x = new Float64Array(nAll * d);
        x.set(post.x.subarray(0, n * d));
        x.set(pendX, n * d);
        // Predictive mean of the pending outcomes: K_pxᵀα.
        const muP = new Float64Array(k);
        for (let a = 0; a < n; a++) {
          const al = post.alpha[a]!;
          for (let j = 0; j < k; j++) muP[j] = muP[j]! + cross[a * k + j]! * al;
        }
        let useKb = options.krigingBeliever === true;
        if (!useKb && k > maxPending) {
          useKb = true;
          this.warnings.push(`${k} pending runs exceed the fantasy limit of ${maxPending}; using the Kriging believer`);
        }
        const S = useKb ? 1 : Math.max(1, options.fantasySamples ?? 16);
        alphas = new Float64Array(S * nAll);
        best = new Float64Array(S);
        const yExt = new Float64Array(nAll);
        let finite = true;
        for (let s = 0; s < S; s++) {
          yExt.set(post.y.subarray(0, n));
          let bs = incumbent;
          for (let j = 0; j < k; j++) yExt[n + j] = muP[j]!;
          if (!useKb) {
            // y_p = μ_p + L22·z with L22 the Schur block of the extended factor.
            const z = new Float64Array(k);
            for (let j = 0; j < k; j++) z[j] = rng.normal();
            for (let j = 0; j < k; j++) {
              const row = (n + j) * nAll + n;
              let acc = 0;
              for (let t = 0; t <= j; t++) acc += l[row + t]! * z[t]!;
              yExt[n + j] = muP[j]! + acc;
            }
          }
          for (let j = 0; j < k; j++) bs = Math.max(bs, yExt[n + j]!);
          best[s] = bs;
          const alpha = alphas.subarray(s * nAll, (s + 1) * nAll);
          forwardSolve(l, nAll, yExt, alpha);
          backSolve(l, nAll, alpha, alpha);
          if (!alpha.every(Number.isFinite)) finite = false;
        }
        if (!finite && !useKb) {
          this.warnings.push('fantasy samples of the pending runs were not finite; using the Kriging believer');
          alphas = new Float64Array(nAll);
          yExt.set(post.y.subarray(0, n));
          for (let j = 0; j < k; j++) yExt[n + j] = muP[j]!;
          forwardSolve(l, nAll, yExt, alphas);
          backSolve(l, nAll, alphas, alphas);
          let bs = incumbent;
          for (let j = 0; j < k; j++) bs = Math.max(bs, muP[j]!);
          best = Float64Array.of(bs);
          useKb = true;
        }
        mode = useKb ? 'kriging-believer' : 'fantasy-logei';
        if (ext.jitter > 0) this.warnings.push(`conditioning on pending runs needed diagonal jitter ${ext.jitter.toExponential(1)}`);
      }
    }
    this.mode = mode;
    this.x = x;
    this.nAll = nAll;
    this.l = l;
    this.alphas = alphas;
    this.best = best;
    this.samples = best.length;
    this.logS = Math.log(this.samples);
    this.kx = new Float64Array(nAll);
    this.coef = new Float64Array(nAll);
    this.v = new Float64Array(nAll);
    this.c = new Float64Array(nAll);
    this.le = new Float64Array(this.samples);
    this.dz = new Float64Array(this.samples);
    this.zs = new Float64Array(this.samples);
  }

  /** Fills kx (kernel vector) and coef (∂k/∂q·2 factor) for one point. */
  private kernelVector(point: Float64Array, withCoef: boolean): void {
    const { x, d, isCat, kappa, signal, kx, coef, nAll } = this;
    for (let a = 0; a < nAll; a++) {
      const q = scaledSqDist(point, 0, x, a, d, isCat, kappa);
      const r = Math.sqrt(5 * q);
      const e = Math.exp(-r);
      kx[a] = signal * (1 + r + (5 / 3) * q) * e;
      // ∂k_a/∂x_j = coef_a·κ_j·(x_j − X_aj).
      if (withCoef) coef[a] = -(5 / 3) * signal * (1 + r) * e;
    }
  }

  /** Acquisition value (log scale). */
  value(point: Float64Array): number {
    return this.evaluate(point, null);
  }

  /** Value, and its gradient with respect to the numeric coordinates (0 for categoricals). */
  valueAndGradient(point: Float64Array, grad: Float64Array): number {
    return this.evaluate(point, grad);
  }

  private evaluate(point: Float64Array, grad: Float64Array | null): number {
    this.evaluations++;
    const { nAll, kx, v, alphas, best, samples, le, dz, zs } = this;
    this.kernelVector(point, grad !== null);
    forwardSolve(this.l, nAll, kx, v);
    let vv = 0;
    for (let a = 0; a < nAll; a++) vv += v[a]! * v[a]!;
    const rawVar = this.signal - vv;
    const variance = Math.max(rawVar, 0) + VARIANCE_FLOOR;
    const sigma = Math.sqrt(variance);
    const logSigma = Math.log(sigma);
    let maxLe = -Infinity;
    for (let s = 0; s < samples; s++) {
      const off = s * nAll;
      let mu = 0;
      for (let a = 0; a < nAll; a++) mu += kx[a]! * alphas[off + a]!;
      const z = (mu - best[s]!) / sigma;
      zs[s] = z;
      le[s] = logSigma + logH(z, this.der);
      dz[s] = this.der[0]!;
      if (le[s]! > maxLe) maxLe = le[s]!;
    }
    let sum = 0;
    for (let s = 0; s < samples; s++) sum += Math.exp(le[s]! - maxLe);
    const value = maxLe + Math.log(sum) - this.logS;
    if (grad === null) return value;

    // d value = Σ_s w_s [∇σ/σ·(1 − d_s z_s) + d_s ∇μ_s/σ] with softmax weights w_s;
    // ∇σ = −Σ_a β_a ∇k_a / σ with β = L⁻ᵀv (zero when the variance is clamped).
    const { d, coef, c, kappa, x, isCat } = this;
    let aSum = 0;
    c.fill(0);
    for (let s = 0; s < samples; s++) {
      const w = Math.exp(le[s]! - maxLe) / sum;
      aSum += w * (1 - dz[s]! * zs[s]!);
      const f = (w * dz[s]!) / sigma;
      const off = s * nAll;
      for (let a = 0; a < nAll; a++) c[a] = c[a]! + f * alphas[off + a]!;
    }
    if (rawVar > 0) {
      backSolve(this.l, nAll, v, v);
      const g = aSum / variance;
      for (let a = 0; a < nAll; a++) c[a] = c[a]! - g * v[a]!;
    }
    grad.fill(0);
    let cTotal = 0;
    for (let a = 0; a < nAll; a++) {
      const ca = c[a]! * coef[a]!;
      cTotal += ca;
      const o = a * d;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! - ca * x[o + j]!;
    }
    for (let j = 0; j < d; j++) grad[j] = isCat[j] === 1 ? 0 : kappa[j]! * (grad[j]! + cTotal * point[j]!);
    return value;
  }

  /** Scores m points (row-major m×d) into `out`, four at a time so the solves share loads of L. */
  scoreBatch(points: Float64Array, m: number, out: Float64Array): void {
    const { nAll, d, x, isCat, kappa, signal, alphas, best, samples } = this;
    const kb = new Float64Array(4 * nAll);
    const vs = [new Float64Array(nAll), new Float64Array(nAll), new Float64Array(nAll), new Float64Array(nAll)] as const;
    for (let start = 0; start < m; start += 4) {
      const bs = Math.min(4, m - start);
      for (let c = 0; c < 4; c++) {
        // A short last group repeats its last point rather than branching in the solve.
        const row = start + Math.min(c, bs - 1);
        const o = c * nAll;
        for (let a = 0; a < nAll; a++) {
          const q = scaledSqDist(points, row, x, a, d, isCat, kappa);
          const r = Math.sqrt(5 * q);
          kb[o + a] = signal * (1 + r + (5 / 3) * q) * Math.exp(-r);
        }
      }
      forwardSolve4(this.l, nAll, kb, 0, nAll, 2 * nAll, 3 * nAll, vs[0], vs[1], vs[2], vs[3]);
      for (let c = 0; c < bs; c++) {
        const v = vs[c]!;
        let vv = 0;
        for (let a = 0; a < nAll; a++) vv += v[a]! * v[a]!;
        const variance = Math.max(signal - vv, 0) + VARIANCE_FLOOR;
        const sigma = Math.sqrt(variance);
        const logSigma = Math.log(sigma);
        const o = c * nAll;
        let maxLe = -Infinity;
        for (let s = 0; s < samples; s++) {
          const off = s * nAll;
          let mu = 0;
          for (let a = 0; a < nAll; a++) mu += kb[o + a]! * alphas[off + a]!;
          const l = logSigma + logH((mu - best[s]!) / sigma);
          this.le[s] = l;
          if (l > maxLe) maxLe = l;
        }
        let sum = 0;
        for (let s = 0; s < samples; s++) sum += Math.exp(this.le[s]! - maxLe);
        out[start + c] = maxLe + Math.log(sum) - this.logS;
      }
    }
    this.evaluations += m;
  }

  /** Posterior mean and standard deviation of the observations-only model (for reporting). */
  predict(point: Float64Array): { mean: number; std: number } {
    const p = this.post.predict(point);
    return { mean: p.mean, std: Math.sqrt(p.variance) };
  }
}
