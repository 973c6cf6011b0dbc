import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSpace, parseSweepConfig, sampleParams } from '../../../strategies/index.js';
import { flattenParameters, getPath } from '../../../strategies/space/flatten.js';
import { Rng } from '../../../strategies/space/rng.js';
import { normalCdf } from '../../../strategies/space/special.js';
import type { JsonValue, Params, SweepSpec } from '../../../strategies/types.js';

function spec(parameters: string): SweepSpec {
  return parseSweepConfig(`method: random\nprogram: t.py\nparameters:\n${parameters}`);
}

const ALL = spec(`
  act: {values: [relu, tanh, gelu]}
  wsel: {values: [a, b], probabilities: [0.3, 0.7]}
  dropout: {min: 0.0, max: 0.5}
  epochs: {value: 10}
  layers: {min: 1, max: 4}
  steps: {min: 1, max: 1000}
  lr: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  lr1: {distribution: log_uniform, min: -11.5, max: -2.3}
  ilr: {distribution: inv_log_uniform, min: 1, max: 5}
  ilrv: {distribution: inv_log_uniform_values, min: 0.01, max: 1.0}
  mom: {distribution: normal, mu: 0.9, sigma: 0.05}
  scale: {distribution: log_normal, mu: 0, sigma: 1}
  frac: {distribution: beta, a: 2, b: 5}
  qu: {distribution: q_uniform, min: 0.5, max: 0.9, q: 0.1}
  qwide: {distribution: q_uniform, min: 0, max: 500, q: 2}
  qlu: {distribution: q_log_uniform, min: 0, max: 4.6, q: 1}
  qluv: {distribution: q_log_uniform_values, min: 1, max: 1000, q: 1}
  qn: {distribution: q_normal, mu: 0, sigma: 3, q: 0.5}
  qln: {distribution: q_log_normal, mu: 2, sigma: 0.5, q: 1}
  qb: {distribution: q_beta, a: 2, b: 2, q: 0.1}
  single: {values: [only]}
  opt:
    parameters:
      beta: {values: [0.9, 0.99]}
      eps: {value: 1.0e-8}
`);

function closeValue(actual: JsonValue, expected: JsonValue, what: string): void {
  if (typeof expected === 'number' && typeof actual === 'number' && !Number.isInteger(expected)) {
    assert.ok(Math.abs(actual - expected) <= 1e-9 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
  } else {
    assert.deepEqual(actual, expected, what);
  }
}

describe('encodeSpace', () => {
  const space = encodeSpace(ALL);

  it('has one dimension per varying leaf, in W&B order, with the documented kinds', () => {
    assert.deepEqual(space.dimensions, [
      { kind: 'categorical', path: 'act', choices: 3 },
      { kind: 'continuous', path: 'dropout' },
      { kind: 'continuous', path: 'frac' },
      { kind: 'continuous', path: 'ilr' },
      { kind: 'continuous', path: 'ilrv' },
      { kind: 'discrete', path: 'layers', levels: 4 },
      { kind: 'continuous', path: 'lr' },
      { kind: 'continuous', path: 'lr1' },
      { kind: 'continuous', path: 'mom' },
      { kind: 'categorical', path: 'opt.beta', choices: 2 },
      { kind: 'discrete', path: 'qb', levels: 11 },
      { kind: 'continuous', path: 'qln' },
      { kind: 'continuous', path: 'qlu' },
      { kind: 'continuous', path: 'qluv' },
      { kind: 'continuous', path: 'qn' },
      { kind: 'discrete', path: 'qu', levels: 5 },
      { kind: 'continuous', path: 'qwide' },
      { kind: 'continuous', path: 'scale' },
      { kind: 'continuous', path: 'steps' },
      { kind: 'categorical', path: 'wsel', choices: 2 },
    ]);
  });

  it('round-trips every kind: decode(encode(p)) = p for prior samples', () => {
    const leaves = flattenParameters(ALL.parameters);
    for (let i = 0; i < 500; i++) {
      const p = sampleParams(ALL.parameters, Rng.from(4, i));
      const back = space.decode(space.encode(p));
      for (const leaf of leaves) closeValue(getPath(back, leaf.path)!, getPath(p, leaf.path)!, `${leaf.name} (sample ${i})`);
    }
  });

  it('round-trips every level of the discrete and rounded dimensions exactly', () => {
    const s = spec(`
  steps: {min: 1, max: 1000}
  qwide: {distribution: q_uniform, min: 0, max: 500, q: 2}
  qluv: {distribution: q_log_uniform_values, min: 1, max: 1000, q: 1}
  qu: {distribution: q_uniform, min: 0.5, max: 0.9, q: 0.1}
`);
    const enc = encodeSpace(s);
    for (let v = 1; v <= 1000; v++) {
      const p: Params = { steps: v, qwide: 2 * (v % 251), qluv: v, qu: [0.5, 0.6000000000000001, 0.7000000000000001, 0.8, 0.9][v % 5]! };
      assert.deepEqual(enc.decode(enc.encode(p)), p);
    }
  });

  it('encodes hand-computed coordinates', () => {
    const s = spec(`
  a: {values: [relu, tanh, gelu]}
  b: {min: 0.0, max: 0.5}
  c: {min: 1, max: 4}
  d: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  e: {distribution: normal, mu: 0.9, sigma: 0.05}
  f: {distribution: beta, a: 2, b: 5}
  g: {distribution: inv_log_uniform, min: 1, max: 5}
  h: {distribution: log_normal, mu: 1, sigma: 2}
`);
    const x = encodeSpace(s).encode({ a: 'gelu', b: 0.125, c: 3, d: 1e-3, e: 0.95, f: 0.3, g: Math.exp(-2), h: Math.E });
    const expected = [2, 0.25, 0.625, 0.5, normalCdf(1), 0.3, 0.75, 0.5];
    expected.forEach((e, i) => assert.ok(Math.abs(x[i]! - e) < 1e-12, `dimension ${i}: ${x[i]} vs ${e}`));
  });

  it('maps the prior to the uniform law on continuous dimensions (random points in the cube are prior samples)', () => {
    const s = spec(`
  d: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  e: {distribution: normal, mu: 0.9, sigma: 0.05}
  h: {distribution: log_normal, mu: 1, sigma: 2}
`);
    const enc = encodeSpace(s);
    const n = 5000;
    const coords: number[][] = [[], [], []];
    for (let i = 0; i < n; i++) {
      const x = enc.encode(sampleParams(s.parameters, Rng.from(9, i)));
      for (let d = 0; d < 3; d++) coords[d]!.push(x[d]!);
    }
    for (const c of coords) {
      const xs = c.sort((a, b) => a - b);
      let dist = 0;
      xs.forEach((x, i) => (dist = Math.max(dist, Math.abs(x - i / n), Math.abs((i + 1) / n - x))));
      assert.ok(dist < 1.95 / Math.sqrt(n), `KS distance ${dist}`);
    }
  });

  it('decodes the corners to the bounds, clamps outside coordinates and rounds categories', () => {
    const s = spec(`
  a: {values: [relu, tanh, gelu]}
  b: {min: 0.0, max: 0.5}
  c: {min: 1, max: 4}
  d: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  k: {value: 7}
`);
    const enc = encodeSpace(s);
    assert.deepEqual(enc.decode([0, 0, 0, 0]), { a: 'relu', b: 0, c: 1, d: 1e-5, k: 7 });
    assert.deepEqual(enc.decode([2, 1, 1, 1]), { a: 'gelu', b: 0.5, c: 4, d: 0.1, k: 7 });
    assert.deepEqual(enc.decode([7.6, -3, 0.49, 2]), { a: 'gelu', b: 0, c: 2, d: 0.1, k: 7 });
    assert.deepEqual(enc.decode([0.6, 0.5, 0.51, 0.5]).a, 'tanh');
    assert.throws(() => enc.decode([0, 0, 0]), /expected 4 coordinates/);
    assert.throws(() => enc.decode([NaN, 0, 0, 0]), /NaN/);
  });

  it('keeps normal coordinates away from 0 and 1 so they decode to finite values', () => {
    const enc = encodeSpace(spec('  m: {distribution: normal, mu: 0, sigma: 1}\n'));
    const lo = enc.encode({ m: -40 })[0]!;
    const hi = enc.encode({ m: 40 })[0]!;
    assert.ok(lo > 0 && hi < 1);
    assert.ok(Number.isFinite(enc.decode([0]).m) && Number.isFinite(enc.decode([1]).m));
    assert.ok((enc.decode([1]).m as number) > 6);
  });

  it('refuses params that do not fit the space', () => {
    const s = spec(`
  a: {values: [relu, tanh]}
  b: {min: 0.0, max: 0.5}
  c: {min: 1, max: 4}
  q: {distribution: q_uniform, min: 0, max: 1, q: 0.25}
  l: {distribution: log_normal}
  k: {value: 7}
`);
    const enc = encodeSpace(s);
    const good: Params = { a: 'relu', b: 0.1, c: 2, q: 0.5, l: 1, k: 7 };
    assert.doesNotThrow(() => enc.encode(good));
    const bad: Array<[Params, RegExp]> = [
      [{ ...good, a: 'elu' }, /a = "elu" is not one of its values/],
      [{ ...good, b: 0.7 }, /b = 0.7 is outside/],
      [{ ...good, b: 'x' }, /b = "x" is not a finite number/],
      [{ ...good, c: 2.5 }, /c = 2.5 is not one of its values/],
      [{ ...good, c: 9 }, /c = 9 is not one of its values/],
      [{ ...good, q: 0.3 }, /q = 0.3 is not one of its values/],
      [{ ...good, l: -1 }, /l = -1 must be > 0/],
      [{ ...good, k: 8 }, /k must be 7/],
      [{ a: 'relu', c: 2, q: 0.5, l: 1, k: 7 }, /b = missing/],
    ];
    for (const [params, re] of bad) assert.throws(() => enc.encode(params), re);
  });
});
