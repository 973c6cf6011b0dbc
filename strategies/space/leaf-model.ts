/**
 * One searchable leaf of the space: how W&B samples it (inverse CDF of a uniform, quantization
 * `round(x/q)·q`, int cast only when q was written as an integer), and, when the leaf takes
 * finitely many values, those values ("levels") in order with their prior mass. Random search
 * without repetition, grid enumeration and the unit-cube encoding are all built on this.
 */
import type { JsonValue } from '../types.js';
import { clamp } from './clamp.js';
import { cloneJson, type FlatParam, type LeafSpec } from './flatten.js';
import type { Rng } from './rng.js';
import { betaCdf, normalPpf } from './special.js';
import { valueKey } from './value-key.js';

export interface LeafModel {
  readonly flat: FlatParam;
  /** Number of distinct values; `Infinity` for continuous and unbounded quantized leaves. */
  readonly count: number;
  /** Level `i`'s value (finite leaves only). */
  value(i: number): JsonValue;
  /** Prior probability of level `i` (finite leaves only); the masses sum to 1. */
  mass(i: number): number;
  /** Index of `v` among the levels, or −1 when `v` is not one of them. */
  indexOf(v: JsonValue | undefined): number;
  /** One draw from W&B's law for this leaf. */
  sample(rng: Rng): JsonValue;
}

/** numpy's `round`: half to even. Ties matter when a bound sits exactly between two levels. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/** `k·q` as W&B computes it; an exact integer when q was written as an integer. */
export function levelValue(k: number, q: number, qIsInteger: boolean): number {
  const v = qIsInteger ? Math.round(k * q) : k * q;
  return v === 0 ? 0 : v; // no -0: it would print as "-0.0" in Python and "0" in JSON
}

/**
 * The levels `k` with positive prior mass when x ∈ [lo, hi] is rounded to `round(x/q)`: k such
 * that the cell [(k−½)q, (k+½)q] overlaps [lo, hi] in more than a point.
 */
export function quantizedRange(lo: number, hi: number, q: number): [number, number] {
  return [Math.floor(lo / q - 0.5) + 1, Math.ceil(hi / q + 0.5) - 1];
}

type Quantized = Extract<LeafSpec, { q: number }>;

/** The value-space interval a bounded quantized leaf rounds from, or null when unbounded. */
export function quantizedBounds(spec: Quantized): [number, number] | null {
  switch (spec.distribution) {
    case 'q_uniform':
    case 'q_log_uniform_values':
      return [spec.min, spec.max];
    case 'q_log_uniform':
      return [Math.exp(spec.min), Math.exp(spec.max)];
    case 'q_beta':
      return [0, 1];
    case 'q_normal':
    case 'q_log_normal':
      return null;
  }
}

/** Number of distinct values of a leaf without building them (grid size, space size). */
export function leafCount(spec: LeafSpec): number {
  switch (spec.distribution) {
    case 'constant':
      return 1;
    case 'categorical':
      return new Set(spec.values.map((v) => valueKey(v))).size;
    case 'categorical_w_probabilities':
      return new Set(spec.values.filter((_, i) => (spec.probabilities[i] ?? 0) > 0).map((v) => valueKey(v))).size;
    case 'int_uniform':
      return spec.max - spec.min + 1;
    case 'q_uniform':
    case 'q_log_uniform':
    case 'q_log_uniform_values':
    case 'q_beta':
    case 'q_normal':
    case 'q_log_normal': {
      const b = quantizedBounds(spec);
      if (!b) return Infinity;
      const [kLo, kHi] = quantizedRange(b[0], b[1], spec.q);
      return Math.max(0, kHi - kLo + 1);
    }
    case 'uniform':
    case 'log_uniform':
    case 'log_uniform_values':
    case 'inv_log_uniform':
    case 'inv_log_uniform_values':
    case 'normal':
    case 'log_normal':
    case 'beta':
      return Infinity;
  }
}

/** Relative tolerance when matching a stored number to a quantized level (JSON round trips are exact; this absorbs foreign history). */
const LEVEL_TOLERANCE = 1e-9;

export function leafModel(flat: FlatParam): LeafModel {
  const spec = flat.spec;
  switch (spec.distribution) {
    case 'constant':
      return {
        flat,
        count: 1,
        value: () => cloneJson(spec.value),
        mass: () => 1,
        indexOf: (v) => (valueKey(v) === valueKey(spec.value) ? 0 : -1),
        sample: () => cloneJson(spec.value),
      };
    case 'categorical':
    case 'categorical_w_probabilities': {
      const weights = spec.distribution === 'categorical' ? spec.values.map(() => 1) : spec.probabilities;
      // Duplicated values are one level whose mass adds up (W&B samples the raw list).
      const distinct: JsonValue[] = [];
      const mass: number[] = [];
      const index = new Map<string, number>();
      spec.values.forEach((v, i) => {
        const w = weights[i] ?? 0;
        if (!(w > 0)) return;
        const key = valueKey(v);
        const at = index.get(key);
        if (at === undefined) {
          index.set(key, distinct.length);
          distinct.push(v);
          mass.push(w);
        } else {
          mass[at]! += w;
        }
      });
      const total = mass.reduce((a, b) => a + b, 0);
      const cumulative: number[] = [];
      let acc = 0;
      for (const w of weights) cumulative.push((acc += w));
      return {
        flat,
        count: distinct.length,
        value: (i) => cloneJson(distinct[i]!),
        mass: (i) => mass[i]! / total,
        indexOf: (v) => index.get(valueKey(v)) ?? -1,
        sample: (rng) => {
          const u = rng.uniform();
          if (spec.distribution === 'categorical') return cloneJson(spec.values[Math.floor(u * spec.values.length)]!);
          // W&B: the first index whose cumulative probability exceeds u.
          let i = cumulative.findIndex((c) => c > u * acc);
          if (i < 0) i = weights.findLastIndex((w) => w > 0);
          return cloneJson(spec.values[i]!);
        },
      };
    }
    case 'int_uniform': {
      const n = spec.max - spec.min + 1;
      return {
        flat,
        count: n,
        value: (i) => spec.min + i,
        mass: () => 1 / n,
        indexOf: (v) => (typeof v === 'number' && Number.isInteger(v) && v >= spec.min && v <= spec.max ? v - spec.min : -1),
        sample: (rng) => spec.min + Math.min(n - 1, Math.floor(rng.uniform() * n)),
      };
    }
    case 'uniform':
      return continuous(flat, (rng) => spec.min + rng.uniform() * (spec.max - spec.min));
    case 'log_uniform':
      return continuous(flat, (rng) => Math.exp(spec.min + rng.uniform() * (spec.max - spec.min)));
    case 'log_uniform_values': {
      const a = Math.log(spec.min);
      const b = Math.log(spec.max);
      // exp(log(x)) can land one ulp outside the raw bounds; the law promises [min, max].
      return continuous(flat, (rng) => clamp(Math.exp(a + rng.uniform() * (b - a)), spec.min, spec.max));
    }
    case 'inv_log_uniform':
      // W&B: exp(−ppf_U(min,max)(1 − u)), i.e. ln(1/X) ~ U(min, max).
      return continuous(flat, (rng) => Math.exp(-(spec.min + (1 - rng.uniform()) * (spec.max - spec.min))));
    case 'inv_log_uniform_values': {
      // ln(1/X) ~ U(−ln max, −ln min), so X lies in [min, max].
      const a = -Math.log(spec.max);
      const b = -Math.log(spec.min);
      return continuous(flat, (rng) => clamp(Math.exp(-(a + (1 - rng.uniform()) * (b - a))), spec.min, spec.max));
    }
    case 'normal':
      return continuous(flat, (rng) => spec.mu + spec.sigma * normalPpf(rng.uniformOpen()));
    case 'log_normal':
      return continuous(flat, (rng) => Math.exp(spec.mu + spec.sigma * normalPpf(rng.uniformOpen())));
    case 'beta':
      return continuous(flat, (rng) => rng.beta(spec.a, spec.b));
    case 'q_uniform':
      return quantized(flat, spec, (rng) => spec.min + rng.uniform() * (spec.max - spec.min));
    case 'q_log_uniform':
      return quantized(flat, spec, (rng) => Math.exp(spec.min + rng.uniform() * (spec.max - spec.min)));
    case 'q_log_uniform_values': {
      const a = Math.log(spec.min);
      const b = Math.log(spec.max);
      return quantized(flat, spec, (rng) => clamp(Math.exp(a + rng.uniform() * (b - a)), spec.min, spec.max));
    }
    case 'q_normal':
      return quantized(flat, spec, (rng) => spec.mu + spec.sigma * normalPpf(rng.uniformOpen()));
    case 'q_log_normal':
      return quantized(flat, spec, (rng) => Math.exp(spec.mu + spec.sigma * normalPpf(rng.uniformOpen())));
    case 'q_beta':
      return quantized(flat, spec, (rng) => rng.beta(spec.a, spec.b));
  }
}

function continuous(flat: FlatParam, draw: (rng: Rng) => number): LeafModel {
  return {
    flat,
    count: Infinity,
    value: () => {
      throw new Error(`${flat.name} is continuous: it has no levels`);
    },
    mass: () => 0,
    indexOf: () => -1,
    sample: draw,
  };
}

/** The level index `k` of a number, when it is (within tolerance) `k·q`. */
export function matchLevel(v: number, q: number): number | null {
  const k = roundHalfEven(v / q);
  return Math.abs(k * q - v) <= LEVEL_TOLERANCE * Math.max(q, Math.abs(v)) ? k : null;
}

function quantized(flat: FlatParam, spec: Quantized, draw: (rng: Rng) => number): LeafModel {
  const bounds = quantizedBounds(spec);
  const { q, qIsInteger } = spec;
  if (!bounds) {
    return continuous(flat, (rng) => levelValue(roundHalfEven(draw(rng) / q), q, qIsInteger));
  }
  const [lo, hi] = bounds;
  const [kLo, kHi] = quantizedRange(lo, hi, q);
  const count = Math.max(0, kHi - kLo + 1);
  const cellMass = massFunction(spec, lo, hi);
  let total = 0;
  if (count <= 1e6) for (let k = kLo; k <= kHi; k++) total += cellMass(k);
  return {
    flat,
    count,
    value: (i) => levelValue(kLo + i, q, qIsInteger),
    mass: (i) => (total > 0 ? cellMass(kLo + i) / total : 1 / count),
    indexOf: (v) => {
      if (typeof v !== 'number') return -1;
      const k = matchLevel(v, q);
      return k === null || k < kLo || k > kHi ? -1 : k - kLo;
    },
    // A bound exactly on a half step rounds (half to even) to a level of zero mass; keep to the support.
    sample: (rng) => levelValue(clamp(roundHalfEven(draw(rng) / q), kLo, kHi), q, qIsInteger),
  };
}

/** Unnormalized prior mass of level k: the prior probability that x rounds to k. */
function massFunction(spec: Quantized, lo: number, hi: number): (k: number) => number {
  const q = spec.q;
  const cell = (k: number): [number, number] => [Math.max(lo, (k - 0.5) * q), Math.min(hi, (k + 0.5) * q)];
  switch (spec.distribution) {
    case 'q_uniform':
      return (k) => {
        const [a, b] = cell(k);
        return Math.max(0, b - a);
      };
    case 'q_log_uniform':
    case 'q_log_uniform_values':
      return (k) => {
        const [a, b] = cell(k);
        return b > a ? Math.log(b) - Math.log(a) : 0;
      };
    case 'q_beta':
      return (k) => {
        const [a, b] = cell(k);
        return b > a ? betaCdf(b, spec.a, spec.b) - betaCdf(a, spec.a, spec.b) : 0;
      };
    case 'q_normal':
    case 'q_log_normal':
      return () => 0;
  }
}
