import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matern52, matern52Dq, scaledSqDist } from '../../../strategies/bayes/kernel.js';
import { MapObjective, thetaToHyper, type FitData } from '../../../strategies/bayes/gp-fit.js';
import { logPrior, type PriorPreset } from '../../../strategies/bayes/priors.js';
import { GpPosterior } from '../../../strategies/bayes/gp-posterior.js';
import { LogEiAcquisition } from '../../../strategies/bayes/acquisition.js';
import { Rng } from '../../../strategies/space/rng.js';
import { centralDiff, fixtureStream, relErr } from './fd.js';

/** n points in d dims; dims listed in `cat` are categorical indices with 3 choices. */
function fixture(n: number, d: number, cat: number[], seed: number): FitData {
  const r = fixtureStream(seed);
  const isCat = new Uint8Array(d);
  for (const c of cat) isCat[c] = 1;
  const x = new Float64Array(n * d);
  for (let i = 0; i < n; i++) for (let j = 0; j < d; j++) x[i * d + j] = isCat[j] ? Math.floor(r() * 3) : r();
  const y = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let v = 0;
    for (let j = 0; j < d; j++) v += isCat[j] ? (x[i * d + j] === 1 ? 0.7 : 0) : Math.sin(3 * x[i * d + j]! + j);
    y[i] = v + 0.05 * (r() - 0.5);
  }
  let mean = 0;
  for (const v of y) mean += v / n;
  let sd = 0;
  for (const v of y) sd += ((v - mean) * (v - mean)) / n;
  sd = Math.sqrt(sd);
  for (let i = 0; i < n; i++) y[i] = (y[i]! - mean) / sd;
  return { x, y, n, d, isCat };
}

test('Matérn-5/2 derivative in q matches central differences and is finite at q = 0', () => {
  for (const q of [1e-6, 0.01, 0.3, 1, 4, 12]) {
    const fd = (matern52(q + 1e-7 * Math.max(q, 1e-3)) - matern52(q - 1e-7 * Math.max(q, 1e-3))) / (2e-7 * Math.max(q, 1e-3));
    assert.ok(relErr(matern52Dq(q), fd) < 1e-6, `q=${q}`);
  }
  assert.equal(matern52(0), 1);
  assert.ok(relErr(matern52Dq(0), -5 / 6) < 1e-15);
});

test('kernel: scaled distance uses squared differences for numbers and Hamming for categories', () => {
  const isCat = Uint8Array.of(0, 1);
  const kappa = Float64Array.of(4, 2);
  const a = Float64Array.of(0.25, 1);
  const b = Float64Array.of(0.75, 2);
  assert.ok(relErr(scaledSqDist(a, 0, b, 0, 2, isCat, kappa), 4 * 0.25 + 2) < 1e-15);
  b[1] = 1;
  assert.ok(relErr(scaledSqDist(a, 0, b, 0, 2, isCat, kappa), 1) < 1e-15);
});

for (const preset of ['optuna', 'hvarfner'] as PriorPreset[]) {
  test(`MAP loss gradient (${preset} prior) matches central differences, numeric and categorical dims`, () => {
    const data = fixture(14, 4, [2], 7);
    const obj = new MapObjective(data, preset);
    const thetas = [
      Float64Array.of(-0.4, 0.3, 0.1, -1.1, 0.2, Math.log(0.01)),
      Float64Array.of(0.5, -1.5, -0.3, 0.8, -0.4, Math.log(0.2)),
    ];
    for (const theta of thetas) {
      const grad = new Float64Array(theta.length);
      obj.evaluate(theta, grad);
      for (let i = 0; i < theta.length; i++) {
        const fd = centralDiff((t) => obj.evaluate(t), theta, i, 1e-5);
        assert.ok(relErr(grad[i]!, fd, 1e-6) < 1e-6, `θ${i}: analytic ${grad[i]} vs FD ${fd}`);
      }
    }
  });
}

test('MAP loss equals −ln N(y; 0, K) − ln prior computed by a direct dense solve', () => {
  const data = fixture(6, 2, [], 3);
  const theta = Float64Array.of(-0.7, 0.2, 0.3, Math.log(0.05));
  const h = thetaToHyper(theta, 2);
  const n = data.n;
  // Direct: build K, invert by Gauss-Jordan, determinant by elimination.
  const k: number[][] = [];
  for (let a = 0; a < n; a++) {
    k.push([]);
    for (let b = 0; b < n; b++) {
      let q = 0;
      for (let j = 0; j < 2; j++) q += ((data.x[a * 2 + j]! - data.x[b * 2 + j]!) ** 2) / h.lengthscales[j]! ** 2;
      k[a]!.push(h.signal * matern52(q) + (a === b ? h.noise : 0));
    }
  }
  const aug = k.map((row, i) => [...row, ...row.map((_, j) => (i === j ? 1 : 0))]);
  let det = 1;
  for (let c = 0; c < n; c++) {
    let piv = c;
    for (let r = c + 1; r < n; r++) if (Math.abs(aug[r]![c]!) > Math.abs(aug[piv]![c]!)) piv = r;
    [aug[c], aug[piv]] = [aug[piv]!, aug[c]!];
    if (piv !== c) det = -det;
    const p = aug[c]![c]!;
    det *= p;
    for (let j = 0; j < 2 * n; j++) aug[c]![j] = aug[c]![j]! / p;
    for (let r = 0; r < n; r++) {
      if (r === c) continue;
      const f = aug[r]![c]!;
      for (let j = 0; j < 2 * n; j++) aug[r]![j] = aug[r]![j]! - f * aug[c]![j]!;
    }
  }
  let quad = 0;
  for (let a = 0; a < n; a++) for (let b = 0; b < n; b++) quad += data.y[a]! * aug[a]![n + b]! * data.y[b]!;
  const direct = 0.5 * quad + 0.5 * Math.log(det) + 0.5 * n * Math.log(2 * Math.PI) - logPrior('optuna', theta, 2);
  const obj = new MapObjective(data, 'optuna');
  assert.ok(relErr(obj.evaluate(theta), direct) < 1e-10);
});

test('LogEI gradient in x matches central differences, with and without pending fantasies', () => {
  const data = fixture(12, 3, [2], 11);
  const hyper = thetaToHyper(Float64Array.of(-1.2, -0.6, 0, 0.1, Math.log(0.003)), 3);
  const post = GpPosterior.create(data.x, data.n, data.d, data.isCat, hyper, data.y)!;
  let best = -Infinity;
  for (const v of data.y) best = Math.max(best, v);
  const pending = Float64Array.of(0.3, 0.6, 1, 0.8, 0.2, 0);
  const cases = [
    new LogEiAcquisition(post, best, new Float64Array(0), 0, Rng.from(1)),
    new LogEiAcquisition(post, best, pending, 2, Rng.from(1)),
    new LogEiAcquisition(post, best, pending, 2, Rng.from(1), { krigingBeliever: true }),
  ];
  assert.deepEqual(
    cases.map((c) => c.mode),
    ['logei', 'fantasy-logei', 'kriging-believer'],
  );
  const points = [Float64Array.of(0.41, 0.77, 1), Float64Array.of(0.05, 0.35, 2), Float64Array.of(0.9, 0.1, 0)];
  for (const acq of cases) {
    for (const p of points) {
      const grad = new Float64Array(3);
      acq.valueAndGradient(p, grad);
      for (const i of [0, 1]) {
        const fd = centralDiff((x) => acq.value(x), p, i, 1e-6);
        assert.ok(relErr(grad[i]!, fd, 1e-6) < 1e-5, `${acq.mode} dim ${i}: ${grad[i]} vs ${fd}`);
      }
      assert.equal(grad[2], 0);
    }
  }
});
