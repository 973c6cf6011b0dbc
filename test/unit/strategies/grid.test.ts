import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createGridStrategy, gridSize, parseSweepConfig } from '../../../strategies/index.js';
import type { Observation, Params, SweepSpec } from '../../../strategies/types.js';

function spec(parameters: string): SweepSpec {
  return parseSweepConfig(`method: grid\nprogram: t.py\nparameters:\n${parameters}`);
}

function all(s: SweepSpec): Params[] {
  return createGridStrategy(s).propose({ observations: [], pending: [], count: 1_000_000 }).map((p) => p.params);
}

describe('grid search', () => {
  it('enumerates in W&B order: names sorted, the last varying fastest, values in listed order', () => {
    const s = spec('  b: {values: [2, 1]}\n  a: {values: [y, x]}\n  c: {min: 1, max: 2}\n');
    assert.deepEqual(all(s), [
      { a: 'y', b: 2, c: 1 },
      { a: 'y', b: 2, c: 2 },
      { a: 'y', b: 1, c: 1 },
      { a: 'y', b: 1, c: 2 },
      { a: 'x', b: 2, c: 1 },
      { a: 'x', b: 2, c: 2 },
      { a: 'x', b: 1, c: 1 },
      { a: 'x', b: 1, c: 2 },
    ]);
  });

  it('orders nested blocks depth first among their sorted siblings', () => {
    const s = spec('  z: {values: [1, 2]}\n  m:\n    parameters:\n      b: {values: [p, q]}\n      a: {value: 0}\n  a: {values: [true, false]}\n');
    assert.deepEqual(
      all(s).map((p) => [p.a, (p.m as Params).b, p.z]),
      [
        [true, 'p', 1], [true, 'p', 2], [true, 'q', 1], [true, 'q', 2],
        [false, 'p', 1], [false, 'p', 2], [false, 'q', 1], [false, 'q', 2],
      ],
    );
    assert.deepEqual(all(s)[0], { a: true, m: { a: 0, b: 'p' }, z: 1 });
  });

  it('expands int_uniform to every integer and q_uniform to every multiple of q, max included', () => {
    assert.deepEqual(all(spec('  n: {min: -1, max: 2}\n')).map((p) => p.n), [-1, 0, 1, 2]);
    // W&B's grid would give 0, 0.25, 0.5, 0.75 (numpy.arange drops max); random search can return 1.
    assert.deepEqual(all(spec('  x: {distribution: q_uniform, min: 0, max: 1, q: 0.25}\n')).map((p) => p.x), [0, 0.25, 0.5, 0.75, 1]);
    assert.deepEqual(all(spec('  x: {distribution: q_uniform, min: 8, max: 32, q: 8}\n')).map((p) => p.x), [8, 16, 24, 32]);
  });

  it('knows its size up front: the product of value counts, constants and duplicates not multiplying', () => {
    const s = spec('  a: {values: [1, 1, 2]}\n  b: {min: 1, max: 5}\n  k: {value: 3}\n  q: {distribution: q_uniform, min: 0, max: 1, q: 0.5}\n');
    assert.equal(createGridStrategy(s).size, 2 * 5 * 3);
    assert.equal(gridSize(s), 30);
    assert.equal(all(s).length, 30);
    assert.equal(gridSize(parseSweepConfig('method: random\nprogram: t.py\nparameters:\n  a: {values: [1, 2]}\n')), null);
  });

  it('hands out each cell once: held by any finished, failed, crashed, stopped, canceled or pending run', () => {
    const s = spec('  a: {values: [1, 2, 3]}\n  b: {values: [x, y]}\n');
    const grid = createGridStrategy(s);
    const states = ['finished', 'failed', 'crashed', 'stopped', 'canceled'] as const;
    const observations: Observation[] = states.map((state, i) => ({ params: all(s)[i]!, state, value: null }));
    const next = grid.propose({ observations, pending: [], count: 5 });
    assert.deepEqual(next.map((p) => p.params), [{ a: 3, b: 'y' }]);
    assert.deepEqual(grid.propose({ observations, pending: [{ a: 3, b: 'y' }], count: 5 }), []);
  });

  it('fills a batch with distinct cells and returns fewer when it runs out', () => {
    const s = spec('  a: {values: [1, 2, 3]}\n');
    const grid = createGridStrategy(s);
    const first = grid.propose({ observations: [], pending: [], count: 2 });
    assert.deepEqual(first.map((p) => p.params.a), [1, 2]);
    assert.deepEqual(first.map((p) => p.info), [
      { source: 'grid', cell: 1, of: 3 },
      { source: 'grid', cell: 2, of: 3 },
    ]);
    const rest = grid.propose({ observations: [], pending: first.map((p) => p.params), count: 2 });
    assert.deepEqual(rest.map((p) => p.params.a), [3]);
  });

  it('matches history canonically: 3 and 3.0, objects with keys in another order, extra keys, JSON round trips', () => {
    const s = spec('  n: {values: [3, 4.5]}\n  d: {values: [{a: 1, b: [1, 2]}, {c: 3}]}\n  k: {value: 1}\n');
    const history: Params[] = JSON.parse(
      JSON.stringify([
        { n: 3.0, d: { b: [1, 2], a: 1 }, k: 1 },
        { n: 4.5, d: { b: [1, 2], a: 1 }, k: 'changed constant', extra: true },
      ]),
    ) as Params[];
    const next = createGridStrategy(s).propose({ observations: [], pending: history, count: 10 });
    assert.deepEqual(next.map((p) => p.params), [
      { d: { c: 3 }, k: 1, n: 3 },
      { d: { c: 3 }, k: 1, n: 4.5 },
    ]);
  });

  it('refuses a spec it cannot enumerate', () => {
    const random = parseSweepConfig('method: random\nprogram: t.py\nparameters:\n  x: {min: 0.0, max: 1.0}\n');
    assert.throws(() => createGridStrategy(random), /grid search cannot enumerate x \(uniform\)/);
  });
});
