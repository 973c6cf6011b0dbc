/**
 * Matérn-5/2 with one length scale per dimension (ARD). Numeric coordinates (continuous and
 * discrete, both in [0, 1]) enter the scaled squared distance as κ_i·(x_i − x′_i)²; categorical
 * coordinates (choice indices) as κ_c·[x_c ≠ x′_c], a Hamming term (Optuna's scheme). Hamming
 * rather than one-hot: one length scale per categorical parameter instead of one per choice, no
 * spurious ordering, and the acquisition search enumerates the choices directly (gp-bo.md §1.2).
 *
 *   q = Σ κ_i δ_i²,  a = √(5q),  k = s·(1 + a + 5q/3)·e^{−a},  ∂k/∂q = −(5/6)·s·(1 + a)·e^{−a}
 *
 * The derivative with respect to q is finite at q = 0, so coincident points need no special case.
 */

export interface KernelParams {
  /** κ_i = 1/ℓ_i², one per dimension. */
  kappa: Float64Array;
  /** Signal variance s. */
  signal: number;
}

/** Squared-distance contribution of dimension i between two coordinates. */
export function sqTerm(isCat: boolean, a: number, b: number): number {
  if (isCat) return a === b ? 0 : 1;
  const t = a - b;
  return t * t;
}

/** Matérn-5/2 correlation at scaled squared distance q. */
export function matern52(q: number): number {
  const a = Math.sqrt(5 * q);
  return (1 + a + (5 / 3) * q) * Math.exp(-a);
}

/** d matern52/dq = −(5/6)(1 + a)e^{−a}. */
export function matern52Dq(q: number): number {
  const a = Math.sqrt(5 * q);
  return -(5 / 6) * (1 + a) * Math.exp(-a);
}

/** q between row `ia` of `xa` and row `ib` of `xb` (both with d columns). */
export function scaledSqDist(
  xa: Float64Array,
  ia: number,
  xb: Float64Array,
  ib: number,
  d: number,
  isCat: Uint8Array,
  kappa: Float64Array,
): number {
  const oa = ia * d;
  const ob = ib * d;
  let q = 0;
  for (let j = 0; j < d; j++) {
    const u = xa[oa + j]!;
    const v = xb[ob + j]!;
    if (isCat[j] === 1) {
      if (u !== v) q += kappa[j]!;
    } else {
      const t = u - v;
      q += kappa[j]! * t * t;
    }
  }
  return q;
}

/**
 * Per-pair, per-dimension squared distances for a fixed input set, pairs (a > b) in the order
 * p = a(a−1)/2 + b, d values each. A hyperparameter fit evaluates the kernel dozens of times on
 * the same inputs; precomputing these turns each evaluation into one dot product per pair.
 */
export function pairSqTerms(x: Float64Array, n: number, d: number, isCat: Uint8Array): Float64Array {
  const out = new Float64Array(((n * (n - 1)) / 2) * d);
  let p = 0;
  for (let a = 1; a < n; a++) {
    for (let b = 0; b < a; b++) {
      const o = p * d;
      for (let j = 0; j < d; j++) out[o + j] = sqTerm(isCat[j] === 1, x[a * d + j]!, x[b * d + j]!);
      p++;
    }
  }
  return out;
}

/** Full symmetric K = s·M52 + noise·I over the rows of x (n×n, both triangles filled). */
export function kernelMatrix(
  x: Float64Array,
  n: number,
  d: number,
  isCat: Uint8Array,
  params: KernelParams,
  noise: number,
  out?: Float64Array,
): Float64Array {
  const k = out ?? new Float64Array(n * n);
  const s = params.signal;
  for (let a = 0; a < n; a++) {
    k[a * n + a] = s + noise;
    for (let b = 0; b < a; b++) {
      const v = s * matern52(scaledSqDist(x, a, x, b, d, isCat, params.kappa));
      k[a * n + b] = v;
      k[b * n + a] = v;
    }
  }
  return k;
}

/** Cross-covariance between rows of xa (na) and rows of xb (nb): out[i*nb + j] = k(xa_i, xb_j). */
export function crossKernel(
  xa: Float64Array,
  na: number,
  xb: Float64Array,
  nb: number,
  d: number,
  isCat: Uint8Array,
  params: KernelParams,
  out?: Float64Array,
): Float64Array {
  const k = out ?? new Float64Array(na * nb);
  const s = params.signal;
  for (let i = 0; i < na; i++) {
    for (let j = 0; j < nb; j++) k[i * nb + j] = s * matern52(scaledSqDist(xa, i, xb, j, d, isCat, params.kappa));
  }
  return k;
}
