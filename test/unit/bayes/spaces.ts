/** Small hand-made unit-cube encodings for testing the GP strategy without the sweep parser. */
import type { Dimension, EncodedSpace, MetricSpec, Params } from '../../../strategies/types.js';

export interface HandSpec {
  /** Continuous parameters on [lo, hi]. */
  floats?: Array<{ name: string; lo: number; hi: number }>;
  /** Integer parameters lo..hi as `discrete` dimensions. */
  ints?: Array<{ name: string; lo: number; hi: number }>;
  /** Categorical parameters. */
  cats?: Array<{ name: string; values: string[] }>;
}

/** Dimensions in the order floats, ints, cats; encode throws on values outside the space. */
export function handSpace(spec: HandSpec): EncodedSpace {
  const floats = spec.floats ?? [];
  const ints = spec.ints ?? [];
  const cats = spec.cats ?? [];
  const dimensions: Dimension[] = [
    ...floats.map((f) => ({ kind: 'continuous' as const, path: f.name })),
    ...ints.map((i) => ({ kind: 'discrete' as const, path: i.name, levels: i.hi - i.lo + 1 })),
    ...cats.map((c) => ({ kind: 'categorical' as const, path: c.name, choices: c.values.length })),
  ];
  return {
    dimensions,
    encode(params: Params): Float64Array {
      const x = new Float64Array(dimensions.length);
      let j = 0;
      for (const f of floats) {
        const v = params[f.name];
        if (typeof v !== 'number' || v < f.lo || v > f.hi) throw new RangeError(`${f.name} = ${JSON.stringify(v)} is outside [${f.lo}, ${f.hi}]`);
        x[j++] = (v - f.lo) / (f.hi - f.lo);
      }
      for (const i of ints) {
        const v = params[i.name];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < i.lo || v > i.hi) throw new RangeError(`${i.name} = ${JSON.stringify(v)} is not an integer in range`);
        x[j++] = (v - i.lo + 0.5) / (i.hi - i.lo + 1);
      }
      for (const c of cats) {
        const k = c.values.indexOf(params[c.name] as string);
        if (k < 0) throw new RangeError(`${c.name} = ${JSON.stringify(params[c.name])} is not a choice`);
        x[j++] = k;
      }
      return x;
    },
    decode(x: ArrayLike<number>): Params {
      const p: Params = {};
      let j = 0;
      for (const f of floats) p[f.name] = f.lo + Math.min(1, Math.max(0, x[j++]!)) * (f.hi - f.lo);
      for (const i of ints) {
        const levels = i.hi - i.lo + 1;
        p[i.name] = i.lo + Math.min(levels - 1, Math.max(0, Math.floor(x[j++]! * levels)));
      }
      for (const c of cats) p[c.name] = c.values[Math.min(c.values.length - 1, Math.max(0, Math.round(x[j++]!)))]!;
      return p;
    },
  };
}

/** The sweeps' metric in these tests: loss, minimized, W&B's impute. */
export const minimize: MetricSpec = { name: 'loss', goal: 'minimize', impute: 'worst', imputeWhileRunning: false };

/** Branin on the unit square (x1 ∈ [−5, 10], x2 ∈ [0, 15]); its minimum is BRANIN_MIN. */
export function branin(p: Params): number {
  const x1 = -5 + 15 * (p.x1 as number);
  const x2 = 15 * (p.x2 as number);
  const b = 5.1 / (4 * Math.PI * Math.PI);
  return (x2 - b * x1 * x1 + (5 / Math.PI) * x1 - 6) ** 2 + 10 * (1 - 1 / (8 * Math.PI)) * Math.cos(x1) + 10;
}
export const BRANIN_MIN = 0.39788735772973816;
/** Two continuous parameters x1, x2 on [0, 1]. */
export const unit2 = (): EncodedSpace =>
  handSpace({
    floats: [
      { name: 'x1', lo: 0, hi: 1 },
      { name: 'x2', lo: 0, hi: 1 },
    ],
  });
