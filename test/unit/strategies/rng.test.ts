import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Rng } from '../../../strategies/space/rng.js';

function moments(xs: number[]): { mean: number; variance: number } {
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return { mean, variance: xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1) };
}

describe('Rng (xoshiro128**)', () => {
  it('matches the reference implementation from state {1, 2, 3, 4}', () => {
    const rng = Rng.fromState([1, 2, 3, 4]);
    const out = Array.from({ length: 10 }, () => rng.nextUint32());
    assert.deepEqual(out, [11520, 0, 5927040, 70819200, 2031721883, 1637235492, 1287239034, 3734860849, 3729100597, 4258142804]);
  });

  it('is a function of its seed parts: equal parts, equal streams; any change, another stream', () => {
    const draw = (...parts: number[]): number[] => {
      const rng = Rng.from(...parts);
      return Array.from({ length: 8 }, () => rng.nextUint32());
    };
    assert.deepEqual(draw(42, 7), draw(42, 7));
    assert.notDeepEqual(draw(42, 7), draw(42, 8));
    assert.notDeepEqual(draw(42, 7), draw(7, 42));
    assert.notDeepEqual(draw(0), draw(-0.5));
    assert.notDeepEqual(draw(1), draw(1, 0));
  });

  it('uniform() lies in [0, 1), uniformOpen() in (0, 1), int(n) in [0, n), all with the right moments', () => {
    const rng = Rng.from(1);
    const n = 50_000;
    const u = Array.from({ length: n }, () => rng.uniform());
    for (const x of u) assert.ok(x >= 0 && x < 1);
    const m = moments(u);
    assert.ok(Math.abs(m.mean - 0.5) < 5 * Math.sqrt(1 / 12 / n), `mean ${m.mean}`);
    assert.ok(Math.abs(m.variance - 1 / 12) < 0.002, `variance ${m.variance}`);
    for (let i = 0; i < 1000; i++) {
      const x = rng.uniformOpen();
      assert.ok(x > 0 && x < 1);
    }
    const counts = new Array<number>(6).fill(0);
    for (let i = 0; i < 60_000; i++) counts[rng.int(6)]!++;
    for (const c of counts) assert.ok(Math.abs(c / 60_000 - 1 / 6) < 5 * Math.sqrt((1 / 6) * (5 / 6) / 60_000), `int(6) counts ${counts.join(',')}`);
  });

  it('normal(), gamma(k) and beta(a, b) have their laws\' mean and variance', () => {
    const rng = Rng.from(2);
    const n = 40_000;
    const z = moments(Array.from({ length: n }, () => rng.normal()));
    assert.ok(Math.abs(z.mean) < 5 / Math.sqrt(n) && Math.abs(z.variance - 1) < 0.03, JSON.stringify(z));
    for (const k of [0.3, 1, 4.5]) {
      const g = moments(Array.from({ length: n }, () => rng.gamma(k)));
      // Gamma(k, 1): mean k, variance k.
      assert.ok(Math.abs(g.mean - k) < 5 * Math.sqrt(k / n), `gamma(${k}) mean ${g.mean}`);
      assert.ok(Math.abs(g.variance - k) < 0.1 * k, `gamma(${k}) variance ${g.variance}`);
    }
    const b = moments(Array.from({ length: n }, () => rng.beta(2, 3)));
    // Beta(2, 3): mean 0.4, variance ab / ((a+b)²(a+b+1)) = 0.04.
    assert.ok(Math.abs(b.mean - 0.4) < 5 * Math.sqrt(0.04 / n) && Math.abs(b.variance - 0.04) < 0.003, JSON.stringify(b));
  });

  it('refuses a non-positive gamma shape', () => {
    assert.throws(() => Rng.from(1).gamma(0), RangeError);
  });
});
