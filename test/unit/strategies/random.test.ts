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

  /** Counts of each value of `leaf` over `n` runs proposed one after the other. */
  function frequencies(s: SweepSpec, seed: number, n: number, leaf: string): Map<string, number> {
    const counts = new Map<string, number>();
    for (const p of runSequentially(s, seed, n)) {
      const key = JSON.stringify(p[leaf]);
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
    return counts;
  }

  /** Each value's count within 4.5 binomial standard deviations of n·p (false-alarm odds ~1e-5 per value). */
  function assertLaw(counts: Map<string, number>, law: Record<string, number>, n: number, label: string): void {
    for (const [value, p] of Object.entries(law)) {
      const got = counts.get(value) ?? 0;
      const tolerance = 4.5 * Math.sqrt(n * p * (1 - p)) + 1;
      assert.ok(Math.abs(got - n * p) <= tolerance, `${label}: ${value} ran ${got} times in ${n}, law says ${n * p} ± ${tolerance.toFixed(1)}`);
    }
    const total = [...counts.values()].reduce((a, b) => a + b, 0);
    assert.equal(total, n, `${label}: values outside the law ${JSON.stringify([...counts])}`);
  }

  it('keeps the probabilities of a weighted categorical over many runs of a fully discrete space (issue 13)', () => {
    // W&B draws with replacement: [0.9, 0.1] gives about 180/20 in 200 runs, not 100/100.
    const s = spec('  a: {values: [x, y], probabilities: [0.9, 0.1]}\n');
    for (const seed of [1, 2, 3]) assertLaw(frequencies(s, seed, 200, 'a'), { '"x"': 0.9, '"y"': 0.1 }, 200, `seed ${seed}`);
  });

  it('keeps the law of q_uniform, q_log_uniform_values and q_beta, whose end levels carry less mass', () => {
    // q_uniform [0, 1] q 0.5: 0 rounds from [0, .25], 0.5 from [.25, .75], 1 from [.75, 1].
    assertLaw(frequencies(spec('  v: {distribution: q_uniform, min: 0, max: 1, q: 0.5}\n'), 4, 400, 'v'), { 0: 0.25, 0.5: 0.5, 1: 0.25 }, 400, 'q_uniform');
    // q_log_uniform_values [1, 100] q 50: ln 25, ln 3, ln 4/3 over ln 100.
    const ln100 = Math.log(100);
    assertLaw(
      frequencies(spec('  v: {distribution: q_log_uniform_values, min: 1, max: 100, q: 50}\n'), 5, 400, 'v'),
      { 0: Math.log(25) / ln100, 50: Math.log(3) / ln100, 100: Math.log(4 / 3) / ln100 },
      400,
      'q_log_uniform_values',
    );
    // q_beta a=2 b=5 q 0.5: Beta(2,5) is the 2nd smallest of 6 uniforms, F(x) = 1 − (1−x)^6 − 6x(1−x)^5.
    const F = (x: number): number => 1 - (1 - x) ** 6 - 6 * x * (1 - x) ** 5;
    assertLaw(
      frequencies(spec('  v: {distribution: q_beta, a: 2, b: 5, q: 0.5}\n'), 6, 400, 'v'),
      { 0: F(0.25), 0.5: F(0.75) - F(0.25), 1: 1 - F(0.75) },
      400,
      'q_beta',
    );
  });

  it('next to a weighted leaf, the uniform leaves still never repeat before every combination ran', () => {
    const s = spec('  a: {values: [x, y], probabilities: [0.9, 0.1]}\n  b: {values: [1, 2, 3]}\n  c: {min: 1, max: 2}\n');
    const runs = runSequentially(s, 8, 300);
    for (let round = 0; round < 50; round++) {
      const chunk = runs.slice(round * 6, round * 6 + 6).map((p) => `${p.b as number},${p.c as number}`);
      assert.equal(new Set(chunk).size, 6, `round ${round + 1} repeated a (b, c) combination`);
    }
    const counts = new Map<string, number>();
    for (const p of runs) counts.set(p.a as string, (counts.get(p.a as string) ?? 0) + 1);
    assertLaw(counts, { x: 0.9, y: 0.1 }, 300, 'a next to uniform leaves');
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
