import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  backSolve,
  choleskyInPlace,
  extendCholesky,
  forwardSolve,
  forwardSolve4,
  inverseFromUpperInverse,
  invertLowerTransposed,
  robustCholesky,
} from '../../../strategies/bayes/linalg.js';
import { fixtureStream } from './fd.js';

function randomSpd(n: number, seed: number): Float64Array {
  const r = fixtureStream(seed);
  const b = new Float64Array(n * n);
  for (let i = 0; i < n * n; i++) b[i] = r() - 0.5;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = i === j ? 0.5 : 0;
      for (let k = 0; k < n; k++) s += b[i * n + k]! * b[j * n + k]!;
      a[i * n + j] = s;
    }
  return a;
}

function maxAbsDiffLLt(l: Float64Array, a: Float64Array, n: number, jitter: number): number {
  let worst = 0;
  for (let i = 0; i < n; i++)
    for (let j = 0; j <= i; j++) {
      let s = 0;
      for (let k = 0; k <= j; k++) s += l[i * n + k]! * l[j * n + k]!;
      worst = Math.max(worst, Math.abs(s - a[i * n + j]! - (i === j ? jitter : 0)));
    }
  return worst;
}

test('Cholesky reproduces A = LLᵀ and the solves invert it', () => {
  const n = 23;
  const a = randomSpd(n, 5);
  const res = robustCholesky(a, n)!;
  assert.equal(res.jitter, 0);
  assert.ok(maxAbsDiffLLt(res.l, a, n, 0) < 1e-12);
  const b = Float64Array.from({ length: n }, (_, i) => Math.sin(i));
  const x = new Float64Array(n);
  forwardSolve(res.l, n, b, x);
  backSolve(res.l, n, x, x);
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let j = 0; j < n; j++) s += a[i * n + j]! * x[j]!;
    assert.ok(Math.abs(s - b[i]!) < 1e-10);
  }
  // Inverse via the inverse factor.
  const u = invertLowerTransposed(res.l, n);
  // U = L⁻ᵀ: upper triangular with LᵀU... i.e. L·Uᵀ = I.
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += res.l[i * n + k]! * u[j * n + k]!;
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-10);
      if (j > i) assert.equal(u[j * n + i], 0);
    }
  const inv = inverseFromUpperInverse(u, n);
  for (let i = 0; i < n; i++)
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let k = 0; k < n; k++) s += a[i * n + k]! * inv[Math.max(k, j) * n + Math.min(k, j)]!;
      assert.ok(Math.abs(s - (i === j ? 1 : 0)) < 1e-9);
    }
});

test('the jitter path factors a matrix with duplicated rows and reports the jitter', () => {
  // Kernel-like matrix of points where rows 1 and 3 coincide: exactly singular.
  const pts = [0.1, 0.4, 0.9, 0.4, 0.65];
  const n = pts.length;
  const a = new Float64Array(n * n);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) a[i * n + j] = Math.exp(-0.5 * ((pts[i]! - pts[j]!) / 0.3) ** 2);
  assert.equal(choleskyInPlace(Float64Array.from(a), n), false);
  const res = robustCholesky(a, n);
  assert.ok(res !== null);
  assert.ok(res.jitter > 0 && res.jitter <= 1e-4);
  assert.ok(maxAbsDiffLLt(res.l, a, n, res.jitter) < 1e-12);
  // An indefinite matrix is refused rather than papered over.
  const bad = Float64Array.of(1, 2, 2, 1);
  assert.equal(robustCholesky(bad, 2), null);
});

test('four simultaneous forward solves equal one-at-a-time solves', () => {
  const n = 9;
  const l = robustCholesky(randomSpd(n, 9), n)!.l;
  const r = fixtureStream(3);
  const b = Float64Array.from({ length: 4 * n }, () => r());
  const outs = [0, 1, 2, 3].map(() => new Float64Array(n));
  forwardSolve4(l, n, b, 0, n, 2 * n, 3 * n, outs[0]!, outs[1]!, outs[2]!, outs[3]!);
  for (let c = 0; c < 4; c++) {
    const single = forwardSolve(l, n, b.subarray(c * n, (c + 1) * n), new Float64Array(n));
    for (let i = 0; i < n; i++) assert.ok(Math.abs(single[i]! - outs[c]![i]!) < 1e-12);
  }
});

test('extending a Cholesky factor by a block equals factoring the whole matrix', () => {
  const n = 12;
  const k = 4;
  const a = randomSpd(n + k, 21);
  const n0 = n;
  const top = new Float64Array(n0 * n0);
  for (let i = 0; i < n0; i++) for (let j = 0; j < n0; j++) top[i * n0 + j] = a[i * (n + k) + j]!;
  const c = new Float64Array(n0 * k);
  for (let i = 0; i < n0; i++) for (let j = 0; j < k; j++) c[i * k + j] = a[i * (n + k) + n0 + j]!;
  const dblock = new Float64Array(k * k);
  for (let i = 0; i < k; i++) for (let j = 0; j < k; j++) dblock[i * k + j] = a[(n0 + i) * (n + k) + n0 + j]!;
  const l0 = robustCholesky(top, n0)!.l;
  const ext = extendCholesky(l0, n0, c, dblock, k)!;
  const full = robustCholesky(a, n + k)!.l;
  for (let i = 0; i < (n + k) ** 2; i++) assert.ok(Math.abs(ext.l[i]! - full[i]!) < 1e-12);
});
