/**
 * Nested `parameters:` blocks flattened to leaves in W&B's order: names sorted at every level,
 * depth first (W&B's `HyperParameterSet.from_config` walks `sorted(d.items())` recursively). Grid
 * order, the unit-cube dimensions and random streams all follow this order, so it is defined once.
 */
import type { JsonValue, ParameterSpec, Params } from '../types.js';

export type LeafSpec = Exclude<ParameterSpec, { distribution: 'nested' }>;

export interface FlatParam {
  /** Keys from the top of `params` down to the leaf: `['optimizer', 'lr']`. */
  path: readonly string[];
  /** Dotted display name (`optimizer.lr`); also the `Dimension.path` of the encoding. */
  name: string;
  spec: LeafSpec;
}

/** Python's `sorted` on str compares code points; JS's default sort compares UTF-16 units. */
export function compareCodePoints(a: string, b: string): number {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return x.done === y.done ? 0 : x.done ? -1 : 1;
    const cx = x.value.codePointAt(0)!;
    const cy = y.value.codePointAt(0)!;
    if (cx !== cy) return cx - cy;
  }
}

export function sortedKeys(obj: object): string[] {
  return Object.keys(obj).sort(compareCodePoints);
}

export function flattenParameters(parameters: { readonly [name: string]: ParameterSpec }): FlatParam[] {
  const out: FlatParam[] = [];
  const walk = (block: { readonly [name: string]: ParameterSpec }, prefix: readonly string[]): void => {
    for (const key of sortedKeys(block)) {
      const spec = block[key]!;
      const path = [...prefix, key];
      if (spec.distribution === 'nested') walk(spec.parameters, path);
      else out.push({ path, name: path.join('.'), spec });
    }
  };
  walk(parameters, []);
  return out;
}

/** The value at `path`, or `undefined` when some level is missing or not an object. */
export function getPath(params: Params, path: readonly string[]): JsonValue | undefined {
  let cur: JsonValue | undefined = params;
  for (const key of path) {
    if (cur === null || typeof cur !== 'object' || Array.isArray(cur) || !Object.hasOwn(cur, key)) return undefined;
    cur = cur[key];
  }
  return cur;
}

/** Sets `path` in `params`, creating intermediate objects. */
export function setPath(params: Params, path: readonly string[], value: JsonValue): void {
  let cur: Params = params;
  for (let i = 0; i < path.length - 1; i++) {
    const key = path[i]!;
    const next = Object.hasOwn(cur, key) ? cur[key] : undefined;
    if (next !== null && typeof next === 'object' && !Array.isArray(next)) {
      cur = next;
    } else {
      const fresh: Params = {};
      defineKey(cur, key, fresh);
      cur = fresh;
    }
  }
  defineKey(cur, path[path.length - 1]!, value);
}

function defineKey(obj: Params, key: string, value: JsonValue): void {
  // A parameter may be named `__proto__`-like; defineProperty keeps it an own data key.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

/** Deep copy of a JSON value, so proposals never share structure with the spec. */
export function cloneJson<T extends JsonValue>(value: T): T {
  if (value === null || typeof value !== 'object') return value;
  if (Array.isArray(value)) return value.map((v) => cloneJson(v)) as T;
  const out: { [k: string]: JsonValue } = {};
  for (const [k, v] of Object.entries(value)) defineKey(out, k, cloneJson(v));
  return out as T;
}
