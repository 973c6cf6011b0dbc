/**
 * The trust region: its replay over the outcome history (hand-counted sequences), its box, the
 * acquisition search staying inside it, and the strategy applying it (or not, with
 * `trustRegion: false` / `harrow.bayes.trust_region: false`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { optimizeAcquisition, type Acquisition } from '../../../strategies/bayes/acq-optimizer.js';
import { createBayesStrategy, createBayesStrategyForSpace } from '../../../strategies/bayes/index.js';
import { replayTrustRegion, trustRegionBox } from '../../../strategies/bayes/trust-region.js';
import { parseSweepConfig } from '../../../strategies/index.js';
import { Rng } from '../../../strategies/space/rng.js';
import type { MetricSpec, Observation, Params, Proposal } from '../../../strategies/types.js';
import { handSpace } from './spaces.js';

const minimize: MetricSpec = { name: 'loss', goal: 'minimize', impute: 'worst', imputeWhileRunning: false };

function replay(y: number[], start: number, d = 2): ReturnType<typeof replayTrustRegion> {
  return replayTrustRegion(Float64Array.from(y), y.length, start, d);
}

test('replay: the design rows only set the best; nothing after them leaves the initial side 0.8', () => {
  assert.deepEqual(replay([3, 1, 2], 3), { length: 0.8, successes: 0, failures: 0, restarts: 0 });
  // A design better than everything after it: all failures.
  assert.equal(replay([9, 1, 2, 3, 4], 1).length, 0.4);
});

test('replay: three improvements in a row double the side, up to 1.6', () => {
  assert.equal(replay([0, 1, 2], 1).length, 0.8);
  assert.equal(replay([0, 1, 2, 3], 1).length, 1.6);
  assert.equal(replay([0, 1, 2, 3, 4, 5, 6], 1).length, 1.6);
});

test('replay: max(4, d) runs in a row without improvement halve the side', () => {
  assert.equal(replay([5, 1, 1, 1], 1).length, 0.8);
  assert.equal(replay([5, 1, 1, 1, 1], 1).length, 0.4);
  assert.equal(replay([5, 1, 1, 1, 1, 1, 1, 1, 1], 1).length, 0.2);
  // d = 6: six failures per halving.
  assert.equal(replay([5, 1, 1, 1, 1, 1], 1, 6).length, 0.8);
  assert.equal(replay([5, 1, 1, 1, 1, 1, 1], 1, 6).length, 0.4);
});

test('replay: an improvement resets the failure count, a failure the success count', () => {
  const s = replay([5, 1, 1, 1, 6, 1, 1, 1], 1);
  assert.deepEqual(s, { length: 0.8, successes: 0, failures: 3, restarts: 0 });
  assert.equal(replay([0, 1, 2, 0, 3, 4], 1).length, 0.8, 'two, a failure, two: no doubling');
});

test('replay: a gain of less than 1e-3 (standardized) is not an improvement', () => {
  assert.equal(replay([5, 5.0005, 5.0009, 5.00095, 5.00099], 1).length, 0.4);
  assert.equal(replay([5, 5.002, 5.004, 5.006], 1).length, 1.6);
});

test('replay: below 2⁻⁷ the region restarts at 0.8 and counts the restart', () => {
  // 0.8 / 2^7 = 0.00625 < 2^-7: seven halvings of four failures each (d = 2).
  const failures = (k: number): number[] => [10, ...Array.from({ length: k }, () => 0)];
  assert.deepEqual(replay(failures(27), 1), { length: 0.0125, successes: 0, failures: 3, restarts: 0 });
  assert.deepEqual(replay(failures(28), 1), { length: 0.8, successes: 0, failures: 0, restarts: 1 });
  assert.equal(replay(failures(32), 1).length, 0.4, 'and shrinks again from there');
});

test('box: side × ℓ_j / geometric mean of ℓ, centred, clipped to [0, 1]; other dimensions span [0, 1]', () => {
  const even = trustRegionBox([0.5, 0.5], [0.3, 0.3], [1, 1], 0.2);
  assertClose(even.lower, [0.4, 0.4]);
  assertClose(even.upper, [0.6, 0.6]);
  // ℓ = (0.1, 0.4): geometric mean 0.2, weights 0.5 and 2.
  const weighted = trustRegionBox([0.5, 0.5], [0.1, 0.4], [1, 1], 0.2);
  assertClose(weighted.lower, [0.45, 0.3]);
  assertClose(weighted.upper, [0.55, 0.7]);
  const edge = trustRegionBox([0.05, 0.99, 0.5], [0.2, 0.2, 5], [1, 1, 0], 0.4);
  assertClose(edge.lower, [0, 0.79, 0]);
  assertClose(edge.upper, [0.25, 1, 1]);
  const none = trustRegionBox([0.5], [1], [0], 0.1);
  assertClose(none.lower, [0]);
  assertClose(none.upper, [1]);
});

test('the acquisition search stays in the box on continuous coordinates and moves freely on the others', () => {
  const dims = handSpace({ floats: [{ name: 'a', lo: 0, hi: 1 }, { name: 'b', lo: 0, hi: 1 }], cats: [{ name: 'c', values: ['p', 'q', 'r'] }] }).dimensions;
  // Maximum at (0.9, 0.1, choice 2), outside the box on both continuous coordinates.
  const f = (x: Float64Array): number => -((x[0]! - 0.9) ** 2) - (x[1]! - 0.1) ** 2 + (x[2] === 2 ? 1 : 0);
  const acq: Acquisition = {
    value: f,
    valueAndGradient(x, g) {
      g[0] = -2 * (x[0]! - 0.9);
      g[1] = -2 * (x[1]! - 0.1);
      g[2] = 0;
      return f(x);
    },
    scoreBatch(points, m, out) {
      for (let i = 0; i < m; i++) out[i] = f(points.subarray(i * 3, i * 3 + 3));
    },
  };
  const box = { lower: Float64Array.of(0.3, 0.4, 0), upper: Float64Array.of(0.6, 0.8, 1) };
  const results = optimizeAcquisition(acq, dims, {
    rng: Rng.from(1),
    rawSamples: 256,
    restarts: 4,
    incumbents: [Float64Array.of(0.1, 0.95, 0)],
    lengthscales: Float64Array.of(0.2, 0.2, 1),
    box,
  });
  for (const r of results) {
    assert.ok(r.x[0]! >= 0.3 - 1e-12 && r.x[0]! <= 0.6 + 1e-12, `a = ${r.x[0]} in [0.3, 0.6]`);
    assert.ok(r.x[1]! >= 0.4 - 1e-12 && r.x[1]! <= 0.8 + 1e-12, `b = ${r.x[1]} in [0.4, 0.8]`);
  }
  const best = results[0]!;
  assertClose(best.x, [0.6, 0.4, 2], 1e-6);
});

/** Proposals on a 2-d bowl whose minimum (0.3, 0.7) lies inside the space. */
function bowl(p: Params): number {
  return ((p.x1 as number) - 0.3) ** 2 + 2 * ((p.x2 as number) - 0.7) ** 2;
}

function sequential(options: { trustRegion?: boolean; deterministic?: boolean }, budget: number): Proposal[] {
  const space = handSpace({ floats: [{ name: 'x1', lo: 0, hi: 1 }, { name: 'x2', lo: 0, hi: 1 }] });
  const strategy = createBayesStrategyForSpace(space, minimize, { seed: 4, ...options });
  const observations: Observation[] = [];
  const out: Proposal[] = [];
  for (let t = 0; t < budget; t++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    assert.ok(p);
    out.push(p);
    observations.push({ params: p.params, state: 'finished', value: bowl(p.params) });
  }
  return out;
}

test('the strategy reports the region it searched and keeps each GP proposal inside it', () => {
  // Noise pinned, so the incumbent the box is centred on is the best observation.
  const proposals = sequential({ deterministic: true }, 20);
  let shrunk = false;
  for (const [i, p] of proposals.entries()) {
    if (p.info?.source !== 'gp') continue;
    const model = p.info.model as { trustRegion: { side: number; restarts: number }; lengthscales: Record<string, number> };
    const { side } = model.trustRegion;
    if (side < 0.8) shrunk = true;
    const before = proposals.slice(0, i).map((q) => q.params);
    const best = before.reduce((a, b) => (bowl(b) < bowl(a) ? b : a));
    const ls = [model.lengthscales.x1!, model.lengthscales.x2!];
    const geo = Math.sqrt(ls[0]! * ls[1]!);
    for (const [j, key] of ['x1', 'x2'].entries()) {
      const half = (side * ls[j]!) / geo / 2;
      // Lengthscales are reported to 4 significant digits.
      assert.ok(Math.abs((p.params[key] as number) - (best[key] as number)) <= half * 1.001 + 1e-9, `proposal ${i + 1}: ${key} within ${half} of the best`);
    }
  }
  assert.ok(shrunk, 'the region shrank at some point over 20 runs on a bowl');
});

test('trustRegion: false searches the whole space and reports no region; proposals differ from the default', () => {
  const off = sequential({ trustRegion: false }, 12);
  const on = sequential({}, 12);
  for (const p of off) if (p.info?.source === 'gp') assert.equal((p.info.model as Record<string, unknown>).trustRegion, undefined);
  assert.ok(on.some((p, i) => JSON.stringify(p.params) !== JSON.stringify(off[i]!.params)));
});

test('harrow.bayes.trust_region: false reaches the strategy', () => {
  const spec = parseSweepConfig({
    method: 'bayes',
    metric: { name: 'loss', goal: 'minimize' },
    program: 'train.py',
    parameters: { x1: { distribution: 'uniform', min: 0, max: 1 }, x2: { distribution: 'uniform', min: 0, max: 1 } },
    harrow: { bayes: { trust_region: false } },
  });
  assert.deepEqual(spec.harrow.bayes, { trustRegion: false });
  const observations: Observation[] = [];
  const strategy = createBayesStrategy(spec, { seed: 2 });
  for (let t = 0; t < 6; t++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    assert.ok(p);
    if (p.info?.source === 'gp') assert.equal((p.info.model as Record<string, unknown>).trustRegion, undefined);
    observations.push({ params: p.params, state: 'finished', value: bowl(p.params) });
  }
  const [gp] = createBayesStrategy(spec, { seed: 2, trustRegion: true }).propose({ observations, pending: [], count: 1 });
  assert.ok((gp?.info?.model as Record<string, unknown>).trustRegion, 'an explicit caller option wins over the file');
});

function assertClose(actual: ArrayLike<number>, expected: number[], tol = 1e-12): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol, `[${i}] ${actual[i]} vs ${expected[i]}`);
}
