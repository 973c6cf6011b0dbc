/**
 * The seeded random source of the search space: xoshiro128** (Blackman & Vigna), seeded through
 * splitmix32 from any list of numbers. `strategies/` may not call Math.random: a proposal is a
 * function of (spec, seed, history), so each one derives its own generator from the sweep seed
 * and its position in the history (`Rng.from(seed, index)`), and a preview shows exactly what the
 * sweep will do.
 *
 * xoshiro128** is small (four 32-bit words), fast with Math.imul, and passes BigCrush; 32-bit
 * arithmetic keeps it exact in JavaScript without BigInt.
 */
import { normalPpf } from './special.js';

const TWO_POW_53 = 9007199254740992;
const TWO_POW_26 = 67108864;

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** A 32-bit finalizer (murmur3 fmix32): spreads every input bit over the output. */
function fmix32(h: number): number {
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) | 0;
}

const f64 = new Float64Array(1);
const u32 = new Uint32Array(f64.buffer);

/** Hashes any number (integers, floats, negative) through both halves of its IEEE bits. */
function hashNumber(x: number): number {
  f64[0] = Number.isFinite(x) ? x : 0;
  return fmix32(u32[0]! ^ fmix32((u32[1]! + 0x632be5ab) | 0));
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  /** A generator seeded from `parts` (e.g. sweep seed, proposal index); equal parts, equal streams. */
  static from(...parts: number[]): Rng {
    return new Rng(parts);
  }

  /** A generator with an explicit xoshiro128** state (for reference test vectors). */
  static fromState(state: readonly [number, number, number, number]): Rng {
    const rng = new Rng([]);
    [rng.s0, rng.s1, rng.s2, rng.s3] = state.map((x) => x | 0) as [number, number, number, number];
    return rng;
  }

  private constructor(parts: number[]) {
    let h = 0x2545f491;
    for (const p of parts) h = fmix32(h ^ hashNumber(p)) + 0x9e3779b9;
    const splitmix32 = (): number => {
      h = (h + 0x9e3779b9) | 0;
      let z = h;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) | 0;
    };
    this.s0 = splitmix32();
    this.s1 = splitmix32();
    this.s2 = splitmix32();
    this.s3 = splitmix32();
    // xoshiro's state must not be all zero; splitmix32 makes that astronomically unlikely.
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1;
  }

  /** The next 32 random bits as an unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9);
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result >>> 0;
  }

  /** Uniform in [0, 1) with 53 random bits. */
  uniform(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * TWO_POW_26 + lo) / TWO_POW_53;
  }

  /** Uniform in (0, 1): never 0, never 1, for inverse-CDF sampling of unbounded laws. */
  uniformOpen(): number {
    const hi = this.nextUint32() >>> 5;
    const lo = this.nextUint32() >>> 6;
    return (hi * TWO_POW_26 + lo + 0.5) / TWO_POW_53;
  }

  /** Uniform integer in [0, n), n ≥ 1. */
  int(n: number): number {
    return Math.min(n - 1, Math.floor(this.uniform() * n));
  }

  /** Standard normal, by inverse transform (one uniform per draw, so streams stay aligned). */
  normal(): number {
    return normalPpf(this.uniformOpen());
  }

  /**
   * ln of a Gamma(shape, 1) variate (Marsaglia & Tsang 2000; for shape < 1, Gamma(shape + 1)·U^{1/shape}).
   * Returned as a log so Beta(a, b) with tiny a and b does not underflow to 0/0.
   */
  logGamma(shape: number): number {
    if (!(shape > 0)) throw new RangeError(`gamma shape must be > 0 (got ${shape})`);
    if (shape < 1) return this.logGamma(shape + 1) + Math.log(this.uniformOpen()) / shape;
    const d = shape - 1 / 3;
    const c = 1 / Math.sqrt(9 * d);
    for (;;) {
      const x = this.normal();
      const v0 = 1 + c * x;
      if (v0 <= 0) continue;
      const v = v0 * v0 * v0;
      const u = this.uniformOpen();
      if (u < 1 - 0.0331 * x * x * x * x || Math.log(u) < 0.5 * x * x + d * (1 - v + Math.log(v))) {
        return Math.log(d) + Math.log(v);
      }
    }
  }

  /** A Gamma(shape, 1) variate. */
  gamma(shape: number): number {
    return Math.exp(this.logGamma(shape));
  }

  /** A Beta(a, b) variate: X/(X+Y) with X ~ Gamma(a), Y ~ Gamma(b), computed in log space. */
  beta(a: number, b: number): number {
    const lx = this.logGamma(a);
    const ly = this.logGamma(b);
    return 1 / (1 + Math.exp(ly - lx));
  }
}
