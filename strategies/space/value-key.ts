/**
 * Value identity for deduplication (grid cells, random without repetition, categorical lookup):
 * a canonical string per JSON value. Numbers compare by value, so `3` and `3.0` (the same double)
 * are one value and `-0` is `0`, as W&B's grid hash turns whole floats into ints (wandb/sweeps#109);
 * objects compare with sorted keys, so `{a: 1, b: 2}` and `{b: 2, a: 1}` are one value; `true` and
 * `1` stay different (YAML and JSON tell them apart).
 */
import type { JsonValue } from '../types.js';
import { sortedKeys } from './flatten.js';

export function valueKey(value: JsonValue | undefined): string {
  if (value === undefined) return 'u';
  if (value === null) return 'n';
  switch (typeof value) {
    case 'boolean':
      return value ? 't' : 'f';
    case 'number':
      return `#${Object.is(value, -0) ? 0 : value}`;
    case 'string':
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((v) => valueKey(v)).join(',')}]`;
      return `{${sortedKeys(value)
        .map((k) => `${JSON.stringify(k)}:${valueKey(value[k])}`)
        .join(',')}}`;
  }
}

export function sameValue(a: JsonValue | undefined, b: JsonValue | undefined): boolean {
  return valueKey(a) === valueKey(b);
}
