/**
 * The unit-cube encoding the Bayesian strategy works in. One dimension per leaf that can vary, in
 * W&B's flattened order; constants (and one-valued leaves) are not dimensions but are restored by
 * `decode`, so a decoded point is a complete configuration.
 *
 * The rules, per distribution:
 * - `uniform`, `beta`: linear, x = (v − min)/(max − min) (beta lives on [0, 1] already).
 * - `log_uniform_values`, `inv_log_uniform_values`, `log_uniform`, `inv_log_uniform`: linear in
 *   ln v between the bounds of ln v (v1 forms take exponents as bounds; inv forms have the same
 *   support and are encoded the same way, increasing in v).
 * - `normal`, `log_normal`: the prior CDF, x = Φ((v − μ)/σ) (of ln v for log_normal), clipped to
 *   [ε, 1 − ε] with ε = 1e-10 so the inverse stays finite (±6.4σ; a value beyond that decodes to
 *   the clip point).
 * - `int_uniform`, `q_uniform`, `q_beta` (evenly spaced levels): with at most
 *   `DISCRETE_MAX_LEVELS` levels, a `discrete` dimension, level i at (i + ½)/levels; with more, a
 *   `continuous` dimension in the same linear layout, rounded to the nearest level on decode. A
 *   GP gains nothing from treating 500 epochs as 500 unordered levels.
 * - `q_log_uniform`, `q_log_uniform_values`: always continuous in ln v, rounded on decode (the
 *   levels are evenly spaced in v, not in ln v, so equal cells would distort the log scale).
 * - `q_normal`, `q_log_normal`: the CDF warp of their base law, rounded on decode.
 * - `categorical`, `categorical_w_probabilities`: `categorical`, coordinate = index of the value
 *   among the distinct values (with positive probability), in listed order.
 *
 * Round trip: `decode(encode(p))` gives back `p` for every configuration the prior can produce
 * (exactly for levels and categories; to ~1e-12 relative for continuous values).
 */
import type { Dimension, EncodedSpace, JsonValue, ParameterSpec, Params } from '../types.js';
import { flattenParameters, getPath, setPath, sortedKeys, type LeafSpec } from './flatten.js';
import { leafModel, levelValue, quantizedBounds, quantizedRange, roundHalfEven, type LeafModel } from './leaf-model.js';
import { normalCdf, normalPpf } from './special.js';

/** Evenly spaced finite leaves with at most this many levels are `discrete` dimensions. */
export const DISCRETE_MAX_LEVELS = 64;
/** CDF-warped coordinates stay in [ε, 1 − ε]. */
export const CDF_CLIP = 1e-10;

interface Coder {
  dim: Dimension;
  path: readonly string[];
  encode(v: JsonValue | undefined): number;
  decode(x: number): JsonValue;
}

class DoesNotFit extends RangeError {
  override readonly name = 'DoesNotFit';
}

export function encodeSpace(spec: { readonly parameters: { readonly [name: string]: ParameterSpec } }): EncodedSpace {
  const models = flattenParameters(spec.parameters).map(leafModel);
  const coders: Coder[] = [];
  const fixed: LeafModel[] = [];
  for (const m of models) {
    if (m.count === 1) fixed.push(m);
    else coders.push(coderFor(m));
  }
  const dimensions = coders.map((c) => c.dim);
  return {
    dimensions,
    encode(params: Params): Float64Array {
      for (const m of fixed) {
        if (m.indexOf(getPath(params, m.flat.path)) !== 0) {
          throw new DoesNotFit(`params do not fit the space: ${m.flat.name} must be ${JSON.stringify(m.value(0))}`);
        }
      }
      const x = new Float64Array(coders.length);
      coders.forEach((c, i) => (x[i] = c.encode(getPath(params, c.path))));
      return x;
    },
    decode(x: ArrayLike<number>): Params {
      if (x.length !== coders.length) {
        throw new RangeError(`expected ${coders.length} coordinates, got ${x.length}`);
      }
      const params: Params = {};
      let i = 0;
      for (const m of models) {
        if (m.count === 1) {
          setPath(params, m.flat.path, m.value(0));
        } else {
          const xi = x[i]!;
          if (Number.isNaN(xi)) throw new RangeError(`coordinate ${i} (${coders[i]!.dim.path}) is NaN`);
          setPath(params, m.flat.path, coders[i]!.decode(xi));
          i++;
        }
      }
      return params;
    },
  };
}

function clamp01(x: number): number {
  return x < 0 ? 0 : x > 1 ? 1 : x;
}

function clipCdf(u: number): number {
  return u < CDF_CLIP ? CDF_CLIP : u > 1 - CDF_CLIP ? 1 - CDF_CLIP : u;
}

function coderFor(m: LeafModel): Coder {
  const spec: LeafSpec = m.flat.spec;
  const name = m.flat.name;
  const path = m.flat.path;
  const fail = (v: JsonValue | undefined, why: string): never => {
    throw new DoesNotFit(`params do not fit the space: ${name} = ${JSON.stringify(v) ?? 'missing'} ${why}`);
  };
  const number = (v: JsonValue | undefined): number =>
    typeof v === 'number' && Number.isFinite(v) ? v : fail(v, 'is not a finite number');
  const within = (v: number, lo: number, hi: number): number => {
    const tol = 1e-9 * (hi - lo);
    return v >= lo - tol && v <= hi + tol ? v : fail(v, `is outside [${lo}, ${hi}]`);
  };
  const positive = (v: number): number => (v > 0 ? v : fail(v, 'must be > 0 for a log distribution'));
  const continuous: Dimension = { kind: 'continuous', path: name };

  /** A linear-in-t continuous coder between t(lo) and t(hi), `round` mapping back to a value. */
  const linear = (tLo: number, tHi: number, t: (v: number) => number, inv: (t: number) => number): Coder => ({
    dim: continuous,
    path,
    encode: (v) => clamp01((t(number(v)) - tLo) / (tHi - tLo)),
    decode: (x) => inv(tLo + clamp01(x) * (tHi - tLo)),
  });
  /** Evenly spaced levels: discrete cells when few, continuous with rounding when many. */
  const levels = (): Coder => {
    const n = m.count;
    return {
      dim: n <= DISCRETE_MAX_LEVELS ? { kind: 'discrete', path: name, levels: n } : continuous,
      path,
      encode: (v) => {
        const i = m.indexOf(v);
        return i < 0 ? fail(v, 'is not one of its values') : (i + 0.5) / n;
      },
      decode: (x) => m.value(Math.min(n - 1, Math.max(0, Math.floor(clamp01(x) * n)))),
    };
  };
  /** A quantized leaf whose base law is encoded by `base`; decode rounds to a level in range. */
  const quantized = (base: Coder, q: number, qIsInteger: boolean, range: [number, number] | null): Coder => ({
    dim: continuous,
    path,
    encode: (v) => {
      const n = number(v);
      const k = roundHalfEven(n / q);
      if (Math.abs(k * q - n) > 1e-9 * Math.max(q, Math.abs(n))) fail(v, `is not a multiple of q = ${q}`);
      if (range && (k < range[0] || k > range[1])) fail(v, 'is outside the range of its levels');
      return base.encode(n);
    },
    decode: (x) => {
      let k = roundHalfEven((base.decode(x) as number) / q);
      if (range) k = Math.min(range[1], Math.max(range[0], k));
      return levelValue(k, q, qIsInteger);
    },
  });
  const normalCoder = (mu: number, sigma: number, log: boolean): Coder => ({
    dim: continuous,
    path,
    encode: (v) => {
      const n = number(v);
      const z = log ? Math.log(n === 0 ? Number.MIN_VALUE : positive(n)) : n;
      return clipCdf(normalCdf((z - mu) / sigma));
    },
    decode: (x) => {
      const z = mu + sigma * normalPpf(clipCdf(x));
      return log ? Math.exp(z) : z;
    },
  });
  const logBetween = (lo: number, hi: number, clampTo?: [number, number]): Coder =>
    linear(
      Math.log(lo),
      Math.log(hi),
      (v) => Math.log(v),
      (t) => {
        // exp(log(1e-6)) is 1.0000000000000004e-06: return the bounds themselves at the ends.
        if (t <= Math.log(lo)) return lo;
        if (t >= Math.log(hi)) return hi;
        const v = Math.exp(t);
        return clampTo ? Math.min(clampTo[1], Math.max(clampTo[0], v)) : v;
      },
    );

  switch (spec.distribution) {
    case 'constant':
      throw new Error('constants are not dimensions');
    case 'categorical':
    case 'categorical_w_probabilities':
      return {
        dim: { kind: 'categorical', path: name, choices: m.count },
        path,
        encode: (v) => {
          const i = m.indexOf(v);
          return i < 0 ? fail(v, 'is not one of its values') : i;
        },
        decode: (x) => m.value(Math.min(m.count - 1, Math.max(0, Math.round(x)))),
      };
    case 'int_uniform':
      return levels();
    case 'uniform':
      return linear(spec.min, spec.max, (v) => within(v, spec.min, spec.max), (t) => t);
    case 'log_uniform':
      return linear(spec.min, spec.max, (v) => within(Math.log(positive(v)), spec.min, spec.max), (t) => Math.exp(t));
    case 'inv_log_uniform':
      return linear(-spec.max, -spec.min, (v) => within(Math.log(positive(v)), -spec.max, -spec.min), (t) => Math.exp(t));
    case 'log_uniform_values':
    case 'inv_log_uniform_values': {
      const lo = spec.min;
      const hi = spec.max;
      const c = logBetween(lo, hi, [lo, hi]);
      return { ...c, encode: (v) => c.encode(within(positive(number(v)), lo, hi)) };
    }
    case 'normal':
      return normalCoder(spec.mu, spec.sigma, false);
    case 'log_normal':
      return normalCoder(spec.mu, spec.sigma, true);
    case 'beta':
      return linear(0, 1, (v) => within(v, 0, 1), (t) => t);
    case 'q_uniform':
    case 'q_beta':
      return levels();
    case 'q_log_uniform':
    case 'q_log_uniform_values': {
      const [lo, hi] = quantizedBounds(spec)!;
      const range = quantizedRange(lo, hi, spec.q);
      const base = logBetween(lo, hi, [lo, hi]);
      // ln 0 is −∞: a level of 0 (possible when q > 2·min) sits at the low end.
      const safeBase: Coder = { ...base, encode: (v) => ((v as number) <= 0 ? 0 : base.encode(v)) };
      return quantized(safeBase, spec.q, spec.qIsInteger, range);
    }
    case 'q_normal':
      return quantized(normalCoder(spec.mu, spec.sigma, false), spec.q, spec.qIsInteger, null);
    case 'q_log_normal':
      return quantized(normalCoder(spec.mu, spec.sigma, true), spec.q, spec.qIsInteger, null);
  }
}

/** One value of a configuration that is not in the space: its path from the top of the params, and why. */
export interface ParamsIssue {
  path: string[];
  message: string;
}

/**
 * Every way `params` falls outside the space, with the path of the offending value: a value out of
 * its range or not among its values, a missing parameter, or a key the space does not have. Empty
 * when `encode` would accept it (the same rules: this is how explicit configurations are checked
 * before they become runs).
 */
export function paramsIssues(spec: { readonly parameters: { readonly [name: string]: ParameterSpec } }, params: Params): ParamsIssue[] {
  const issues: ParamsIssue[] = [];
  const unknown = (value: JsonValue | undefined, block: { readonly [name: string]: ParameterSpec }, path: string[]): void => {
    if (value === null || typeof value !== 'object' || Array.isArray(value)) return;
    for (const key of sortedKeys(value)) {
      const child = block[key];
      if (!child) {
        issues.push({ path: [...path, key], message: `is not a parameter of this sweep; its parameters here are ${sortedKeys(block).join(', ') || 'none'}` });
      } else if (child.distribution === 'nested') unknown(value[key], child.parameters, [...path, key]);
    }
  };
  unknown(params, spec.parameters, []);
  for (const m of flattenParameters(spec.parameters).map(leafModel)) {
    const v = getPath(params, m.flat.path);
    if (v === undefined) {
      issues.push({ path: [...m.flat.path], message: 'is missing: every parameter of the sweep needs a value' });
      continue;
    }
    try {
      if (m.count === 1) {
        if (m.indexOf(v) !== 0) issues.push({ path: [...m.flat.path], message: `must be ${JSON.stringify(m.value(0))} (got ${JSON.stringify(v)})` });
      } else coderFor(m).encode(v);
    } catch (err) {
      if (!(err instanceof DoesNotFit)) throw err;
      issues.push({ path: [...m.flat.path], message: err.message.replace(/^params do not fit the space: [^=]+= /, '') });
    }
  }
  return issues;
}
