import { test } from 'node:test';
import assert from 'node:assert/strict';
import { selectSubset } from '../../../strategies/bayes/subset.js';
import { fitOutputTransform } from '../../../strategies/bayes/output-transform.js';
import { createBayesStrategyForSpace } from '../../../strategies/bayes/index.js';
import type { MetricSpec, Observation } from '../../../strategies/types.js';
import { fixtureStream } from './fd.js';
import { handSpace } from './spaces.js';

test('the quality subset keeps the best fifth and the most recent runs, then fills space', () => {
  const r = fixtureStream(3);
  const n = 200;
  const d = 2;
  const x = Float64Array.from({ length: n * d }, () => r());
  const y = Float64Array.from({ length: n }, () => r());
  const idx = [...selectSubset({ x, y, n, d, isCat: new Uint8Array(d), lengthscales: null }, 50, 5)];
  assert.equal(idx.length, 50);
  assert.equal(new Set(idx).size, 50);
  assert.deepEqual(idx, [...idx].sort((a, b) => a - b));
  const byY = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[b]! - y[a]!);
  for (const i of byY.slice(0, 10)) assert.ok(idx.includes(i), `top run ${i} kept`);
  for (let i = n - 5; i < n; i++) assert.ok(idx.includes(i), `recent run ${i} kept`);
  // Space-filling: the largest empty gap left is far smaller than a uniform random pick's.
  const coverage = (sel: number[]): number => {
    let worst = 0;
    for (let i = 0; i < n; i++) {
      let near = Infinity;
      for (const j of sel) near = Math.min(near, (x[i * d]! - x[j * d]!) ** 2 + (x[i * d + 1]! - x[j * d + 1]!) ** 2);
      worst = Math.max(worst, near);
    }
    return worst;
  };
  const firstFifty = Array.from({ length: 50 }, (_, i) => i);
  assert.ok(coverage(idx) < coverage(firstFifty), 'better coverage than an arbitrary 50');
  // Deterministic.
  assert.deepEqual([...selectSubset({ x, y, n, d, isCat: new Uint8Array(d), lengthscales: null }, 50, 5)], idx);
});

test('Yeo–Johnson: λ recovered from transformed normal data, monotone, inverse round-trips', () => {
  const r = fixtureStream(9);
  const lambda = 0.3;
  // Normal draws mapped through the inverse Yeo–Johnson with λ = 0.3 are heavy-tailed upward.
  const z = Array.from({ length: 400 }, () => Math.sqrt(-2 * Math.log(r() + 1e-12)) * Math.cos(2 * Math.PI * r()));
  const y = Float64Array.from(z, (t) => (t >= 0 ? Math.pow(lambda * t + 1, 1 / lambda) - 1 : 1 - Math.pow(1 - (2 - lambda) * t, 1 / (2 - lambda))));
  const t = fitOutputTransform(y, 'yeo-johnson');
  assert.ok(t.lambda !== undefined);
  // The fit runs on z-scored y, so λ differs from 0.3; the check is that the tail is tamed.
  const skew = (v: ArrayLike<number>): number => {
    const a = Array.from(v);
    const m = a.reduce((p, c) => p + c, 0) / a.length;
    const s = Math.sqrt(a.reduce((p, c) => p + (c - m) ** 2, 0) / a.length);
    return a.reduce((p, c) => p + ((c - m) / s) ** 3, 0) / a.length;
  };
  assert.ok(skew(y) > 1, `input skewness ${skew(y)}`);
  assert.ok(Math.abs(skew(t.y)) < 0.2, `transformed skewness ${skew(t.y)}`);
  const order = Array.from({ length: y.length }, (_, i) => i);
  const byY = [...order].sort((a, b) => y[a]! - y[b]!);
  for (let i = 1; i < byY.length; i++) assert.ok(t.y[byY[i]!]! >= t.y[byY[i - 1]!]!, 'monotone');
  for (let i = 0; i < 20; i++) assert.ok(Math.abs(t.inverse(t.y[i]!) - y[i]!) < 1e-9 * Math.max(1, Math.abs(y[i]!)));
  const plain = fitOutputTransform(y, 'standardize');
  assert.ok(Math.abs(plain.inverse(plain.y[3]!) - y[3]!) < 1e-12);
});

test('past trainMax and refitAlwaysBelow: subset posterior, refit cadence, incremental factor', () => {
  const metric: MetricSpec = { name: 'loss', goal: 'minimize', impute: 'worst', imputeWhileRunning: false };
  const space = handSpace({
    floats: [
      { name: 'a', lo: 0, hi: 1 },
      { name: 'b', lo: 0, hi: 1 },
    ],
  });
  const s = createBayesStrategyForSpace(space, metric, { seed: 2, trainMax: 40, refitAlwaysBelow: 30, fitSubsetMax: 25 });
  const r = fixtureStream(5);
  const f = (a: number, b: number): number => (a - 0.3) ** 2 + (b - 0.6) ** 2;
  const observations: Observation[] = [];
  for (let i = 0; i < 110; i++) {
    const a = r();
    const b = r();
    observations.push({ params: { a, b }, state: 'finished', value: f(a, b) });
  }
  const models: Array<{ fit: string; factor: string; trainingSubset?: string; fitSubset?: number; n: number }> = [];
  for (let i = 0; i < 4; i++) {
    const [p] = s.propose({ observations, pending: [], count: 1 });
    const model = p!.info?.model as (typeof models)[number];
    assert.equal(p!.info?.source, 'gp');
    assert.match(model.trainingSubset ?? '', new RegExp(`^${model.n} of ${110 + i} `));
    models.push(model);
    const { a, b } = p!.params as { a: number; b: number };
    observations.push({ params: { a, b }, state: 'finished', value: f(a, b) });
  }
  // Past 100 runs the fit is redone every ⌈n/100⌉ = 2 new runs; in between the hyperparameters
  // are reused and the subset's factor is extended by the new run.
  assert.deepEqual(
    models.map((m) => [m.fit.split(' ')[0], m.factor]),
    [
      ['prior-mode', 'full'],
      ['reused', 'extended'],
      ['warm', 'full'],
      ['reused', 'extended'],
    ],
  );
  assert.equal(models[0]!.fitSubset, 25);
  assert.equal(models[1]!.n, models[0]!.n + 1);
});
