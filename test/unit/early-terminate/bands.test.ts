import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ashaRungs, hyperbandBands } from '../../../strategies/early-terminate/index.js';

void test('max_iter mode: 27 / 3 = 9, 9 / 3 = 3, sorted ascending (the reference example)', () => {
  assert.deepEqual(hyperbandBands({ maxIter: 27, s: 2, eta: 3 }), [3, 9]);
});

void test('min_iter mode: int(3 · 3^k) for k = 0..99 (the reference example)', () => {
  const bands = hyperbandBands({ minIter: 3, eta: 3 });
  assert.deepEqual(bands.slice(0, 6), [3, 9, 27, 81, 243, 729]);
  assert.equal(bands.length, 100);
  // 3 · 3^99 ≈ 5.15e47, reached by repeated multiplication as W&B does.
  assert.ok((bands[99] as number) > 5e47 && (bands[99] as number) < 5.2e47);
});

void test('max_iter wins when min_iter is also given (W&B ignores min_iter)', () => {
  assert.deepEqual(hyperbandBands({ minIter: 1, maxIter: 27, s: 2, eta: 3 }), [3, 9]);
});

void test('max_iter mode stops at the first band below 1', () => {
  // W&B's docstring case: 5 / 2 = 2.5 → 2, 2.5 / 2 = 1.25 → 1.
  assert.deepEqual(hyperbandBands({ maxIter: 5, s: 2, eta: 2 }), [1, 2]);
  // s = 3 adds 1.25 / 2 = 0.625 < 1: dropped, and the loop ends.
  assert.deepEqual(hyperbandBands({ maxIter: 5, s: 3, eta: 2 }), [1, 2]);
  // 2 / 3 = 0.67 < 1 at once: no band at all (W&B raises; the parser reports it).
  assert.deepEqual(hyperbandBands({ maxIter: 2, s: 2, eta: 3 }), []);
  assert.deepEqual(hyperbandBands({ maxIter: 27, s: 0, eta: 3 }), []);
  assert.deepEqual(hyperbandBands({ eta: 3 }), []);
});

void test('divides step by step like W&B, not by eta^i', () => {
  // 169 / 1.3 = 130, 130 / 1.3 = 100 exactly in doubles (Python gives [100, 130] too), whereas
  // 169 / 1.3² = 169 / 1.6900000000000002 = 99.999… would truncate to 99.
  assert.deepEqual(hyperbandBands({ maxIter: 169, s: 2, eta: 1.3 }), [100, 130]);
  assert.equal(Math.trunc(169 / 1.3 ** 2), 99);
});

void test('non-integer eta: truncation and duplicates removed', () => {
  // 1, 1.5, 2.25, 3.375, 5.0625, 7.59375, 11.39…, 17.08… → 1, 1, 2, 3, 5, 7, 11, 17; the second 1 is dropped.
  assert.deepEqual(hyperbandBands({ minIter: 1, eta: 1.5 }).slice(0, 7), [1, 2, 3, 5, 7, 11, 17]);
});

void test('values the schema rejects throw a RangeError naming the key', () => {
  assert.throws(() => hyperbandBands({ minIter: 3, eta: 1 }), /early_terminate\.eta must be a number > 1/);
  assert.throws(() => hyperbandBands({ minIter: 3, eta: Number.NaN }), RangeError);
  assert.throws(() => hyperbandBands({ minIter: 0, eta: 3 }), /early_terminate\.min_iter/);
  assert.throws(() => hyperbandBands({ maxIter: Infinity, s: 2, eta: 3 }), /early_terminate\.max_iter/);
});

void test('ASHA rungs: gracePeriod · eta^k, cut at maxIter (inclusive)', () => {
  assert.deepEqual(ashaRungs({ gracePeriod: 1, eta: 3, maxIter: 9 }), [1, 3, 9]);
  assert.deepEqual(ashaRungs({ gracePeriod: 1, eta: 3, maxIter: 8 }), [1, 3]);
  assert.deepEqual(ashaRungs({ gracePeriod: 2, eta: 2, maxIter: 20 }), [2, 4, 8, 16]);
  assert.deepEqual(ashaRungs({ gracePeriod: 2, eta: 2 }).slice(0, 4), [2, 4, 8, 16]);
});
