/**
 * The probability that a configuration runs to the end (does not fail, crash, or finish without
 * a finite metric), for constrained expected improvement: the acquisition becomes
 * ln EI(x) + ln P(feasible | x) (Gardner et al. 2014, Gelbart et al. 2014), so a proposal is
 * steered away from regions where runs fail instead of the failures being imputed as the worst
 * value, which bends the objective model around them (W&B's approach).
 *
 * Classifier: Rasmussen & Williams' probabilistic least-squares classification (GPML §6.5): a GP
 * regression on the ±1 labels (centered on their mean, so far from every run the prediction is
 * the base rate), its leave-one-out predictions in closed form (GPML eq. 5.12:
 * μ₋ᵢ = yᵢ − αᵢ/[K⁻¹]ᵢᵢ, σ²₋ᵢ = 1/[K⁻¹]ᵢᵢ), and a probit calibration fit on them (eq. 6.36):
 *   P(feasible | x) = Φ((a·μ(x) + b) / √(1 + a²σ²(x))).
 * Chosen over a Laplace or EP GP classifier because it reuses the regression GP's exact
 * machinery (the MAP hyperparameter fit with its priors, the Cholesky factor, analytic gradients
 * of μ and σ² for the acquisition's local search) at the cost of one more regression fit, while
 * the calibration keeps the probabilities honest (an uncalibrated ±1 regression saturates
 * nowhere: its mean stays within about ±1 and needs an arbitrary scale). The σ² term lowers the
 * confidence far from the data, where a probit GP classifier's would too.
 *
 * Two styles (`harrow.bayes.failures`):
 * - `model`: labels centred on their mean (far from every run P is the base rate among the runs,
 *   which the optimizer's own avoidance of failures pushes towards 1), length scales as the fit
 *   finds them, and a soft chance constraint (below P = 0.8 the log-probability weighs 11×).
 * - `avoid`: a chance constraint P(feasible) ≥ 1 − min(0.05, EI/10) that the acquisition cannot
 *   buy its way across (Gelbart et al. 2014 state it as a hard constraint; here a barrier of
 *   weight 10⁴): a proposal may risk failing only as much as its expected improvement pays for
 *   (chanceLogLevel). On a classifier that claims feasibility only where runs ended: labels not
 *   centred (a GP classifier's zero prior mean, so far from every run P ≈ ½), length scales at
 *   most 0.1·√d of the unit cube, and no fitted noise (a failure is a fact, not a noisy label). Measured why (bench:gp-extensions, 20 seeds): with `model` most
 *   failures after the initial design were explorations 0.2–0.5 away from any run (often after
 *   the trust region restarted) that the classifier, fit with length scales of 1–7 on mostly
 *   feasible labels, rated 0.9–0.998 feasible; in log space EI far from the data outweighs any
 *   soft penalty (a point with P = 0.01 still wins over converged local refinement). GP failures
 *   Branin / Hartmann-3: a hard constraint with uncentred labels but uncapped length scales
 *   7 / 12 against `model`'s 8 / 13 (seeds 0–9); a 0.1 cap with the soft barrier 14 / 20
 *   against 19 / 22 (seeds 0–19); both 10 / 4. The cost: exploration after a failure stays near
 *   runs that ended, so more sweeps settle in a local basin (Hartmann-3, regret > 10⁻³: 4 of 20
 *   sweeps against 1).
 */
import { mean as meanOf } from 'simple-statistics';
import { minimizeBox } from './lbfgs.js';
import { fitHyperparameters, thetaToHyper } from './gp-fit.js';
import { GpPosterior } from './gp-posterior.js';
import { backSolve, forwardSolve, invertLowerTransposed } from './linalg.js';
import { logNormalCdf } from './log-ei.js';
import { scaledSqDist } from './kernel.js';
import type { PriorPreset } from './priors.js';

export interface FeasibilityData {
  /** n×d encoded inputs, row-major. */
  x: Float64Array;
  /** +1 for a run that ended with a value (or was stopped), −1 for a failure. */
  label: Float64Array;
  n: number;
  d: number;
  isCat: Uint8Array;
}

export interface FeasibilityFitOptions {
  preset: PriorPreset;
  /** The previous classifier fit's θ, for a warm start. */
  warmStart: Float64Array | null;
  /** `failures: avoid`: uncentred labels, capped length scales, the hard chance constraint. Default false. */
  conservative?: boolean;
  /** Overrides the style's chance constraint (CHANCE_MODEL or CHANCE_AVOID). */
  chance?: ChanceConstraint;
}

/** The chance constraint of the acquisition: below P = level, ln P weighs 1 + weight. */
export interface ChanceConstraint {
  level: number;
  weight: number;
  /** With it, the allowed failure probability is min(1 − level, EI / failureCost) (chanceLogLevel). */
  failureCost?: number;
}

/** Calibration box: a > 0 keeps P increasing in μ; the bounds stop a separable set from diverging. */
const A_MAX = 20;
const B_MAX = 5;
/**
 * Gaussian prior on (a, b), centred on the plug-in link a = 2: a run's own label (μ = ±1 − mean
 * at a training point) maps to Φ(±2) ≈ 0.98 / 0.02, and far from every run to Φ(2·mean / √(1 +
 * 4σ²)), a shrunk base rate. Leave-one-out alone cannot calibrate a sweep with one or two
 * isolated failures (their neighbours predict "feasible", so the fit flattens a towards 0 and the
 * classifier switches itself off: measured on Branin with a failing disc, most GP failures came
 * from that phase); the prior keeps the plug-in link until the data say otherwise.
 */
const A_PRIOR = 2;
const A_SCALE = 1;
const B_SCALE = 1;
/** `avoid`: the classifier's length scales are at most this × √d (the unit cube's diagonal is √d). */
export const AVOID_MAX_LENGTHSCALE = 0.1;

export class FeasibilityModel {
  readonly theta: Float64Array;
  readonly a: number;
  readonly b: number;
  readonly warnings: string[];
  readonly chance: ChanceConstraint;
  private readonly post: GpPosterior;
  private readonly kx: Float64Array;
  private readonly coef: Float64Array;
  private readonly v: Float64Array;
  private readonly der = new Float64Array(1);

  private constructor(post: GpPosterior, theta: Float64Array, a: number, b: number, warnings: string[], chance: ChanceConstraint) {
    this.post = post;
    this.chance = chance;
    this.theta = theta;
    this.a = a;
    this.b = b;
    this.warnings = warnings;
    this.kx = new Float64Array(post.n);
    this.coef = new Float64Array(post.n);
    this.v = new Float64Array(post.n);
  }

  /** Fits the label regression and its calibration; null when the kernel matrix cannot be factored. */
  static fit(data: FeasibilityData, options: FeasibilityFitOptions): FeasibilityModel | null {
    const { x, n, d, isCat } = data;
    const conservative = options.conservative === true;
    const mean = conservative ? 0 : meanOf(Array.from(data.label));
    const y = Float64Array.from(data.label, (v) => v - mean);
    const fit = fitHyperparameters(
      { x, y, n, d, isCat },
      {
        preset: options.preset,
        deterministic: conservative,
        warmStart: options.warmStart,
        alsoFromPriorMode: options.warmStart === null,
        maxIterations: 60,
        warmMaxIterations: 12,
        ...(conservative ? { maxLengthscale: AVOID_MAX_LENGTHSCALE * Math.sqrt(d) } : {}),
      },
    );
    const hyper = thetaToHyper(fit.theta, d);
    const post = GpPosterior.create(x, n, d, isCat, hyper, y);
    if (post === null) return null;
    const loo = leaveOneOut(post);
    const { a, b } = calibrate(data.label, loo.mean, loo.variance, A_PRIOR * mean);
    return new FeasibilityModel(post, fit.theta, a, b, fit.warnings.map((w) => `feasibility model: ${w}`), options.chance ?? (conservative ? CHANCE_AVOID : CHANCE_MODEL));
  }

  /** ln P(feasible | x); with `grad`, its gradient w.r.t. the numeric coordinates (0 for categoricals). */
  logProb(point: Float64Array, grad: Float64Array | null): number {
    return this.evaluate(point, grad, false);
  }

  /**
   * The acquisition's feasibility term: ln P(feasible | x) plus the chance-constraint barrier,
   * weight × (ln P − logLevel) where P is below the level; with `grad`, the term's gradient.
   */
  term(point: Float64Array, grad: Float64Array | null, logLevel = Math.log(this.chance.level)): number {
    return this.evaluate(point, grad, true, logLevel);
  }

  /** Whether the last `term` call was below its level (the barrier was active). */
  get barrierActive(): boolean {
    return this.lastActive;
  }

  private lastActive = false;

  private evaluate(point: Float64Array, grad: Float64Array | null, withBarrier: boolean, logLevel = Math.log(this.chance.level)): number {
    const { post, kx, coef, v, a, b, chance } = this;
    const { n, d, x, isCat } = post;
    const { kappa, signal } = post.kernel;
    let mu = 0;
    for (let i = 0; i < n; i++) {
      const q = scaledSqDist(point, 0, x, i, d, isCat, kappa);
      const r = Math.sqrt(5 * q);
      const e = Math.exp(-r);
      kx[i] = signal * (1 + r + (5 / 3) * q) * e;
      coef[i] = -(5 / 3) * signal * (1 + r) * e;
      mu += kx[i]! * post.alpha[i]!;
    }
    forwardSolve(post.l, n, kx, v);
    let vv = 0;
    for (let i = 0; i < n; i++) vv += v[i]! * v[i]!;
    const rawVar = signal - vv;
    const variance = Math.max(rawVar, 0);
    const s = Math.sqrt(1 + a * a * variance);
    const z = (a * mu + b) / s;
    let value = logNormalCdf(z, grad ? this.der : undefined);
    const dlog = this.der[0]!;
    // dz = a·dμ/s − (aμ + b)·a²·dσ²/(2s³); below the level the barrier adds weight × the same.
    let scale = 1;
    if (withBarrier) {
      this.lastActive = value < logLevel;
      if (this.lastActive) {
        value += chance.weight * (value - logLevel);
        scale += chance.weight;
      }
    }
    const cMu = (scale * dlog * a) / s;
    const cVar = rawVar > 0 ? (-scale * dlog * (a * mu + b) * a * a) / (2 * s * s * s) : 0;
    if (grad === null) return value;
    // dμ = Σ αᵢ ∇kᵢ, dσ² = −2 Σ βᵢ ∇kᵢ with β = L⁻ᵀv.
    if (cVar !== 0) backSolve(post.l, n, v, v);
    grad.fill(0);
    let total = 0;
    for (let i = 0; i < n; i++) {
      // ∂kᵢ/∂x_j = coefᵢ·κ_j·(x_j − X_ij)
      const w = coef[i]! * (cMu * post.alpha[i]! + (cVar !== 0 ? -2 * cVar * v[i]! : 0));
      total += w;
      const o = i * d;
      for (let j = 0; j < d; j++) grad[j] = grad[j]! - w * x[o + j]!;
    }
    for (let j = 0; j < d; j++) grad[j] = isCat[j] === 1 ? 0 : kappa[j]! * (grad[j]! + total * point[j]!);
    return value;
  }

  /** P(feasible | x). */
  prob(point: Float64Array): number {
    return Math.exp(this.logProb(point, null));
  }
}

/** Closed-form leave-one-out predictive means and variances of a GP regression (GPML eq. 5.12). */
export function leaveOneOut(post: GpPosterior): { mean: Float64Array; variance: Float64Array } {
  const { n } = post;
  const u = invertLowerTransposed(post.l, n);
  const mean = new Float64Array(n);
  const variance = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    // [K⁻¹]ᵢᵢ = Σ_{k ≥ i} U_ik² with U = L⁻ᵀ upper triangular.
    let diag = 0;
    for (let k = i; k < n; k++) diag += u[i * n + k]! ** 2;
    mean[i] = post.y[i]! - post.alpha[i]! / diag;
    variance[i] = 1 / diag;
  }
  return { mean, variance };
}

/**
 * MAP (a, b) of the probit calibration P(yᵢ | LOO) = Φ(yᵢ(a·μᵢ + b)/√(1 + a²σᵢ²)) (GPML eq. 6.36)
 * under Gaussian priors N(2, 1) on a and N(bPrior, 1) on b, by projected L-BFGS with the
 * analytic gradient.
 */
export function calibrate(label: ArrayLike<number>, mean: ArrayLike<number>, variance: ArrayLike<number>, bPrior = 0): { a: number; b: number } {
  const n = label.length;
  const der = new Float64Array(1);
  const loss = (p: Float64Array, grad: Float64Array): number => {
    const a = p[0]!;
    const b = p[1]!;
    let f = (a - A_PRIOR) ** 2 / (2 * A_SCALE * A_SCALE) + (b - bPrior) ** 2 / (2 * B_SCALE * B_SCALE);
    let ga = (a - A_PRIOR) / (A_SCALE * A_SCALE);
    let gb = (b - bPrior) / (B_SCALE * B_SCALE);
    for (let i = 0; i < n; i++) {
      const y = label[i]!;
      const m = mean[i]!;
      const v = variance[i]!;
      const s = Math.sqrt(1 + a * a * v);
      const t = a * m + b;
      f -= logNormalCdf((y * t) / s, der);
      const dz = der[0]!;
      ga -= dz * y * (m / s - (t * a * v) / (s * s * s));
      gb -= (dz * y) / s;
    }
    grad[0] = ga;
    grad[1] = gb;
    return f;
  };
  const res = minimizeBox(loss, [A_PRIOR, bPrior], [1e-3, -B_MAX], [A_MAX, B_MAX], { maxIterations: 100, gtol: 1e-6 });
  return { a: res.x[0]!, b: res.x[1]! };
}

/** The objective's acquisition weighed by P(feasible): ln EI + ln P, with gradients and batch scores. */
export interface ValueAcquisition {
  value(point: Float64Array): number;
  valueAndGradient(point: Float64Array, grad: Float64Array): number;
  scoreBatch(points: Float64Array, m: number, out: Float64Array): void;
}

/**
 * Chance constraint (Gelbart, Snoek & Adams 2014 state constraints as P(feasible) ≥ 1 − δ): below
 * P = CHANCE_LEVEL the log-probability term is multiplied by 1 + CHANCE_WEIGHT, a smooth barrier.
 * Plain ln EI + ln P kept proposing into the unexplored interior of a failing region (P ≈ 0.05
 * there, but the objective model, which never sees a failure, has its largest EI in that hole).
 */
export const CHANCE_LEVEL = 0.8;
export const CHANCE_WEIGHT = 10;
/** `failures: model`: the soft barrier above. */
export const CHANCE_MODEL: ChanceConstraint = { level: CHANCE_LEVEL, weight: CHANCE_WEIGHT };
/**
 * `failures: avoid`: P(feasible) ≥ 0.95 (δ = 0.05), with a barrier steep enough that no EI
 * outweighs it (a step of 0.001 in ln P below the level costs 10 in ln EI). bench:gp-extensions,
 * seeds 0–19, GP failures Branin / Hartmann-3 and Hartmann-3 sweeps left in a local basin:
 * 0.95 → 10 / 4 and 4, 0.99 → 8 / 5 and 4; with a 0.1 cap not scaled by √d, 0.9 → 11 / 7 and 5,
 * 0.95 → 9 / 6 and 5. δ = 0.05 is the common choice; 0.01 was not clearly better.
 *
 * failureCost 10: the allowed failure probability is min(0.05, EI/10) (chanceLogLevel). Traced
 * (seeds 0–19, Branin): with a fixed level, most failures after the first were late explorations
 * (ln EI −12 to −40, the optimum already found to 10⁻⁸) that stopped exactly at P = 0.95, 0.05–0.1
 * from the nearest finished run and 0.2–0.6 from the nearest failure: 173 proposals sat at
 * P ∈ [0.95, 0.97] and 7 of them failed, as calibrated as P claims; the only lever is to stop
 * buying such risk for a negligible gain. GP failures Branin / Hartmann-3 (seeds 0–19, of which
 * 3 / 2 made before any run had failed, the same in every arm): fixed level 9 / 4, C = 1 7 / 4,
 * C = 10 5 / 4, C = 100 8 / 3 (noise of ±2 between neighbouring settings); impute 21 / 41. A
 * lower confidence bound on the latent (P at μ − κσ ≥ 0.95) was not better: κ = 1 10 / 5,
 * κ = 2 8 / 7. Pinning the classifier's noise at its floor (C = 10): 5 / 4 against 8 / 6 with a
 * fitted noise, which read a failure among finished runs as noise (Hartmann-3 seed 4: P = 0.89 at
 * a failed run, noise 0.16, and the next proposal failed beside it).
 *
 * Weight 10⁴ rather than 10³: once EI is small the barrier is active almost everywhere (P never
 * reaches 1 − EI/10) and the acquisition is ≈ ln EI + (1 + weight)·ln P, so the weight sets how
 * much EI a point may trade for a little less certainty. The remaining Branin failures at 10³
 * were refinements beside the optimum (0.04 outside the disc) at P = 0.990–0.995, 0.02–0.05 from
 * finished runs. Seeds 0–19 and 40–59, Branin: 11 GP failures (5 once a run had failed) at 10³,
 * 7 (1) at 10⁴, against 37 (31) for impute; Hartmann-3 40–59: 2 (1) and 3 (2), with 5 of 20
 * sweeps stuck in a local basin either way. C = 1 instead of 10 (same seeds, weight 10⁴): GP
 * failures Branin 10 (4), Hartmann-3 10 (7) against 7 (1) and 7 (4), a median Hartmann-3 regret
 * after 25 runs of 2·10⁻⁴ / 3·10⁻⁶ against 3·10⁻³ (it explores more early on), as many stuck
 * sweeps; 10 keeps Branin within the quarter of impute's 37.
 */
export const CHANCE_AVOID: ChanceConstraint = { level: 0.95, weight: 10_000, failureCost: 10 };

/**
 * ln of the chance constraint's level at a point whose ln EI is `logEi`, and its derivative in
 * ln EI. Without `failureCost` the level is fixed; with it, the failure probability allowed is
 * min(1 − level, EI/C): a run's risk of failing must be paid for by its expected improvement
 * (C = the cost of a failure in standardized objective units), so when every gain left is
 * negligible only runs the classifier is nearly sure of are proposed.
 */
export function chanceLogLevel(chance: ChanceConstraint, logEi: number): { logLevel: number; dLogLevel: number } {
  const fixed = Math.log(chance.level);
  if (chance.failureCost === undefined || Number.isNaN(logEi)) return { logLevel: fixed, dLogLevel: 0 };
  const delta = Math.exp(logEi - Math.log(chance.failureCost));
  if (delta >= 1 - chance.level) return { logLevel: fixed, dLogLevel: 0 };
  // ln(1 − δ) with δ = EI/C: d/d ln EI = −δ/(1 − δ).
  return { logLevel: Math.log1p(-delta), dLogLevel: -delta / (1 - delta) };
}

export class ConstrainedAcquisition implements ValueAcquisition {
  private readonly g: Float64Array;
  private readonly row: Float64Array;

  constructor(
    private readonly inner: ValueAcquisition,
    private readonly feasibility: FeasibilityModel,
    d: number,
  ) {
    this.g = new Float64Array(d);
    this.row = new Float64Array(d);
  }

  value(point: Float64Array): number {
    const logEi = this.inner.value(point);
    return logEi + this.feasibility.term(point, null, chanceLogLevel(this.feasibility.chance, logEi).logLevel);
  }

  valueAndGradient(point: Float64Array, grad: Float64Array): number {
    const logEi = this.inner.valueAndGradient(point, grad);
    const { logLevel, dLogLevel } = chanceLogLevel(this.feasibility.chance, logEi);
    const p = this.feasibility.term(point, this.g, logLevel);
    // The barrier −weight·ln level(EI) also depends on x through ln EI.
    const scale = this.feasibility.barrierActive ? 1 - this.feasibility.chance.weight * dLogLevel : 1;
    for (let j = 0; j < grad.length; j++) grad[j] = scale * grad[j]! + this.g[j]!;
    return logEi + p;
  }

  scoreBatch(points: Float64Array, m: number, out: Float64Array): void {
    this.inner.scoreBatch(points, m, out);
    const d = this.row.length;
    for (let i = 0; i < m; i++) {
      this.row.set(points.subarray(i * d, (i + 1) * d));
      out[i] = out[i]! + this.feasibility.term(this.row, null, chanceLogLevel(this.feasibility.chance, out[i]!).logLevel);
    }
  }
}
