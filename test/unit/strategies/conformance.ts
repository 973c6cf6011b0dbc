/**
 * The conformance suite every strategy passes (Optuna's sampler test suite is the model): proposals
 * stay inside the space with the right types, the same seed and history give the same proposals,
 * pending runs are not duplicated, failed and crashed runs are digested, and finite spaces are
 * handled to exhaustion. `strategyConformance(label, factory, traits)` registers the tests.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSpace, flattenParameters, parseSweepConfig, valueKey } from '../../../strategies/index.js';
import { getPath } from '../../../strategies/space/flatten.js';
import type { Method, Observation, ObservationState, Params, Strategy, SweepSpec } from '../../../strategies/types.js';

export type StrategyFactory = (spec: SweepSpec, options: { seed: number }) => Strategy;

export interface StrategyTraits {
  /** The `method` the specs are written for (and the strategy reports). */
  method: Method;
  /** Handles continuous and unbounded parameters (grid does not). */
  continuous: boolean;
  /** Different seeds give different proposals (false for grid). */
  seeded: boolean;
  /** The output depends only on (seed, observations, pending): no state kept between calls. */
  stateless: boolean;
  /**
   * Avoids repeats only among leaves whose law is uniform (random: a weighted leaf, such as a
   * quantized one whose end levels carry less mass, is drawn with its own law and may repeat), so
   * its no-repeat checks run over a space of uniform leaves.
   */
  repeatsWeightedLeaves?: boolean;
  /** Returns no proposals once a finite space is used up (grid); otherwise it keeps proposing. */
  stopsWhenExhausted: boolean;
  /** Number of observations to feed in history tests; keep small for slow strategies. */
  historySize: number;
}

const MIXED = (method: Method): string => `
method: ${method}
program: train.py
metric: {name: loss, goal: minimize}
parameters:
  lr: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  dropout: {min: 0.0, max: 0.5}
  layers: {min: 1, max: 4}
  act: {values: [relu, tanh, gelu]}
  epochs: {value: 10}
  optimizer:
    parameters:
      beta: {distribution: q_uniform, min: 0.5, max: 0.9, q: 0.1}
      momentum: {distribution: normal, mu: 0.9, sigma: 0.05}
      eps: {distribution: q_log_uniform_values, min: 1, max: 1000, q: 1}
      decay: {distribution: beta, a: 2, b: 5}
`;

/** 3 × 3 × 3 = 27 cells, nested block, a constant, mixed value types. */
const DISCRETE = (method: Method): string => `
method: ${method}
program: train.py
metric: {name: loss, goal: minimize}
parameters:
  a: {values: [1, two, [3, 4]]}
  b: {min: 0, max: 2}
  fixed: {value: {k: v}}
  nest:
    parameters:
      c: {distribution: q_uniform, min: 0, max: 1, q: 0.5}
`;
const DISCRETE_SIZE = 27;

/** DISCRETE with the quantized leaf (levels of mass ¼, ½, ¼) replaced by a uniform one. */
const DISCRETE_UNIFORM = (method: Method): string =>
  DISCRETE(method).replace('{distribution: q_uniform, min: 0, max: 1, q: 0.5}', '{values: [0, 0.5, 1]}');

function spec(text: string): SweepSpec {
  return parseSweepConfig(text);
}

/** Asserts that params are a configuration of the space: encodable, every leaf of the right kind. */
export function assertInSpace(s: SweepSpec, params: Params): void {
  assert.doesNotThrow(() => encodeSpace(s).encode(params), `params do not fit the space: ${JSON.stringify(params)}`);
  for (const leaf of flattenParameters(s.parameters)) {
    const v = getPath(params, leaf.path);
    const spec = leaf.spec;
    switch (spec.distribution) {
      case 'constant':
        assert.equal(valueKey(v), valueKey(spec.value), leaf.name);
        break;
      case 'categorical':
      case 'categorical_w_probabilities':
        assert.ok(spec.values.some((x) => valueKey(x) === valueKey(v)), `${leaf.name}: ${JSON.stringify(v)} not in values`);
        break;
      case 'int_uniform':
        assert.ok(Number.isInteger(v) && (v as number) >= spec.min && (v as number) <= spec.max, `${leaf.name}: ${JSON.stringify(v)}`);
        break;
      case 'uniform':
      case 'log_uniform_values':
      case 'inv_log_uniform_values':
        assert.ok(typeof v === 'number' && v >= spec.min && v <= spec.max, `${leaf.name}: ${JSON.stringify(v)} outside [${spec.min}, ${spec.max}]`);
        break;
      case 'q_uniform':
      case 'q_log_uniform_values': {
        assert.equal(typeof v, 'number', leaf.name);
        const k = (v as number) / spec.q;
        assert.ok(Math.abs(k - Math.round(k)) < 1e-9, `${leaf.name}: ${JSON.stringify(v)} is not a multiple of ${spec.q}`);
        assert.ok((v as number) >= spec.min - spec.q / 2 && (v as number) <= spec.max + spec.q / 2, `${leaf.name}: ${JSON.stringify(v)} out of range`);
        break;
      }
      case 'beta':
        assert.ok(typeof v === 'number' && v >= 0 && v <= 1, `${leaf.name}: ${JSON.stringify(v)}`);
        break;
      default:
        assert.ok(typeof v === 'number' && Number.isFinite(v), `${leaf.name}: ${JSON.stringify(v)}`);
    }
  }
}

/** A smooth synthetic objective over any params, so history has realistic values. */
function objective(params: Params): number {
  let h = 0;
  for (const ch of JSON.stringify(params)) h = (h * 31 + ch.charCodeAt(0)) % 1000003;
  return (h % 1000) / 1000;
}

const STATES: ObservationState[] = ['finished', 'finished', 'failed', 'finished', 'crashed', 'finished', 'stopped'];

/** Runs the strategy for `n` steps, feeding each proposal back as an observation. */
function history(strategy: Strategy, n: number): Observation[] {
  const observations: Observation[] = [];
  for (let i = 0; i < n; i++) {
    const [p] = strategy.propose({ observations, pending: [], count: 1 });
    if (!p) break;
    const state = STATES[i % STATES.length]!;
    observations.push({ params: p.params, state, value: state === 'finished' || state === 'stopped' ? objective(p.params) : null });
  }
  return observations;
}

export function strategyConformance(label: string, factory: StrategyFactory, traits: StrategyTraits): void {
  const specs = [
    ...(traits.continuous ? [{ name: 'mixed space', spec: spec(MIXED(traits.method)) }] : []),
    { name: 'discrete space', spec: spec(DISCRETE(traits.method)) },
  ];

  describe(`strategy conformance: ${label}`, () => {
    for (const { name, spec: s } of specs) {
      it(`${name}: reports its method and proposes exactly count configurations inside the space`, () => {
        const strategy = factory(s, { seed: 1 });
        assert.equal(strategy.method, traits.method);
        assert.deepEqual(strategy.propose({ observations: [], pending: [], count: 0 }), []);
        const proposals = strategy.propose({ observations: [], pending: [], count: 5 });
        assert.equal(proposals.length, 5);
        for (const p of proposals) assertInSpace(s, p.params);
      });

      it(`${name}: stays inside the space with a history of finished, failed, crashed and stopped runs`, () => {
        const strategy = factory(s, { seed: 2 });
        const observations = history(strategy, traits.historySize);
        assert.ok(observations.length > 0);
        for (const o of observations) assertInSpace(s, o.params);
        const next = strategy.propose({ observations, pending: [], count: 3 });
        for (const p of next) assertInSpace(s, p.params);
      });

      it(`${name}: the same seed and history give the same proposals`, () => {
        const a = factory(s, { seed: 7 });
        const b = factory(s, { seed: 7 });
        const obsA = history(a, Math.min(traits.historySize, 8));
        const obsB = history(b, Math.min(traits.historySize, 8));
        assert.deepEqual(obsB, obsA);
        const input = { observations: obsA, pending: [obsA[0]!.params], count: 3 };
        assert.deepEqual(
          b.propose(input).map((p) => p.params),
          a.propose(input).map((p) => p.params),
        );
      });

      if (traits.seeded) {
        it(`${name}: different seeds give different proposals`, () => {
          const a = factory(s, { seed: 1 }).propose({ observations: [], pending: [], count: 4 });
          const b = factory(s, { seed: 2 }).propose({ observations: [], pending: [], count: 4 });
          assert.notDeepEqual(
            b.map((p) => p.params),
            a.map((p) => p.params),
          );
        });
      }

      if (traits.stateless) {
        it(`${name}: keeps no state between calls (a fresh instance answers the same)`, () => {
          const used = factory(s, { seed: 3 });
          const observations = history(used, 4);
          const input = { observations, pending: [], count: 2 };
          const first = used.propose(input).map((p) => p.params);
          assert.deepEqual(used.propose(input).map((p) => p.params), first);
          assert.deepEqual(factory(s, { seed: 3 }).propose(input).map((p) => p.params), first);
        });
      }
    }

    const discrete = spec((traits.repeatsWeightedLeaves ? DISCRETE_UNIFORM : DISCRETE)(traits.method));

    it('finite space: reports its size', () => {
      assert.equal(factory(discrete, { seed: 1 }).size, DISCRETE_SIZE);
    });

    it('finite space: one batch never repeats a configuration, nor a pending one', () => {
      const strategy = factory(discrete, { seed: 5 });
      const pending = strategy.propose({ observations: [], pending: [], count: 4 }).map((p) => p.params);
      const batch = strategy.propose({ observations: [], pending, count: 10 }).map((p) => p.params);
      assert.equal(batch.length, 10);
      const keys = [...pending, ...batch].map((p) => valueKey(p));
      assert.equal(new Set(keys).size, keys.length, 'a pending or already proposed configuration was proposed again');
    });

    it('finite space: pending runs fed one at a time are not duplicated until the space is used up', () => {
      const strategy = factory(discrete, { seed: 6 });
      const pending: Params[] = [];
      for (let i = 0; i < DISCRETE_SIZE; i++) {
        const [p] = strategy.propose({ observations: [], pending, count: 1 });
        assert.ok(p, `no proposal at step ${i}`);
        pending.push(p.params);
      }
      assert.equal(new Set(pending.map((p) => valueKey(p))).size, DISCRETE_SIZE);
    });

    it('finite space: failed and crashed runs hold their configuration too', () => {
      const strategy = factory(discrete, { seed: 8 });
      const observations: Observation[] = strategy
        .propose({ observations: [], pending: [], count: 6 })
        .map((p, i) => ({ params: p.params, state: i % 2 === 0 ? 'failed' : 'crashed', value: null }));
      const next = strategy.propose({ observations, pending: [], count: 5 }).map((p) => valueKey(p.params));
      const held = new Set(observations.map((o) => valueKey(o.params)));
      for (const k of next) assert.ok(!held.has(k), 'a failed or crashed configuration was proposed again');
    });

    it(`finite space: once every configuration has run, ${traits.stopsWhenExhausted ? 'nothing more is proposed' : 'it keeps proposing valid ones'}`, () => {
      const strategy = factory(discrete, { seed: 9 });
      const observations: Observation[] = [];
      for (let i = 0; i < DISCRETE_SIZE; i++) {
        const [p] = strategy.propose({ observations, pending: [], count: 1 });
        assert.ok(p);
        observations.push({ params: p.params, state: 'finished', value: objective(p.params) });
      }
      const after = strategy.propose({ observations, pending: [], count: 3 });
      if (traits.stopsWhenExhausted) {
        assert.deepEqual(after, []);
      } else {
        assert.equal(after.length, 3);
        for (const p of after) assertInSpace(discrete, p.params);
      }
    });
  });
}
