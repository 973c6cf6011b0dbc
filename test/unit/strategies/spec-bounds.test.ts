/**
 * What the sweep parser refuses so that a file can neither break storage nor hold the server: text
 * that cannot be stored (NUL, lone surrogates), strings, keys and lists past their bounds, counts
 * that do not fit where they are stored, and the shapes that used to cost quadratic time (long
 * words in "did you mean", many keys, many aliases).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { validateSweepConfig } from '../../../strategies/index.js';
import { closestMatch, editDistance } from '../../../strategies/spec/closest-match.js';
import { MAX_KEY_CHARS, MAX_STRING_CHARS } from '../../../strategies/spec/read-source.js';
import { MAX_PARAMETERS, MAX_VALUES } from '../../../strategies/spec/validate-parameters.js';
import { MAX_HYPERBAND_S, MAX_RUNS } from '../../../strategies/spec/validate-sweep-config.js';

const HEAD = 'method: random\nprogram: train.py\n';

function errorsOf(input: unknown): Array<[string, string]> {
  const r = validateSweepConfig(input);
  assert.equal(r.valid, false, 'expected the file to be refused');
  return r.errors.map((e) => [e.path, e.message]);
}

function only(input: unknown, path: string, message: RegExp): void {
  const errors = errorsOf(input);
  assert.equal(errors.length, 1, JSON.stringify(errors));
  assert.equal(errors[0]![0], path);
  assert.match(errors[0]![1], message);
}

describe('sweep files: text that cannot be stored', () => {
  it('refuses a NUL written as a YAML escape, in a value and in a key', () => {
    only(`${HEAD}parameters:\n  x: {values: ["a\\0b"]}\n`, 'parameters.x.values.0', /NUL character/);
    only(`${HEAD}parameters:\n  "x\\0": {values: [1]}\n`, 'parameters', /a key contains a NUL/);
  });

  it('refuses a lone surrogate written as a YAML or JSON escape; a pair (an emoji) is fine', () => {
    only(`${HEAD}parameters:\n  x: {values: ["\\ud800"]}\n`, 'parameters.x.values.0', /lone UTF-16 surrogate \(\\ud800\)/);
    only({ method: 'random', program: 't\udc00.py', parameters: { x: { values: [1] } } }, 'program', /lone UTF-16 surrogate/);
    only({ method: 'random', program: 't.py', parameters: { x: { values: [1] } }, description: 'a\u0000' }, 'description', /NUL/);
    only({ method: 'random', program: 't.py', parameters: { ['x\ud800']: { values: [1] } } }, 'parameters', /a key contains a lone/);
    assert.equal(validateSweepConfig(`${HEAD}parameters:\n  x: {values: ["\\ud83d\\ude00", "😀"]}\n`).valid, true);
  });

  it('refuses a lone surrogate anywhere in the text, even in a comment (it cannot be stored as config text)', () => {
    only(`${HEAD}# \ud800\nparameters:\n  x: {values: [1]}\n`, '', /looks binary/);
  });
});

describe('sweep files: keys named after Object.prototype members', () => {
  it('reports __proto__, constructor and toString as unknown keys, with string messages (an object message made the API answer 500)', () => {
    for (const key of ['__proto__', 'constructor', 'toString', 'hasOwnProperty']) {
      const r = validateSweepConfig(`${key}: random\nmethod: random\nprogram: t.py\nparameters:\n  x: {values: [1]}\n`);
      assert.equal(r.valid, false);
      assert.deepEqual(r.errors.map((e) => [e.path, typeof e.message]), [[key, 'string']]);
      assert.match(r.errors[0]!.message, /unknown top-level key/);
    }
  });
});

describe('sweep files: bounded sizes', () => {
  it('bounds keys and string values, with the limit in the message', () => {
    only(`${HEAD}parameters:\n  ${'k'.repeat(MAX_KEY_CHARS + 1)}: {values: [1]}\n`, 'parameters', new RegExp(`limit is ${MAX_KEY_CHARS}`));
    only(`${HEAD}description: ${'d'.repeat(MAX_STRING_CHARS + 1)}\nparameters:\n  x: {values: [1]}\n`, 'description', new RegExp(`limit is ${MAX_STRING_CHARS}`));
    assert.equal(validateSweepConfig(`${HEAD}description: ${'d'.repeat(MAX_STRING_CHARS)}\nparameters:\n  x: {values: [1]}\n`).valid, true);
  });

  it('bounds the number of parameters and of listed values', () => {
    const many = Object.fromEntries(Array.from({ length: MAX_PARAMETERS + 1 }, (_, i) => [`p${i}`, { value: i }]));
    only({ method: 'random', program: 't.py', parameters: many }, 'parameters', new RegExp(`more than ${MAX_PARAMETERS} parameters`));
    const values = Array.from({ length: MAX_VALUES + 1 }, (_, i) => i);
    only({ method: 'random', program: 't.py', parameters: { x: { values } } }, 'parameters.x.values', new RegExp(`limit is ${MAX_VALUES}`));
  });

  it('refuses run counts that cannot be stored: run_cap and grids past 2^31 - 1', () => {
    only(`${HEAD}run_cap: ${MAX_RUNS + 1}\nparameters:\n  x: {values: [1]}\n`, 'run_cap', /at most 2147483647/);
    assert.equal(validateSweepConfig(`${HEAD}run_cap: ${MAX_RUNS}\nparameters:\n  x: {values: [1]}\n`).valid, true);
    // 5 parameters of 100 values each: 10^10 cells.
    const grid = Object.fromEntries(Array.from({ length: 5 }, (_, i) => [`p${i}`, { values: Array.from({ length: 100 }, (_, j) => j) }]));
    only({ method: 'grid', program: 't.py', parameters: grid }, 'parameters', /more than can ever run/);
  });

  it("bounds hyperband's s (a loop per band)", () => {
    only(
      `${HEAD}metric: {name: loss, goal: minimize}\nearly_terminate: {type: hyperband, max_iter: 1000000000, s: ${MAX_HYPERBAND_S + 1}, eta: 1.0000001}\nparameters:\n  x: {values: [1]}\n`,
      'early_terminate.s',
      /at most 100/,
    );
  });

  it('reports a duplicate key at its path, in mappings of any size', () => {
    only(`${HEAD}parameters:\n  lr: {values: [1]}\n  lr: {values: [2]}\n`, 'parameters.lr', /Map keys must be unique/);
    const keys = Array.from({ length: 10_000 }, (_, i) => `      k${i}: 1\n`).join('');
    only(`${HEAD}parameters:\n  x:\n    value:\n${keys}      k7: 2\n`, 'parameters.x.value.k7', /unique/);
  });

  it('resolves an alias to the closest anchor before it, as YAML says', () => {
    const r = validateSweepConfig(`${HEAD}a: &v [1, 2]\nb: &v [3]\nparameters:\n  x: {values: *v}\n`);
    // Unknown top-level keys a and b are the only errors: the alias itself resolved.
    assert.deepEqual(r.errors.map((e) => e.path), ['a', 'b']);
    only(`${HEAD}parameters:\n  x: &self {values: [*self]}\n`, 'parameters.x.values.0.values.0', /refers to itself/);
  });
});

describe('"did you mean": linear in the word', () => {
  it('still finds typos, transpositions included', () => {
    assert.equal(editDistance('maximise', 'maximize'), 1);
    assert.equal(editDistance('valeus', 'values'), 1);
    assert.equal(editDistance('', 'abc'), 3);
    assert.equal(editDistance('kitten', 'sitting'), 3);
    assert.equal(closestMatch('unifrom', ['uniform', 'normal']), 'uniform');
    assert.equal(closestMatch('Uniform', ['uniform']), 'uniform');
    assert.equal(closestMatch('gaussian', ['uniform', 'normal']), undefined);
  });

  it('answers at once for a word as long as a string may be (it took ~20 µs per character)', () => {
    const word = 'a'.repeat(MAX_STRING_CHARS);
    const started = performance.now();
    const errors = errorsOf({ method: 'random', program: 't.py', parameters: { x: { distribution: word, min: 0, max: 1 }, [`y${'b'.repeat(200)}`]: { [word.slice(0, 200)]: 1 } } });
    const ms = performance.now() - started;
    assert.equal(errors.length, 3);
    // Generous: the quadratic-cost version took over a second here even on an idle machine.
    assert.ok(ms < 500, `validation took ${ms.toFixed(0)} ms`);
  });
});
