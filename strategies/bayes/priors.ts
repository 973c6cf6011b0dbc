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

export const NOISE_FLOOR = 1e-6;
const MIN_LENGTHSCALE = 0.025;
const MIN_SIGNAL = 0.05;
const MAX_SIGNAL = 20;
const MIN_NOISE_EXCESS = 1e-9;
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
