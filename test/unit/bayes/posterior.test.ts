import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Matrix, inverse } from 'ml-matrix';
import { GpPosterior } from '../../../strategies/bayes/gp-posterior.js';
import { thetaToHyper, fitHyperparameters } from '../../../strategies/bayes/gp-fit.js';
import { matern52 } from '../../../strategies/bayes/kernel.js';
import { LogEiAcquisition } from '../../../strategies/bayes/acquisition.js';
import { logExpectedImprovement } from '../../../strategies/bayes/log-ei.js';
import { Rng } from '../../../strategies/space/rng.js';
import { fixtureStream, relErr } from './fd.js';

const isCat2 = Uint8Array.of(0, 0);

function kern(a: number[], b: number[], ls: number[], s: number): number {
  let q = 0;
  for (let j = 0; j < a.length; j++) q += ((a[j]! - b[j]!) / ls[j]!) ** 2;
  return s * matern52(q);
}

test('posterior mean and variance equal a direct dense solve on n = 5', () => {
  const pts = [
    [0.1, 0.2],
    [0.5, 0.9],
    [0.8, 0.4],
    [0.3, 0.6],
    [0.95, 0.05],
  ];
  const y = Float64Array.of(0.3, -1.2, 0.8, 0.1, -0.4);
  const theta = Float64Array.of(Math.log(0.4), Math.log(0.7), Math.log(1.3), Math.log(0.02));
  const h = thetaToHyper(theta, 2);
  const ls = [...h.lengthscales];
  const post = GpPosterior.create(Float64Array.from(pts.flat()), 5, 2, isCat2, h, y)!;
  const kMat = new Matrix(pts.map((a, i) => pts.map((b, j) => kern(a, b, ls, h.signal) + (i === j ? h.noise : 0))));
  const kInv = inverse(kMat);
  const alpha = kInv.mmul(Matrix.columnVector([...y]));
  for (const x of [
    [0.4, 0.4],
    [0.5, 0.9],
    [0.0, 1.0],
  ]) {
    const kx = Matrix.rowVector(pts.map((p) => kern(x, p, ls, h.signal)));
    const mean = kx.mmul(alpha).get(0, 0);
    const variance = h.signal - kx.mmul(kInv).mmul(kx.transpose()).get(0, 0);
    const got = post.predict(Float64Array.from(x));
    assert.ok(relErr(got.mean, mean) < 1e-10, `mean at ${x.join(',')}`);
    assert.ok(relErr(got.variance, variance, 1e-12) < 1e-8, `variance at ${x.join(',')}: ${got.variance} vs ${variance}`);
  }
  // And the fitted-at-training shortcut y − σ²α is K_f·α.
  const mt = post.meanAtTraining();
  for (let a = 0; a < 5; a++) {
    let s = 0;
    for (let b = 0; b < 5; b++) s += kern(pts[a]!, pts[b]!, ls, h.signal) * post.alpha[b]!;
    assert.ok(relErr(mt[a]!, s) < 1e-10);
  }
});

test('an extended posterior (incremental Cholesky) predicts exactly like a fresh one', () => {
  const r = fixtureStream(4);
  const n = 30;
  const d = 2;
  const x = Float64Array.from({ length: n * d }, () => r());
  const y = Float64Array.from({ length: n }, (_, i) => Math.sin(5 * x[i * d]!) + x[i * d + 1]!);
  const h = thetaToHyper(Float64Array.of(-1, -0.5, 0, Math.log(1e-3)), d);
  const first = GpPosterior.create(x.subarray(0, 20 * d), 20, d, isCat2, h, y.subarray(0, 20))!;
  const extended = GpPosterior.create(x, n, d, isCat2, h, y, first)!;
  const fresh = GpPosterior.create(x, n, d, isCat2, h, y)!;
  assert.equal(extended.incremental, true);
  assert.equal(fresh.incremental, false);
  for (const p of [Float64Array.of(0.2, 0.3), Float64Array.of(0.77, 0.91)]) {
    const a = extended.predict(p);
    const b = fresh.predict(p);
    assert.ok(relErr(a.mean, b.mean) < 1e-9);
    assert.ok(relErr(a.variance, b.variance, 1e-10) < 1e-7);
  }
});

test('batch scoring equals one-at-a-time LogEI, and plain LogEI equals ln EI of the posterior', () => {
  const r = fixtureStream(8);
  const n = 25;
  const d = 2;
  const x = Float64Array.from({ length: n * d }, () => r());
  const y = Float64Array.from({ length: n }, (_, i) => Math.cos(4 * x[i * d]!) * x[i * d + 1]!);
  const h = thetaToHyper(Float64Array.of(-1.3, -0.8, 0, Math.log(1e-4)), d);
  const post = GpPosterior.create(x, n, d, isCat2, h, y)!;
  const best = Math.max(...y);
  const pending = Float64Array.of(0.5, 0.5, 0.1, 0.9, 0.7, 0.2);
  for (const acq of [
    new LogEiAcquisition(post, best, new Float64Array(0), 0, Rng.from(2)),
    new LogEiAcquisition(post, best, pending, 3, Rng.from(2)),
  ]) {
    const m = 150;
    const pts = Float64Array.from({ length: m * d }, () => r());
    const out = new Float64Array(m);
    acq.scoreBatch(pts, m, out);
    for (let i = 0; i < m; i++) {
      const single = acq.value(pts.subarray(i * d, (i + 1) * d));
      assert.ok(relErr(out[i]!, single) < 1e-9, `${acq.mode} point ${i}: ${out[i]} vs ${single}`);
    }
    if (acq.mode === 'logei') {
      const p = pts.subarray(0, d);
      const pr = post.predict(Float64Array.from(p));
      const direct = logExpectedImprovement(pr.mean, Math.sqrt(pr.variance + 1e-12), best);
      assert.ok(relErr(acq.value(p), direct) < 1e-9);
    }
  }
});

test('pending fantasies collapse the acquisition at and around a pending point', () => {
  const r = fixtureStream(12);
  const n = 15;
  const d = 2;
  const x = Float64Array.from({ length: n * d }, () => r());
  const y = Float64Array.from({ length: n }, (_, i) => -((x[i * d]! - 0.6) ** 2) - (x[i * d + 1]! - 0.3) ** 2);
  const mean = y.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(y.reduce((a, b) => a + (b - mean) ** 2, 0) / n);
  for (let i = 0; i < n; i++) y[i] = (y[i]! - mean) / sd;
  const fit = fitHyperparameters({ x, y, n, d, isCat: isCat2 }, { preset: 'optuna', deterministic: false, alsoFromPriorMode: true, maxIterations: 100 });
  const post = GpPosterior.create(x, n, d, isCat2, thetaToHyper(fit.theta, d), y)!;
  const best = Math.max(...y);
  const plain = new LogEiAcquisition(post, best, new Float64Array(0), 0, Rng.from(1));
  // Put a pending run at the plain acquisition's best raw point.
  let top = Float64Array.of(0, 0);
  let topV = -Infinity;
  for (let i = 0; i <= 40; i++)
    for (let j = 0; j <= 40; j++) {
      const p = Float64Array.of(i / 40, j / 40);
      const v = plain.value(p);
      if (v > topV) {
        topV = v;
        top = p;
      }
    }
  const fantasy = new LogEiAcquisition(post, best, top, 1, Rng.from(1));
  assert.equal(fantasy.mode, 'fantasy-logei');
  assert.ok(fantasy.value(top) < topV - 2, `at the pending point: ${fantasy.value(top)} vs ${topV}`);
  // The fantasy acquisition's maximizer moves away from the pending point.
  let next = Float64Array.of(0, 0);
  let nextV = -Infinity;
  for (let i = 0; i <= 40; i++)
    for (let j = 0; j <= 40; j++) {
      const p = Float64Array.of(i / 40, j / 40);
      const v = fantasy.value(p);
      if (v > nextV) {
        nextV = v;
        next = p;
      }
    }
  assert.ok(Math.hypot(next[0]! - top[0]!, next[1]! - top[1]!) > 0.02, `next ${next.join(',')} vs pending ${top.join(',')}`);
});
