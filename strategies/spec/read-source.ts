/**
 * Turns what a user handed us (YAML text, bytes of a file, or an already-parsed object) into plain
 * JSON-like data, plus the set of numbers that were written as floats.
 *
 * Why not `doc.toJS()`: W&B's inference rules depend on how a number was written (`min: 0.0` is a
 * float, so `{min: 0.0, max: 1.0}` is `uniform`, not `int_uniform`; `q: 1` casts to int, `q: 1.0`
 * does not). JavaScript numbers forget that, so this walker reads it off the YAML node as it
 * converts. It also owns the resource bounds: input size, alias count and expanded node count are
 * all capped, so a "billion laughs" file fails fast in bounded memory instead of expanding.
 */
import { isAlias, isMap, isPair, isScalar, isSeq, parseDocument, visit, type Alias, type Document, type Node, type Scalar } from 'yaml';
import type { Issue } from '../types.js';

/**
 * Sweep files are a few KB; 256 KB is far beyond any real one. The YAML parser spends a few
 * microseconds per character (2–6 µs measured on a busy 2-core box), so this also bounds the
 * time one file can take to read to about a second.
 */
export const MAX_SOURCE_CHARS = 256 * 1024;
/** Aliases are rare in sweep files; a few hundred covers anchors for shared blocks. */
export const MAX_ALIASES = 1000;
/**
 * Nodes after alias expansion. A 200-parameter sweep with 50 values each is ~15k nodes; a file past
 * this holds data, and the server would spend its event loop storing and sending it back.
 */
export const MAX_NODES = 50_000;
/** Nesting depth of the data (parameters nest a few levels; values rarely more). */
export const MAX_DEPTH = 64;
/** Length of one mapping key: W&B keys and parameter names are words, not text. */
export const MAX_KEY_CHARS = 256;
/** Length of one string value (a description, a command element, a categorical value). */
export const MAX_STRING_CHARS = 64 * 1024;

/**
 * NUL, and UTF-16 surrogates that are not part of a pair: neither can be stored (Postgres text
 * and JSON refuse NUL; a lone surrogate has no UTF-8 form) nor passed to a program as an argument.
 * They reach a string through YAML escapes (`"\0"`, `"\ud800"`) or JSON ones.
 */
// eslint-disable-next-line no-control-regex -- NUL is exactly what this looks for
const UNSTORABLE = /[\u0000\p{Cs}]/u;

/** Why a key or string value of a sweep file cannot be accepted, or undefined when it can. */
function textProblem(text: string, what: 'key' | 'value'): string | undefined {
  const max = what === 'key' ? MAX_KEY_CHARS : MAX_STRING_CHARS;
  if (text.length > max) {
    return what === 'key'
      ? `a key is ${text.length} characters long (the limit is ${MAX_KEY_CHARS}); keys are names such as parameters or lr`
      : `a string is ${text.length} characters long (the limit is ${MAX_STRING_CHARS}); a sweep file holds a search space, not data`;
  }
  const bad = UNSTORABLE.exec(text);
  if (bad) {
    const which = bad[0] === '\u0000' ? 'a NUL character (\\0)' : `a lone UTF-16 surrogate (\\u${bad[0].charCodeAt(0).toString(16)})`;
    return `${what === 'key' ? 'a key' : 'a string'} contains ${which}, which cannot be stored or passed to a program; remove it`;
  }
  return undefined;
}

export interface SourceData {
  value: unknown;
  /** Keys (`pathKey(path)`) of numbers written as floats (`1.0`, `1e-5`, `!!float 1`). */
  floats: Set<string>;
  /**
   * Whether `floats` knows how each number was written (text input). For objects it only knows
   * which numbers are not whole: `1.0` and `1` are the same JavaScript number.
   */
  literalNumbers: boolean;
  warnings: Issue[];
}

export type ReadResult = ({ ok: true } & SourceData) | { ok: false; issues: Issue[] };

/** Path segments joined by NUL: unlike dots, NUL cannot occur in a parameter name. */
export function pathKey(path: readonly string[]): string {
  return path.join('\u0000');
}

class Budget extends Error {}

/** Plain words PyYAML (YAML 1.1) reads as booleans and YAML 1.2 reads as strings. */
const YAML11_BOOLEANS = /^(?:yes|Yes|YES|no|No|NO|on|On|ON|off|Off|OFF)$/;

/** Accepts YAML/JSON text, UTF-8 bytes, or an object (from JSON or code). */
export function readSource(input: unknown): ReadResult {
  if (input instanceof Uint8Array) {
    if (input.length > MAX_SOURCE_CHARS * 4) return fail(tooBig(input.length, 'bytes'));
    let text: string;
    try {
      text = new TextDecoder('utf-8', { fatal: true }).decode(input);
    } catch {
      return fail(
        'the sweep file is not UTF-8 text (is it a binary file?); give a YAML or JSON file such as sweep.yaml',
      );
    }
    return readText(text);
  }
  if (typeof input === 'string') return readText(input);
  if (input === null || input === undefined) return fail('the sweep config is empty; it needs at least method and parameters');
  if (typeof input === 'object') return readObject(input);
  return fail(`the sweep config must be a mapping of keys such as method and parameters (got a ${typeof input})`);
}

function fail(message: string, path = ''): { ok: false; issues: Issue[] } {
  return { ok: false, issues: [{ path, message }] };
}

function tooBig(size: number, unit: string): string {
  return `the sweep file is too large (${size} ${unit}; the limit is ${MAX_SOURCE_CHARS} characters); a sweep file holds a search space, not data`;
}

function readText(text: string): ReadResult {
  if (text.length > MAX_SOURCE_CHARS) return fail(tooBig(text.length, 'characters'));
  // NUL never occurs in YAML text; replacement characters mean the bytes were not UTF-8.
  if (text.includes('\u0000') || text.includes('\ufffd') || UNSTORABLE.test(text)) {
    return fail('the sweep file looks binary (it contains NUL, lone surrogates or non-UTF-8 bytes); give a YAML or JSON text file');
  }
  if (text.trim() === '') return fail('the sweep file is empty; it needs at least method and parameters');

  let doc: Document.Parsed;
  try {
    // uniqueKeys is checked by the walker with a set: the parser's own check scans the map for
    // every key, which is quadratic (a 60k-key mapping took minutes).
    doc = parseDocument(text, { version: '1.2', schema: 'core', uniqueKeys: false, prettyErrors: true, strict: true });
  } catch (err) {
    return fail(`the sweep file is not valid YAML: ${err instanceof Error ? err.message : String(err)}`);
  }
  if (doc.errors.length > 0) {
    // Later syntax errors mostly cascade from the first one; it alone locates the problem.
    const more = doc.errors.length > 1 ? ` (${doc.errors.length - 1} more syntax error${doc.errors.length > 2 ? 's' : ''} may follow from it)` : '';
    const first = doc.errors[0]!;
    return fail(`YAML syntax: ${firstLine(first.message)}${more}${macroInFlowHint(text, first.linePos?.[0]?.line)}`);
  }
  const warnings: Issue[] = doc.warnings.map((w) => ({ path: '', message: `YAML: ${firstLine(w.message)}` }));
  const walker = new YamlWalker(doc);
  try {
    const value = walker.convert(doc.contents, [], 0);
    return { ok: true, value, floats: walker.floats, literalNumbers: true, warnings: [...warnings, ...walker.warnings] };
  } catch (err) {
    if (err instanceof WalkError) return fail(err.message, err.path);
    if (err instanceof Budget) return fail(err.message);
    throw err;
  }
}

/**
 * `command: [${env}, ${program}]` is W&B's own documented form, yet no YAML parser reads it:
 * inside `[...]`, `{` opens a flow mapping. When the failing line (or, without a position, any
 * line) has an unquoted `${` inside brackets, say how to write it instead.
 */
function macroInFlowHint(text: string, line: number | undefined): string {
  const lines = text.split(/\r?\n|\r/);
  const suspects = line === undefined ? lines : [lines[line - 1] ?? ''];
  if (!suspects.some((l) => /\[[^\]'"#]*(?<!['"])\$\{/.test(l))) return '';
  return '. A `${...}` macro inside [ ] opens a YAML mapping: use a block list (one `- ${env}` per line) or quote the element (`"${env}"`)';
}

/** The yaml package's pretty errors end their first line with ':' before a code excerpt. */
function firstLine(message: string): string {
  return message.split('\n')[0]!.trim().replace(/:$/, '');
}

class WalkError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(message);
  }
}

function dotted(path: readonly string[]): string {
  return path.join('.');
}

function setKey(obj: Record<string, unknown>, key: string, value: unknown): void {
  // defineProperty, so a key named `__proto__` is data, not a prototype change.
  Object.defineProperty(obj, key, { value, enumerable: true, writable: true, configurable: true });
}

class YamlWalker {
  readonly floats = new Set<string>();
  readonly warnings: Issue[] = [];
  private nodes = 0;
  private aliases = 0;
  private readonly resolving = new Set<Node>();
  /**
   * What each alias refers to, found in one pass. `Alias.resolve` searches the whole document for
   * every alias, which is quadratic in a file of many aliases.
   */
  private readonly targets = new Map<Alias, Node | undefined>();

  constructor(doc: Document.Parsed) {
    // An alias refers to the closest anchor of that name before it in document order, which is
    // the order `visit` walks in (a collection before its items, a key before its value).
    const anchors = new Map<string, Node>();
    visit(doc, {
      Node: (_key, node) => {
        if (isAlias(node)) this.targets.set(node, anchors.get(node.source));
        else if (node.anchor) anchors.set(node.anchor, node);
      },
    });
  }

  private tick(): void {
    if (++this.nodes > MAX_NODES) {
      throw new Budget(
        `the sweep file expands to more than ${MAX_NODES} values (through YAML aliases, or sheer size); refusing to expand it further`,
      );
    }
  }

  convert(node: unknown, path: string[], depth: number): unknown {
    if (depth > MAX_DEPTH) {
      throw new WalkError(dotted(path), `nested more than ${MAX_DEPTH} levels deep; flatten the structure`);
    }
    this.tick();
    if (node === null || node === undefined) return null;
    if (isAlias(node)) {
      if (++this.aliases > MAX_ALIASES) {
        throw new Budget(`the sweep file uses more than ${MAX_ALIASES} YAML aliases; refusing to expand them`);
      }
      const target = this.targets.get(node);
      if (!target) throw new WalkError(dotted(path), `YAML alias *${node.source} has no matching anchor &${node.source}`);
      if (this.resolving.has(target)) {
        throw new WalkError(dotted(path), `YAML alias *${node.source} refers to itself`);
      }
      this.resolving.add(target);
      try {
        return this.convert(target, path, depth + 1);
      } finally {
        this.resolving.delete(target);
      }
    }
    if (isScalar(node)) return this.scalar(node, path);
    if (isSeq(node)) return node.items.map((item, i) => this.convert(item, [...path, String(i)], depth + 1));
    if (isMap(node)) {
      const out: Record<string, unknown> = {};
      const merges: unknown[] = [];
      const seen = new Set<string>();
      for (const pair of node.items) {
        if (!isPair(pair)) continue;
        const keyNode = pair.key;
        // `<<: *anchor` merges as in YAML 1.1 (PyYAML, hence W&B, honours it).
        if (isScalar(keyNode) && keyNode.value === '<<' && keyNode.type === 'PLAIN') {
          merges.push(pair.value);
          continue;
        }
        const key = this.key(keyNode, path);
        if (seen.has(key)) {
          throw new WalkError(dotted([...path, key]), `Map keys must be unique: ${JSON.stringify(key)} appears more than once in this mapping; keep one`);
        }
        seen.add(key);
        setKey(out, key, this.convert(pair.value, [...path, key], depth + 1));
      }
      for (const m of merges) this.merge(out, m, path, depth);
      return out;
    }
    throw new WalkError(dotted(path), 'unsupported YAML node');
  }

  private merge(out: Record<string, unknown>, source: unknown, path: string[], depth: number): void {
    const sources = isSeq(source) ? source.items : [source];
    for (const s of sources) {
      const value = this.convert(s, path, depth + 1);
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        throw new WalkError(dotted(path), 'a YAML merge key (<<) needs a mapping or a list of mappings');
      }
      for (const [k, v] of Object.entries(value)) if (!Object.hasOwn(out, k)) setKey(out, k, v);
    }
  }

  private key(keyNode: unknown, path: string[]): string {
    if (keyNode === null || keyNode === undefined) return 'null';
    if (isScalar(keyNode)) {
      const v = keyNode.value;
      if (typeof v === 'string') {
        const problem = textProblem(v, 'key');
        if (problem) throw new WalkError(dotted(path), problem);
        return v;
      }
      if (typeof v === 'number' || typeof v === 'boolean' || v === null) return String(v);
    }
    throw new WalkError(dotted(path), 'a mapping key must be a plain string (found a list or mapping used as a key)');
  }

  private scalar(node: Scalar, path: string[]): unknown {
    const v: unknown = node.value;
    const src = (node.source ?? '').trim();
    if (typeof v === 'number') {
      const explicitFloat = node.tag === 'tag:yaml.org,2002:float';
      const explicitInt = node.tag === 'tag:yaml.org,2002:int';
      const literalFloat = node.format !== 'HEX' && node.format !== 'OCT' && /[.eE]/.test(src);
      if (!explicitInt && (explicitFloat || literalFloat || !Number.isInteger(v))) this.floats.add(pathKey(path));
      return v;
    }
    // `!!float 1` is a valid float in YAML 1.1 (what W&B's docs show) but the 1.2 core schema only
    // resolves `!!float` for literals with a dot or exponent; read it as the float it means.
    if (typeof v === 'string' && node.tag === 'tag:yaml.org,2002:float') {
      const n = Number(v.trim());
      if (v.trim() !== '' && Number.isFinite(n)) {
        this.floats.add(pathKey(path));
        return n;
      }
    }
    if (typeof v === 'string' && node.type === 'PLAIN' && YAML11_BOOLEANS.test(v)) {
      this.warnings.push({
        path: dotted(path),
        message: `${v} is the string "${v}" in YAML 1.2, but a boolean in PyYAML (so in W&B); write true or false for a boolean, or quote it to keep the string`,
      });
    }
    if (typeof v === 'string') {
      const problem = textProblem(v, 'value');
      if (problem) throw new WalkError(dotted(path), problem);
      return v;
    }
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'bigint') return Number(v);
    throw new WalkError(
      dotted(path),
      `this YAML value (${node.tag ?? typeof v}) cannot be part of a sweep config; use a string, number, boolean, list or mapping`,
    );
  }
}

/** Walks a plain object (JSON body, code) with the same bounds as YAML, rejecting cycles. */
function readObject(input: object): ReadResult {
  const floats = new Set<string>();
  let nodes = 0;
  const seen = new Set<object>();
  const walk = (v: unknown, path: string[], depth: number): unknown => {
    if (++nodes > MAX_NODES) throw new Budget(`the sweep config holds more than ${MAX_NODES} values; refusing it`);
    if (depth > MAX_DEPTH) throw new WalkError(dotted(path), `nested more than ${MAX_DEPTH} levels deep; flatten the structure`);
    if (typeof v === 'string') {
      const problem = textProblem(v, 'value');
      if (problem) throw new WalkError(dotted(path), problem);
      return v;
    }
    if (v === null || typeof v === 'boolean') return v;
    if (typeof v === 'number') {
      if (!Number.isInteger(v)) floats.add(pathKey(path));
      return v;
    }
    if (typeof v === 'object') {
      if (seen.has(v)) throw new WalkError(dotted(path), 'the sweep config refers to itself (a cycle)');
      seen.add(v);
      try {
        if (Array.isArray(v)) return v.map((x, i) => walk(x, [...path, String(i)], depth + 1));
        const proto: unknown = Object.getPrototypeOf(v);
        if (proto !== Object.prototype && proto !== null) {
          throw new WalkError(dotted(path), 'only plain objects, arrays, strings, numbers, booleans and null are allowed');
        }
        const out: Record<string, unknown> = {};
        for (const [k, x] of Object.entries(v)) {
          const problem = textProblem(k, 'key');
          if (problem) throw new WalkError(dotted(path), problem);
          setKey(out, k, walk(x, [...path, k], depth + 1));
        }
        return out;
      } finally {
        seen.delete(v);
      }
    }
    if (v === undefined) return null;
    throw new WalkError(dotted(path), `a ${typeof v} cannot be part of a sweep config`);
  };
  try {
    return { ok: true, value: walk(input, [], 0), floats, literalNumbers: false, warnings: [] };
  } catch (err) {
    if (err instanceof WalkError) return fail(err.message, err.path);
    if (err instanceof Budget) return fail(err.message);
    throw err;
  }
}
