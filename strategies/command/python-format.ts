/**
 * Values rendered the way a W&B agent renders them, so training scripts written for W&B parse
 * their arguments unchanged: `--name=value` uses Python's `str(value)` and `${args_json}` uses
 * Python's `json.dumps`. JavaScript's own formatting differs in every corner that matters
 * (`1e-05` vs `1e-5`, `True` vs `true`, `{'a': 1}` vs `{"a":1}`), hence this file.
 *
 * One thing cannot be reproduced: JSON has one number type, so a whole float (`3.0` in Python) and
 * an integer (`3`) are the same value once a run's params have been stored. Harrow renders whole
 * numbers up to 2^53 as integers (`3`); Python scripts that parse the argument with `float` or
 * `int` accept that, whereas W&B's `3.0` breaks `type=int`.
 */
import type { JsonValue } from '../types.js';
import { sortedKeys } from '../space/flatten.js';

/** Python's `repr(float)`: shortest round-trip digits, exponent form below 1e-4 and from 1e16. */
export function pyFloatRepr(x: number): string {
  if (Number.isNaN(x)) return 'nan';
  if (x === Infinity) return 'inf';
  if (x === -Infinity) return '-inf';
  if (x === 0) return Object.is(x, -0) ? '-0.0' : '0.0';
  // toExponential() with no argument gives the shortest digits that round-trip, like Python.
  const [mantissa, expText] = x.toExponential().split('e') as [string, string];
  const negative = mantissa.startsWith('-');
  const digits = mantissa.replace('-', '').replace('.', '');
  const exp = Number(expText);
  const decpt = exp + 1;
  let body: string;
  if (decpt <= -4 || decpt > 16) {
    const rest = digits.slice(1);
    body = `${digits[0]}${rest ? `.${rest}` : ''}e${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
  } else if (decpt <= 0) {
    body = `0.${'0'.repeat(-decpt)}${digits}`;
  } else if (decpt >= digits.length) {
    body = `${digits}${'0'.repeat(decpt - digits.length)}.0`;
  } else {
    body = `${digits.slice(0, decpt)}.${digits.slice(decpt)}`;
  }
  return negative ? `-${body}` : body;
}

/** A JSON number as Python prints it: whole numbers up to 2^53 as ints, the rest as floats. */
export function pyNumber(x: number): string {
  if (Number.isSafeInteger(x)) return String(x === 0 ? 0 : x);
  return pyFloatRepr(x);
}

// Python's str.isprintable() is false for these categories (and true for the ASCII space).
const NON_PRINTABLE = /[\p{Cc}\p{Cf}\p{Cs}\p{Co}\p{Cn}\p{Zl}\p{Zp}\p{Zs}]/u;

function hex(cp: number, width: number): string {
  return cp.toString(16).padStart(width, '0');
}

/** Python's `repr(str)`: single quotes unless the text has a ' and no ", escapes for the unprintable. */
export function pyStringRepr(s: string): string {
  const quote = s.includes("'") && !s.includes('"') ? '"' : "'";
  let out = quote;
  for (const ch of s) {
    const cp = ch.codePointAt(0)!;
    if (ch === quote || ch === '\\') out += `\\${ch}`;
    else if (ch === '\t') out += '\\t';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (cp < 0x20 || cp === 0x7f) out += `\\x${hex(cp, 2)}`;
    else if (cp < 0x7f) out += ch;
    else if (ch !== ' ' && NON_PRINTABLE.test(ch)) {
      out += cp <= 0xff ? `\\x${hex(cp, 2)}` : cp <= 0xffff ? `\\u${hex(cp, 4)}` : `\\U${hex(cp, 8)}`;
    } else out += ch;
  }
  return out + quote;
}

/**
 * Python's `repr()` of the value JSON decodes to (`None`, `True`, `[1, 'a']`, `{'k': 0.5}`).
 * Object keys are sorted, as W&B's run config arrives sorted (parameters are flattened in sorted
 * order, and its server serializes maps with sorted keys).
 */
export function pyRepr(v: JsonValue): string {
  if (v === null) return 'None';
  switch (typeof v) {
    case 'boolean':
      return v ? 'True' : 'False';
    case 'number':
      return pyNumber(v);
    case 'string':
      return pyStringRepr(v);
    case 'object':
      if (Array.isArray(v)) return `[${v.map((x) => pyRepr(x)).join(', ')}]`;
      return `{${sortedKeys(v)
        .map((k) => `${pyStringRepr(k)}: ${pyRepr(v[k]!)}`)
        .join(', ')}}`;
  }
}

/** Python's `str()`: a string as is, anything else as its repr. */
export function pyStr(v: JsonValue): string {
  return typeof v === 'string' ? v : pyRepr(v);
}

/** A JSON string as Python's `json.dumps` writes it (ensure_ascii: everything outside ' '..'~' escaped). */
function pyJsonString(s: string): string {
  let out = '"';
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const ch = s[i]!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (ch === '\b') out += '\\b';
    else if (ch === '\f') out += '\\f';
    else if (c < 0x20 || c > 0x7e) out += `\\u${hex(c, 4)}`;
    else out += ch;
  }
  return `${out}"`;
}

/** Python's `json.dumps(value)`: `", "` and `": "` separators, float repr, keys sorted (see pyRepr). */
export function pyJsonDumps(v: JsonValue): string {
  if (v === null) return 'null';
  switch (typeof v) {
    case 'boolean':
      return v ? 'true' : 'false';
    case 'number':
      if (Number.isNaN(v)) return 'NaN';
      if (!Number.isFinite(v)) return v > 0 ? 'Infinity' : '-Infinity';
      return pyNumber(v);
    case 'string':
      return pyJsonString(v);
    case 'object':
      if (Array.isArray(v)) return `[${v.map((x) => pyJsonDumps(x)).join(', ')}]`;
      return `{${sortedKeys(v)
        .map((k) => `${pyJsonString(k)}: ${pyJsonDumps(v[k]!)}`)
        .join(', ')}}`;
  }
}
