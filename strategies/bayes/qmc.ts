/**
 * Quasi-random sequences for the initial design and the acquisition candidates. Sobol (Joe–Kuo
 * directions, linear matrix scrambling plus a digital shift, as SciPy does) up to 128
 * dimensions; Halton with per-digit random permutations above that. Points are addressed by
 * index, so the initial design can resume where the history left off without any stored state.
 */
import { SOBOL_DIRECTIONS } from './sobol-directions.js';
import type { Rng } from '../space/rng.js';

export interface QmcSequence {
  readonly dim: number;
  /** Writes point `index` (0-based) into `out[offset .. offset + dim)`. */
  point(index: number, out: Float64Array, offset?: number): void;
}

const BITS = 30;
const SCALE = 2 ** -BITS;
export const SOBOL_MAX_DIM = SOBOL_DIRECTIONS.length;

function parity(v: number): number {
  v ^= v >>> 16;
  v ^= v >>> 8;
  v ^= v >>> 4;
  return (0x6996 >>> (v & 0xf)) & 1;
}

/** Direction numbers V[k] (k = 0 is the most significant bit) of one Sobol dimension. */
function directionNumbers(dimIndex: number): Int32Array {
  const v = new Int32Array(BITS);
  const entry = SOBOL_DIRECTIONS[dimIndex];
  if (entry === undefined) throw new RangeError(`Sobol dimension ${dimIndex + 1} exceeds ${SOBOL_MAX_DIM}`);
  if (dimIndex === 0) {
    for (let k = 0; k < BITS; k++) v[k] = 1 << (BITS - 1 - k);
    return v;
  }
  const [poly, m] = entry;
  const s = Math.floor(Math.log2(poly));
  const a = (poly >>> 1) & ((1 << (s - 1)) - 1);
  for (let k = 0; k < Math.min(s, BITS); k++) v[k] = m[k]! << (BITS - 1 - k);
  for (let k = s; k < BITS; k++) {
    let x = v[k - s]! ^ (v[k - s]! >>> s);
    for (let j = 1; j < s; j++) if ((a >>> (s - 1 - j)) & 1) x ^= v[k - j]!;
    v[k] = x;
  }
  return v;
}

export class SobolSequence implements QmcSequence {
  readonly dim: number;
  private readonly v: Int32Array[];
  private readonly shift: Int32Array;

  /** `rng` null gives the plain (unscrambled) sequence, whose first point is the origin. */
  constructor(dim: number, rng: Rng | null) {
    if (dim < 1 || dim > SOBOL_MAX_DIM) throw new RangeError(`Sobol supports 1..${SOBOL_MAX_DIM} dimensions, got ${dim}`);
    this.dim = dim;
    this.v = [];
    this.shift = new Int32Array(dim);
    for (let j = 0; j < dim; j++) {
      const v = directionNumbers(j);
      if (rng !== null) {
        // Linear matrix scrambling: y = M·x with M lower triangular (unit diagonal) in
        // most-significant-bit-first order, applied to the direction numbers since x is linear
        // in them. Digit r of y depends only on digits ≤ r of x, which keeps the net property.
        const rows = new Int32Array(BITS);
        for (let r = 0; r < BITS; r++) {
          let mask = 1 << (BITS - 1 - r);
          for (let c = 0; c < r; c++) if (rng.nextUint32() & 1) mask |= 1 << (BITS - 1 - c);
          rows[r] = mask;
        }
        for (let k = 0; k < BITS; k++) {
          let y = 0;
          for (let r = 0; r < BITS; r++) if (parity(v[k]! & rows[r]!)) y |= 1 << (BITS - 1 - r);
          v[k] = y;
        }
        this.shift[j] = rng.nextUint32() >>> (32 - BITS);
      }
      this.v.push(v);
    }
  }

  point(index: number, out: Float64Array, offset = 0): void {
    if (!(index >= 0 && index < 2 ** BITS)) throw new RangeError(`Sobol index ${index} out of range`);
    const gray = index ^ (index >>> 1);
    for (let j = 0; j < this.dim; j++) {
      const v = this.v[j]!;
      let x = this.shift[j]!;
      for (let b = 0, g = gray; g !== 0; b++, g >>>= 1) if (g & 1) x ^= v[b]!;
      out[offset + j] = x * SCALE;
    }
  }
}

function firstPrimes(count: number): number[] {
  const primes: number[] = [];
  for (let c = 2; primes.length < count; c++) {
    let isPrime = true;
    for (const p of primes) {
      if (p * p > c) break;
      if (c % p === 0) {
        isPrime = false;
        break;
      }
    }
    if (isPrime) primes.push(c);
  }
  return primes;
}

export class HaltonSequence implements QmcSequence {
  readonly dim: number;
  private readonly bases: number[];
  /** perms[j][k] is the digit permutation of dimension j at digit position k (null: identity). */
  private readonly perms: (Int32Array[] | null)[];
  private readonly digits: number[];

  constructor(dim: number, rng: Rng | null) {
    if (dim < 1) throw new RangeError(`Halton needs at least one dimension, got ${dim}`);
    this.dim = dim;
    this.bases = firstPrimes(dim);
    this.digits = this.bases.map((b) => Math.ceil((BITS * Math.LN2) / Math.log(b)));
    this.perms = this.bases.map((b, j) => {
      if (rng === null) return null;
      const perDigit: Int32Array[] = [];
      for (let k = 0; k < this.digits[j]!; k++) {
        const p = new Int32Array(b);
        for (let i = 0; i < b; i++) p[i] = i;
        for (let i = b - 1; i > 0; i--) {
          const r = rng.int(i + 1);
          const t = p[i]!;
          p[i] = p[r]!;
          p[r] = t;
        }
        perDigit.push(p);
      }
      return perDigit;
    });
  }

  point(index: number, out: Float64Array, offset = 0): void {
    if (!(index >= 0)) throw new RangeError(`Halton index ${index} out of range`);
    for (let j = 0; j < this.dim; j++) {
      const b = this.bases[j]!;
      const perms = this.perms[j] ?? null;
      let x = 0;
      let f = 1 / b;
      let i = index;
      // With scrambling every digit position contributes (a permuted 0 need not be 0), so walk
      // the full precision rather than stopping when the index runs out of digits.
      const nd = perms === null ? Infinity : this.digits[j]!;
      for (let k = 0; k < nd && (perms !== null || i > 0); k++) {
        const digit = i % b;
        x += (perms === null ? digit : perms[k]![digit]!) * f;
        i = (i - digit) / b;
        f /= b;
      }
      out[offset + j] = Math.min(x, 1 - 1e-12);
    }
  }
}

/** Sobol where its table reaches, Halton beyond. */
export function createQmcSequence(dim: number, rng: Rng | null): QmcSequence {
  return dim <= SOBOL_MAX_DIM ? new SobolSequence(dim, rng) : new HaltonSequence(dim, rng);
}
