/**
 * Hyperparameter priors and boxes for the MAP fit. The fit works in θ = (u_1..u_d, v, w) with
 * ℓ_i = e^{u_i}, signal s = e^{v}, noise σ² = NOISE_FLOOR + e^{w} (standardized outcome units).
 *
 * Two presets (gp-bo.md §0, chosen from a 10-function A/B of Optuna's sampler with its priors
 * swapped):
 * - `optuna` (default): ln p(λ) = −0.1(1/λ + λ) on λ = ℓ⁻², s ~ Gamma(2, 1), σ² ~ Gamma(1.1, 30).
 *   Best mean rank and precision on smooth low-dimensional functions; it forbids short length
 *   scales, which hurts on rugged objectives.
 * - `hvarfner`: ℓ ~ LogNormal(√2 + ½ ln d, √3) as a MAP in ℓ-space (BoTorch ≥ 0.12), Optuna's
 *   signal and noise priors. Better for d > 10 or rugged objectives.
 */

export type PriorPreset = 'optuna' | 'hvarfner';
export const PRIOR_PRESETS: readonly PriorPreset[] = ['optuna', 'hvarfner'];

/**
 * The least noise variance the model may learn, on the standardized (transformed, z-scored)
 * outcome scale: 1e-10, the first level of robustCholesky's jitter ladder (× the mean diagonal),
 * below which the kernel matrix of near-duplicate runs would be jittered anyway.
 *
 * It was Optuna's 1e-6, which caps how finely the model resolves a deterministic objective:
 * outcomes that differ by less than about √1e-6 = 10⁻³ of their (transformed) spread are noise
 * to it. On Branin, whose outcomes span 0.4–300, that is about 10⁻² of the metric near the
 * optimum; the model's smoothness carried sweeps to regrets of 10⁻⁴–10⁻⁵ in about 25 runs, and
 * past that the learned noise sat on the floor and further progress came from chance (issue 15,
 * point 3: a sweep warm-started from 20 earlier runs starts there, and needed as many runs as a
 * cold one to reach the cold sweep's 50-run regret). An objective with real noise learns a noise
 * far above either floor (1e-4–1e-3 with noise of sd 0.05 added to Branin and Hartmann-3), so
 * the floor does not bind there. Measured with bench:quality (5 seeds),
 * median regret at the budget, 1e-6 → 1e-10: Branin 3.0e-5 → 2.3e-8, Six-hump camel 6.6e-6 →
 * 4.4e-8, Hartmann-3 4.2e-6 → 3.1e-8, Rosenbrock-4 3.9 → 0.99, Ackley-5 3.2 → 2.7, Mixed-5
 * 6.8e-7 → 5.3e-9. At 1e-12 the same sweeps took about twice as long, with no better
 * bench:warm-start figures; at 1e-8 the warm sweep still stalled (20 seeds each).
 */
export const NOISE_FLOOR = 1e-10;
const MIN_LENGTHSCALE = 0.025;
const MIN_SIGNAL = 0.05;
const MAX_SIGNAL = 20;
/** The noise is fit as ln(σ² − NOISE_FLOOR); this bounds that logarithm (and is what `deterministic` pins). */
const MIN_NOISE_EXCESS = 1e-3 * NOISE_FLOOR;
const MAX_NOISE = 1;
/** Optuna's noise prior Gamma(1.1, 30) has its mode at 0.1/30. */
const NOISE_MODE = 0.1 / 30;

export interface HyperBox {
  lower: Float64Array;
  upper: Float64Array;
}

function hvarfnerMu(d: number): number {
  return Math.SQRT2 + 0.5 * Math.log(Math.max(d, 1));
}
const HVARFNER_VAR = 3;

/** Box for θ. `deterministic` pins the noise at its floor (as Optuna's deterministic_objective). */
export function hyperBox(d: number, deterministic: boolean): HyperBox {
  const lower = new Float64Array(d + 2);
  const upper = new Float64Array(d + 2);
  for (let i = 0; i < d; i++) {
    lower[i] = Math.log(MIN_LENGTHSCALE);
    upper[i] = Math.log(100 * Math.sqrt(d));
  }
  lower[d] = Math.log(MIN_SIGNAL);
  upper[d] = Math.log(MAX_SIGNAL);
  lower[d + 1] = Math.log(MIN_NOISE_EXCESS);
  upper[d + 1] = deterministic ? lower[d + 1]! : Math.log(MAX_NOISE - NOISE_FLOOR);
  return { lower, upper };
}

/** The prior mode, the fit's cold start. */
export function priorMode(preset: PriorPreset, d: number, deterministic: boolean): Float64Array {
  const theta = new Float64Array(d + 2);
  const u = preset === 'optuna' ? 0 : hvarfnerMu(d) - HVARFNER_VAR;
  for (let i = 0; i < d; i++) theta[i] = u;
  theta[d] = 0;
  theta[d + 1] = deterministic ? Math.log(MIN_NOISE_EXCESS) : Math.log(NOISE_MODE - NOISE_FLOOR);
  return theta;
}

/** ln p(θ) up to a constant; adds ∂ ln p/∂θ into `grad` when given. */
export function logPrior(preset: PriorPreset, theta: ArrayLike<number>, d: number, grad?: Float64Array): number {
  let lp = 0;
  switch (preset) {
    case 'optuna':
      for (let i = 0; i < d; i++) {
        const lambda = Math.exp(-2 * theta[i]!);
        lp += -0.1 * (1 / lambda + lambda);
        // dλ/du = −2λ.
        if (grad) grad[i] = grad[i]! + 0.2 * (lambda - 1 / lambda);
      }
      break;
    case 'hvarfner': {
      const mu = hvarfnerMu(d);
      for (let i = 0; i < d; i++) {
        const u = theta[i]!;
        // Density of ℓ (not of u): the −u is the Jacobian, so the optimum matches BoTorch's.
        lp += -u - ((u - mu) * (u - mu)) / (2 * HVARFNER_VAR);
        if (grad) grad[i] = grad[i]! - 1 - (u - mu) / HVARFNER_VAR;
      }
      break;
    }
    default: {
      const never: never = preset;
      throw new Error(`unknown prior preset ${String(never)}`);
    }
  }
  const s = Math.exp(theta[d]!);
  lp += Math.log(s) - s;
  if (grad) grad[d] = grad[d]! + 1 - s;
  const ew = Math.exp(theta[d + 1]!);
  const noise = NOISE_FLOOR + ew;
  lp += 0.1 * Math.log(noise) - 30 * noise;
  if (grad) grad[d + 1] = grad[d + 1]! + (0.1 / noise - 30) * ew;
  return lp;
}
