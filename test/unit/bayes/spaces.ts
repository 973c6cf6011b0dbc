/** Small hand-made unit-cube encodings for testing the GP strategy without the sweep parser. */
import type { Dimension, EncodedSpace, Params } from '../../../strategies/types.js';

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
