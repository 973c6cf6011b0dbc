/**
 * `harrow.bayes` reaches the strategy: through `createStrategy` (what `harrow preview` and the
 * benchmarks call), through `createBayesStrategy` with the caller's options winning, and through
 * the controller's worker thread with the spec as it comes back from Postgres (JSON).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { StrategyWorker } from '../../../controller/strategy-worker.js';
import { createBayesStrategy } from '../../../strategies/bayes/index.js';
import { NOISE_FLOOR } from '../../../strategies/bayes/priors.js';
import { createStrategy, parseSweepConfig } from '../../../strategies/index.js';
import { Rng } from '../../../strategies/space/rng.js';
import { sampleParams } from '../../../strategies/space/index.js';
import type { Observation, Params, Proposal, SweepSpec } from '../../../strategies/types.js';

/** A two-parameter bayes sweep (default design: clamp(2·2, 5, 10) = 5 runs) with `bayes` as harrow.bayes. */
function spec(bayes?: Record<string, unknown>): SweepSpec {
  return parseSweepConfig({
    method: 'bayes',
    metric: { name: 'loss', goal: 'minimize' },
    program: 'train.py',
    parameters: { x1: { distribution: 'uniform', min: 0, max: 1 }, x2: { distribution: 'uniform', min: 0, max: 1 } },
    ...(bayes ? { harrow: { bayes } } : {}),
  });
}

function bowl(p: Params): number {
  return ((p.x1 as number) - 0.3) ** 2 + 2 * ((p.x2 as number) - 0.7) ** 2;
}

/** `n` finished runs at prior draws; `noise` adds seeded Gaussian noise to the objective. */
function history(s: SweepSpec, n: number, noise = 0): Observation[] {
  const rng = Rng.from(21);
  return Array.from({ length: n }, () => {
    const params = sampleParams(s.parameters, rng);
    return { params, state: 'finished' as const, value: bowl(params) + noise * rng.normal() };
  });
}

function proposeOnce(s: SweepSpec, observations: Observation[], options = {}): Proposal {
  const [p] = createBayesStrategy(s, { seed: 5, ...options }).propose({ observations, pending: [], count: 1 });
  assert.ok(p, 'a proposal');
  return p;
}

function modelOf(p: Proposal): { noise: number; lengthscales: Record<string, number> } {
  assert.equal(p.info?.source, 'gp');
  return p.info.model as { noise: number; lengthscales: Record<string, number> };
}

test('initial_design: 7 gives 7 Sobol proposals, then the GP once 7 runs have finished', () => {
  const strategy = createStrategy(spec({ initial_design: 7 }), { seed: 3 });
  const observations: Observation[] = [];
  for (let i = 0; i < 7; i++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    assert.equal(p?.info?.source, 'sobol', `proposal ${i + 1}`);
    assert.equal(p.info.initialDesign, `${i}/7 finished runs before the GP takes over`);
    observations.push({ params: p.params, state: 'finished', value: bowl(p.params) });
  }
  const [eighth] = strategy.propose({ observations, pending: [], count: 1 });
  assert.equal(eighth?.info?.source, 'gp');
  // Without the block the default design (5 for two parameters) has already handed over at 5.
  const [sixth] = createStrategy(spec(), { seed: 3 }).propose({ observations: observations.slice(0, 5), pending: [], count: 1 });
  assert.equal(sixth?.info?.source, 'gp');
});

test('deterministic: true pins the GP noise at its floor, where a noisy objective otherwise learns more', () => {
  const observations = history(spec(), 12, 0.05);
  const pinned = modelOf(proposeOnce(spec({ deterministic: true }), observations)).noise;
  assert.ok(Math.abs(pinned - NOISE_FLOOR) < 0.01 * NOISE_FLOOR, `noise ${pinned}`);
  const learned = modelOf(proposeOnce(spec({ deterministic: false }), observations)).noise;
  assert.ok(learned > 1e-4, `learned noise ${learned}`);
  assert.equal(modelOf(proposeOnce(spec(), observations)).noise, learned, 'false is the default');
});

test('prior: hvarfner fits other lengthscales than the default, exactly as the library option does', () => {
  const observations = history(spec(), 12);
  const fromFile = proposeOnce(spec({ prior: 'hvarfner' }), observations);
  const fromOption = proposeOnce(spec(), observations, { prior: 'hvarfner' });
  const byDefault = proposeOnce(spec(), observations);
  assert.deepEqual(fromFile, fromOption);
  assert.notDeepEqual(modelOf(fromFile).lengthscales, modelOf(byDefault).lengthscales);
  assert.deepEqual(proposeOnce(spec({ prior: 'optuna' }), observations), byDefault, 'optuna is the default');
});

test('options passed to createBayesStrategy win over the file; undefined ones do not hide it', () => {
  const observations = history(spec(), 12, 0.05);
  const file = spec({ prior: 'hvarfner', deterministic: true, initial_design: 20 });
  assert.deepEqual(
    proposeOnce(file, observations, { prior: 'optuna', deterministic: false, initialDesign: 5 }),
    proposeOnce(spec(), observations),
  );
  assert.equal(proposeOnce(file, observations).info?.source, 'sobol', '12 finished < 20');
  assert.deepEqual(
    proposeOnce(file, observations, { prior: undefined, deterministic: undefined, initialDesign: undefined }),
    proposeOnce(file, observations),
  );
});

test('the controller\'s worker thread applies harrow.bayes from a spec read back as JSON', async () => {
  const stored = JSON.parse(JSON.stringify(spec({ deterministic: true, initial_design: 7 }))) as SweepSpec;
  assert.deepEqual(stored.harrow.bayes, { deterministic: true, initialDesign: 7 });
  const observations = history(stored, 7, 0.05);
  const worker = new StrategyWorker();
  try {
    const [design] = await worker.propose('tuned', stored, 5, { observations: observations.slice(0, 6), pending: [], count: 1 });
    assert.equal(design?.info?.source, 'sobol', '6 finished < 7 (the default design would be 5)');
    const viaWorker = await worker.propose('tuned-gp', stored, 5, { observations, pending: [], count: 1 });
    assert.deepEqual(viaWorker, [proposeOnce(stored, observations)]);
    assert.ok(Math.abs(modelOf(viaWorker[0]!).noise - NOISE_FLOOR) < 0.01 * NOISE_FLOOR);
  } finally {
    await worker.close();
  }
});
