/**
 * Command rendering: one fixture per macro (test/fixtures/sweeps/macros/*.yaml, each stating the
 * expected argv, and optionally the environment and platform, in header comments), plus W&B's
 * value rendering (Python str() and json.dumps) checked against values printed by CPython.
 */
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { describe, it } from 'node:test';
import { createGridStrategy, defaultCommand, parseSweepConfig, renderArgsJson, renderCommand } from '../../../strategies/index.js';
import { lookupParam } from '../../../strategies/command/render-command.js';
import { pyFloatRepr, pyJsonDumps, pyRepr, pyStr, pyStringRepr } from '../../../strategies/command/python-format.js';

const dir = new URL('../../../../test/fixtures/sweeps/macros/', import.meta.url);

function header(text: string, key: string): string | undefined {
  const m = new RegExp(`^# ${key}: (.*)$`, 'm').exec(text);
  return m?.[1];
}

describe('command macros (fixtures)', () => {
  const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
  it('covers every macro', () => {
    const all = files.map((f) => readFileSync(new URL(f, dir), 'utf8')).join('\n');
    for (const m of ['env', 'interpreter', 'program', 'args', 'args_no_hyphens', 'args_no_boolean_flags', 'args_no_equals', 'args_json', 'args_json_file', 'args_append_hydra', 'args_override_hydra']) {
      assert.ok(all.includes(`\${${m}}`) || (m === 'env' && files.includes('default-command.yaml')), `no fixture uses \${${m}}`);
    }
    assert.ok(all.includes('${envvar:'));
  });

  for (const file of files) {
    it(file, () => {
      const text = readFileSync(new URL(file, dir), 'utf8');
      const expected = JSON.parse(header(text, 'argv')!) as string[];
      const env = JSON.parse(header(text, 'env') ?? '{}') as Record<string, string>;
      const platform = header(text, 'platform') ?? 'linux';
      const spec = parseSweepConfig(text);
      assert.deepEqual(spec.warnings, []);
      const [proposal] = createGridStrategy(spec).propose({ observations: [], pending: [], count: 1 });
      const argv = renderCommand(spec.command, proposal!.params, {
        env,
        platform,
        argsJsonFile: '/tmp/harrow/params.json',
        ...(spec.program === undefined ? {} : { program: spec.program }),
      });
      assert.deepEqual(argv, expected);
    });
  }
});

describe('renderCommand', () => {
  it('defaultCommand is W&B\'s default and a fresh copy each time', () => {
    const a = defaultCommand();
    assert.deepEqual(a, ['${env}', '${interpreter}', '${program}', '${args}']);
    a.push('x');
    assert.equal(defaultCommand().length, 4);
  });

  it('renders params stored with any key order in sorted order, as W&B receives them', () => {
    const argv = renderCommand(['${args}'], { b: 1, a: { z: 1, y: [true, null] } }, { env: {} });
    assert.deepEqual(argv, ["--a={'y': [True, None], 'z': 1}", '--b=1']);
  });

  it('passes elements with spaces and shell characters as one argument, untouched', () => {
    assert.deepEqual(renderCommand(['--logdir x --configs y', '$HOME', '~/data', "it's"], {}, { env: { HOME: '/root' } }), [
      '--logdir x --configs y',
      '$HOME',
      '~/data',
      "it's",
    ]);
  });

  it('fails loudly, without a stack of guesses, when a run cannot fill the template', () => {
    assert.throws(() => renderCommand(['--lr=${lr}'], { x: 1 }, { env: {} }), /uses \$\{lr\} but the run has no parameter lr/);
    assert.throws(() => renderCommand(['${program}'], {}, { env: {} }), /no program/);
    assert.throws(() => renderCommand(['${args_json_file}'], {}, { env: {} }), /no params file/);
  });

  it('renderArgsJson is the ${args_json_file} content: Python json.dumps of the params', () => {
    assert.equal(renderArgsJson({ lr: 1e-5, opt: { b: 2, a: 'x' } }), '{"lr": 1e-05, "opt": {"a": "x", "b": 2}}');
  });

  it('looks placeholders up by exact name first, then through nested objects', () => {
    const params = { 'a.b': 1, a: { b: 2, 'c.d': { e: 3 } } };
    assert.deepEqual(lookupParam(params, 'a.b'), { value: 1 });
    assert.deepEqual(lookupParam(params, 'a.c.d.e'), { value: 3 });
    assert.equal(lookupParam(params, 'a.x'), undefined);
    assert.equal(lookupParam({ a: [1, 2] }, 'a.0'), undefined);
  });
});

describe('Python rendering of values (expected strings printed by CPython 3)', () => {
  it('floats: repr() switches to exponent form below 1e-4 and from 1e16', () => {
    const cases: Array<[number, string]> = [
      [1e-5, '1e-05'],
      [0.0001, '0.0001'],
      [0.1, '0.1'],
      [0.30000000000000004, '0.30000000000000004'],
      [1.5e-7, '1.5e-07'],
      [-2.5e-5, '-2.5e-05'],
      [12345.678, '12345.678'],
      [1e16, '1e+16'],
      [1e22, '1e+22'],
      [123456789012345680, '1.2345678901234568e+17'],
      [2.5e20, '2.5e+20'],
      [1e15, '1000000000000000.0'],
      [3, '3.0'],
      [NaN, 'nan'],
      [Infinity, 'inf'],
    ];
    for (const [x, s] of cases) assert.equal(pyFloatRepr(x), s, String(x));
  });

  it('str(): strings bare, booleans and None capitalized, whole numbers as ints', () => {
    assert.equal(pyStr('a b'), 'a b');
    assert.equal(pyStr(true), 'True');
    assert.equal(pyStr(false), 'False');
    assert.equal(pyStr(null), 'None');
    assert.equal(pyStr(3), '3');
    assert.equal(pyStr(-0), '0');
    assert.equal(pyStr(1e-5), '1e-05');
    assert.equal(pyStr(1e16), '1e+16');
  });

  it('repr() of containers: single quotes, sorted keys, nested values', () => {
    assert.equal(pyRepr([]), '[]');
    assert.equal(pyRepr({}), '{}');
    assert.equal(pyRepr({ b: [1, 2.5, null, true], a: "it's", c: 'x"y', d: 'é\n\u0007\u200b' }), `{'a': "it's", 'b': [1, 2.5, None, True], 'c': 'x"y', 'd': 'é\\n\\x07\\u200b'}`);
    assert.equal(pyStringRepr(`both ' and "`), `'both \\' and "'`);
    assert.equal(pyStringRepr('tab\there\\'), "'tab\\there\\\\'");
    assert.equal(pyStringRepr('😀\u{e0001}'), "'😀\\U000e0001'");
  });

  it('json.dumps(): spaced separators, ASCII escapes, surrogate pairs', () => {
    assert.equal(pyJsonDumps({ a: 'é😀\u007f"', b: 1e-5, c: [true, null] }), '{"a": "\\u00e9\\ud83d\\ude00\\u007f\\"", "b": 1e-05, "c": [true, null]}');
    assert.equal(pyJsonDumps({ t: '\t\n\r\b\f\u0001/' }), '{"t": "\\t\\n\\r\\b\\f\\u0001/"}');
    assert.equal(pyJsonDumps([1, 2.5, 'x']), '[1, 2.5, "x"]');
  });
});
