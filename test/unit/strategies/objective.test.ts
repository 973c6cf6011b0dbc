/** The one comparator of `strategies/objective.ts`, against hand-written cases for both goals. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bestFirstOrder, bestValue, compareRuns, compareValues, higherIsBetterSign, isBetter, lowerIsBetterSign, reachesTarget } from '../../../strategies/objective.js';

describe('objective', () => {
  it('isBetter is strict, lets any finite value beat none, and never lets a non-finite value win', () => {
    assert.equal(isBetter('minimize', 0.1, 0.2), true);
    assert.equal(isBetter('minimize', 0.2, 0.1), false);
    assert.equal(isBetter('maximize', 0.2, 0.1), true);
    assert.equal(isBetter('maximize', 0.1, 0.1), false, 'an equal value is no improvement');
    assert.equal(isBetter('minimize', 5, null), true);
    assert.equal(isBetter('maximize', -5, undefined), true);
    assert.equal(isBetter('minimize', Number.NaN, null), false);
    assert.equal(isBetter('minimize', Number.NEGATIVE_INFINITY, 1), false, 'a diverged -inf loss is nobody\'s best');
    assert.equal(isBetter('maximize', Number.POSITIVE_INFINITY, 1), false);
    assert.equal(isBetter('minimize', 1, Number.NaN), true);
  });

  it('compareValues sorts better first and missing or non-finite values last, for both goals', () => {
    const values = [0.5, null, 0.1, Number.NaN, 0.9];
    assert.deepEqual([...values].sort((a, b) => compareValues('minimize', a, b)).slice(0, 3), [0.1, 0.5, 0.9]);
    assert.deepEqual([...values].sort((a, b) => compareValues('maximize', a, b)).slice(0, 3), [0.9, 0.5, 0.1]);
    const tail = [...values].sort((a, b) => compareValues('minimize', a, b)).slice(3);
    assert.ok(tail.every((v) => v === null || Number.isNaN(v)));
  });

  it('compareRuns: better value first, then the earlier run (the tie rule of a sweep\'s best)', () => {
    const runs = [
      { number: 7, value: 0.2 },
      { number: 3, value: 0.2 },
      { number: 5, value: null },
      { number: 9, value: 0.1 },
    ];
    assert.deepEqual([...runs].sort((a, b) => compareRuns('minimize', a, b)).map((r) => r.number), [9, 3, 7, 5]);
    assert.deepEqual([...runs].sort((a, b) => compareRuns('maximize', a, b)).map((r) => r.number), [3, 7, 9, 5]);
  });

  it('bestValue, reachesTarget, the signs and the SQL order agree with isBetter', () => {
    assert.equal(bestValue('minimize', [3, null, 1, Number.NaN, 2]), 1);
    assert.equal(bestValue('maximize', [3, null, 1, 2]), 3);
    assert.equal(bestValue('maximize', [null, Number.NaN]), null);
    assert.equal(reachesTarget('minimize', 0.1, 0.1), true);
    assert.equal(reachesTarget('minimize', 0.11, 0.1), false);
    assert.equal(reachesTarget('maximize', 0.95, 0.9), true);
    assert.equal(reachesTarget('maximize', Number.NaN, 0.9), false);
    for (const goal of ['minimize', 'maximize'] as const) {
      // sign · value ranks like isBetter: lower-is-better for W&B's rules, higher-is-better for the GP.
      assert.equal(lowerIsBetterSign(goal) * 1 < lowerIsBetterSign(goal) * 2, isBetter(goal, 1, 2));
      assert.equal(higherIsBetterSign(goal) * 1 > higherIsBetterSign(goal) * 2, isBetter(goal, 1, 2));
      assert.equal(bestFirstOrder(goal) === 'ASC', isBetter(goal, 1, 2));
    }
  });
});
