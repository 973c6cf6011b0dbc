import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { createRandomStrategy, parseSweepConfig, valueKey } from '../../../strategies/index.js';
import type { Observation, Params, SweepSpec } from '../../../strategies/types.js';

function spec(parameters: string): SweepSpec {
  return parseSweepConfig(`method: random\nprogram: t.py\nparameters:\n${parameters}`);
}

function runSequentially(s: SweepSpec, seed: number, n: number): Params[] {
  const strategy = createRandomStrategy(s, { seed });
  const observations: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    observations.push({ params: p!.params, state: 'finished', value: i });
  }
  return observations.map((o) => o.params);
}

describe('random search', () => {
  const small = spec('  a: {values: [x, y]}\n  b: {min: 1, max: 3}\n');

  it('over a finite space reports its size and tries every configuration before repeating one', () => {
    assert.equal(createRandomStrategy(small, { seed: 1 }).size, 6);
    for (const seed of [1, 2, 3, 4]) {
      const seen = runSequentially(small, seed, 18).map((p) => valueKey(p));
      for (let round = 0; round < 3; round++) {
        const chunk = seen.slice(round * 6, round * 6 + 6);
        assert.equal(new Set(chunk).size, 6, `seed ${seed}, round ${round + 1} repeated a configuration`);
      }
    }
  });

  it('gives the same configurations in one batch as one at a time with pending runs', () => {
    const s = spec('  a: {values: [x, y, z]}\n  b: {min: 1, max: 30}\n  c: {min: 0.0, max: 1.0}\n');
    const strategy = createRandomStrategy(s, { seed: 5 });
    const batch = strategy.propose({ observations: [], pending: [], count: 6 }).map((p) => p.params);
    const pending: Params[] = [];
    for (let i = 0; i < 6; i++) pending.push(strategy.propose({ observations: [], pending, count: 1 })[0]!.params);
    assert.deepEqual(pending, batch);
  });

  it('keeps W&B\'s law for the first proposals (weighted categorical)', () => {
    const s = spec('  a: {values: [x, y], probabilities: [0.2, 0.8]}\n  b: {min: 1, max: 1000}\n');
    let y = 0;
    const n = 3000;
    for (let seed = 0; seed < n; seed++) {
      if (createRandomStrategy(s, { seed }).propose({ observations: [], pending: [], count: 1 })[0]!.params.a === 'y') y++;
    }
    assert.ok(Math.abs(y / n - 0.8) < 5 * Math.sqrt(0.16 / n), `P(y) = ${y / n}`);
  });

  it('samples the untried configurations with their prior weights, even when they hold little prior mass', () => {
    // Cell (x, 1) holds 99.8% of the mass; with it taken the rest must follow the prior restricted
    // to the other cells: (x, 2) and (y, 1) 0.000999 each, (y, 2) 0.000001.
    const s = spec('  a: {values: [x, y], probabilities: [0.999, 0.001]}\n  b: {values: [1, 2], probabilities: [0.999, 0.001]}\n');
    const taken: Observation = { params: { a: 'x', b: 1 }, state: 'finished', value: 0 };
    const counts = new Map<string, number>();
    const n = 4000;
    for (let seed = 0; seed < n; seed++) {
      const [p] = createRandomStrategy(s, { seed }).propose({ observations: [taken], pending: [], count: 1 });
      const key = `${p!.params.a as string}${p!.params.b as number}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    assert.equal(counts.get('x1'), undefined);
    const pX2 = 0.000999 / (0.000999 * 2 + 0.000001);
    for (const key of ['x2', 'y1']) {
      const f = (counts.get(key) ?? 0) / n;
      assert.ok(Math.abs(f - pX2) < 5 * Math.sqrt((pX2 * (1 - pX2)) / n), `P(${key}) = ${f}, expected ${pX2}`);
    }
    assert.ok((counts.get('y2') ?? 0) < 10);
  });

  it('a zero-mass level never blocks a round: the round ends when every possible configuration ran', () => {
    const s = spec('  a: {values: [x, y, z], probabilities: [0.5, 0.5, 0]}\n');
    const seen = runSequentially(s, 3, 6).map((p) => p.a);
    assert.ok(!seen.includes('z'));
    assert.deepEqual([...seen.slice(0, 2)].sort(), ['x', 'y']);
    assert.deepEqual([...seen.slice(2, 4)].sort(), ['x', 'y']);
  });

  it('counts failed, crashed and pending runs, and ignores history that does not fit the space', () => {
    const strategy = createRandomStrategy(small, { seed: 7 });
    const observations: Observation[] = [
      { params: { a: 'x', b: 1 }, state: 'failed', value: null },
      { params: { a: 'x', b: 2 }, state: 'crashed', value: null },
      { params: { a: 'q', b: 99 }, state: 'finished', value: 1 },
      { params: {}, state: 'finished', value: 1 },
    ];
    const pending: Params[] = [{ a: 'x', b: 3 }];
    const next = strategy.propose({ observations, pending, count: 3 }).map((p) => p.params);
    assert.deepEqual(next.map((p) => p.a), ['y', 'y', 'y']);
    assert.deepEqual(next.map((p) => p.b).sort(), [1, 2, 3]);
  });

  it('over a continuous space has no size and never repeats in practice', () => {
    const s = spec('  lr: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}\n  a: {values: [x, y]}\n');
    const strategy = createRandomStrategy(s, { seed: 1 });
    assert.equal(strategy.size, null);
    const keys = strategy.propose({ observations: [], pending: [], count: 200 }).map((p) => valueKey(p.params));
    assert.equal(new Set(keys).size, 200);
  });

  it('includes constants and nested blocks in every proposal', () => {
    const s = spec('  k: {value: [1, 2]}\n  opt:\n    parameters:\n      lr: {values: [0.1]}\n      m: {min: 1, max: 2}\n');
    const [p] = createRandomStrategy(s, { seed: 1 }).propose({ observations: [], pending: [], count: 1 });
    assert.deepEqual(Object.keys(p!.params).sort(), ['k', 'opt']);
    assert.deepEqual(p!.params.k, [1, 2]);
    assert.equal((p!.params.opt as Params).lr, 0.1);
  });
});
