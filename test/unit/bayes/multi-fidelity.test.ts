import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CurveImputer, curvePositions } from '../../../strategies/bayes/multi-fidelity.js';
import { BayesStrategy } from '../../../strategies/bayes/bayes-strategy.js';
import { createBayesStrategy } from '../../../strategies/bayes/index.js';
import { parseSweepConfig, SweepConfigError } from '../../../strategies/index.js';
import type { CurveSummary, MetricSpec, Observation } from '../../../strategies/types.js';
import { handSpace } from './spaces.js';

const space = handSpace({ floats: [{ name: 'x', lo: 0, hi: 1 }] });
const metric = (goal: MetricSpec['goal']): MetricSpec => ({ name: 'loss', goal, impute: 'worst', imputeWhileRunning: false });
const EPOCHS = 27;
/** Final loss (x − 0.3)² + 0.1; every curve decays from 1.1 above it with the same time constant. */
const final = (x: number): number => (x - 0.3) ** 2 + 0.1;
const curve = (x: number, steps: number, sign = 1): number[] =>
  Array.from({ length: steps }, (_, i) => sign * (final(x) + Math.exp(-(i + 1) / 3)));

function run(x: number, state: 'finished' | 'stopped', steps: number, sign = 1): Observation {
  const c = curve(x, steps, sign);
  const best = sign > 0 ? Math.min(...c) : Math.max(...c);
  return { params: { x }, state, value: best, best, latest: c.at(-1)!, curve: c };
}

const finishedXs = [0.05, 0.5, 0.7, 0.95];

test('stopped runs get a predicted final value from the (configuration, budget) GP, ranked as their true finals', () => {
  const obs = [...finishedXs.map((x) => run(x, 'finished', EPOCHS)), run(0.3, 'stopped', 3), run(0.85, 'stopped', 3), run(0.6, 'stopped', 9)];
  const out = new CurveImputer(space, metric('minimize'), { preset: 'optuna' }).impute(obs);
  assert.equal(out.imputed, 3);
  const byX = new Map(out.observations.map((o) => [o.params.x as number, o]));
  for (const x of finishedXs) assert.equal(byX.get(x), obs.find((o) => o.params.x === x), 'finished runs pass through untouched');
  for (const x of [0.3, 0.85, 0.6]) {
    const o = byX.get(x)!;
    assert.equal(o.state, 'finished');
    assert.ok(typeof o.value === 'number');
    // A final best is never worse than what the run already logged.
    assert.ok(o.value <= Math.min(...curve(x, x === 0.6 ? 9 : 3)) + 1e-12);
  }
  const good = byX.get(0.3)!.value!;
  const bad = byX.get(0.85)!.value!;
  const mid = byX.get(0.6)!.value!;
  assert.ok(good < mid && mid < bad, `imputed finals ${good}, ${mid}, ${bad} should rank as the true ${final(0.3)}, ${final(0.6)}, ${final(0.85)}`);
  // Far from the 1.1-ish value the run showed at epoch 3 (what impute: latest/best would say) and from the worst.
  assert.ok(Math.abs(good - final(0.3)) < 0.1, `imputed ${good}, true final ${final(0.3)}`);
  assert.ok(out.warnings.length === 0, out.warnings.join('; '));
});

test('maximize: the orientation is respected (a final best is at least the best so far)', () => {
  const obs = [...finishedXs.map((x) => run(x, 'finished', EPOCHS, -1)), run(0.3, 'stopped', 3, -1)];
  const out = new CurveImputer(space, metric('maximize'), { preset: 'optuna' }).impute(obs);
  const o = out.observations.at(-1)!;
  assert.equal(out.imputed, 1);
  assert.ok(o.value! >= Math.max(...curve(0.3, 3, -1)));
  assert.ok(Math.abs(o.value! + final(0.3)) < 0.1, `imputed ${o.value}, true final ${-final(0.3)}`);
});

test('nothing changes without stopped curves or before enough finished runs have full curves', () => {
  const imputer = new CurveImputer(space, metric('minimize'), { preset: 'optuna' });
  const none = finishedXs.map((x) => run(x, 'finished', EPOCHS));
  assert.equal(imputer.impute(none).observations, none);
  const early = [run(0.1, 'finished', EPOCHS), run(0.5, 'finished', EPOCHS), run(0.3, 'stopped', 3)];
  const r = imputer.impute(early);
  assert.equal(r.observations, early);
  assert.match(String(r.info.multiFidelity), /waiting for 3 finished runs with full curves \(2 so far\)/);
  const noCurve: Observation = { params: { x: 0.3 }, state: 'stopped', value: null, best: 1, latest: 1 };
  const mixed = [...none, noCurve];
  assert.equal(imputer.impute(mixed).observations, mixed, 'a stopped run without a curve is left to metric.impute');
});

test('the strategy hook: with multiFidelity a promising stopped run pulls the next proposal towards it', () => {
  // Finished runs are all far from 0.3; the only evidence of the optimum is a run stopped at epoch 3.
  const obs = [...[0.7, 0.8, 0.9, 0.95, 0.6].map((x) => run(x, 'finished', EPOCHS)), run(0.3, 'stopped', 3), run(0.05, 'stopped', 3)];
  const propose = (multiFidelity: boolean): number => {
    const s = new BayesStrategy(space, metric('minimize'), { seed: 3, multiFidelity, initialDesign: 5, trustRegion: false });
    const [p] = s.propose({ observations: obs, pending: [], count: 1 });
    assert.equal(p?.info?.source, 'gp');
    return p.params.x as number;
  };
  const withCurves = propose(true);
  const without = propose(false);
  assert.ok(Math.abs(withCurves - 0.3) < Math.abs(without - 0.3), `with curves ${withCurves}, without ${without}`);
  assert.ok(Math.abs(withCurves - 0.3) < 0.15, `with curves the proposal ${withCurves} should be near 0.3`);
});

/** What the controller reads from storage: the running best at 1, 3, 9, … and the last position. */
function summaryOf(c: readonly number[], sign = 1): CurveSummary {
  const at = curvePositions(c.length);
  const best = at.map((t) => (sign > 0 ? Math.min(...c.slice(0, t)) : Math.max(...c.slice(0, t))));
  return { length: c.length, at, best };
}

test('a CurveSummary at the model\'s positions imputes exactly what the whole curve does', () => {
  assert.deepEqual(curvePositions(27), [1, 3, 9, 27]);
  assert.deepEqual(curvePositions(28), [1, 3, 9, 27, 28]);
  assert.deepEqual(curvePositions(1), [1]);
  // A noisy, non-monotone curve, so the running best differs from the raw values.
  const wiggle = (x: number, steps: number): number[] => curve(x, steps).map((v, i) => v * (1 + 0.03 * Math.sin(7 * i + 10 * x)));
  const runs: Array<[number, 'finished' | 'stopped', number]> = [[0.05, 'finished', EPOCHS], [0.5, 'finished', EPOCHS], [0.7, 'finished', EPOCHS], [0.95, 'finished', EPOCHS], [0.3, 'stopped', 3], [0.85, 'stopped', 5], [0.6, 'stopped', 10]];
  const dense: Observation[] = runs.map(([x, state, n]) => ({ params: { x }, state, value: Math.min(...wiggle(x, n)), curve: wiggle(x, n) }));
  const sparse: Observation[] = dense.map((o) => ({ ...o, curve: summaryOf(o.curve as number[]) }));
  const a = new CurveImputer(space, metric('minimize'), { preset: 'optuna' }).impute(dense);
  const b = new CurveImputer(space, metric('minimize'), { preset: 'optuna' }).impute(sparse);
  assert.equal(a.imputed, 3);
  assert.equal(b.imputed, 3);
  assert.deepEqual(b.observations.map((o) => o.value), a.observations.map((o) => o.value));
  assert.deepEqual(b.info, a.info);
  // A malformed summary (positions not ascending) is read for what is usable, never thrown on.
  const bad: Observation = { params: { x: 0.4 }, state: 'stopped', value: 1, curve: { length: 3, at: [3, 1], best: [1, 2] } };
  assert.doesNotThrow(() => new CurveImputer(space, metric('minimize'), { preset: 'optuna' }).impute([...sparse, bad]));
});

function mfSpec(bayes: Record<string, unknown>): ReturnType<typeof parseSweepConfig> {
  return parseSweepConfig({
    method: 'bayes',
    metric: { name: 'loss', goal: 'minimize' },
    program: 'train.py',
    parameters: { x: { distribution: 'uniform', min: 0, max: 1 } },
    early_terminate: { type: 'hyperband', min_iter: 3 },
    harrow: { bayes },
  });
}

test('harrow.bayes.multi_fidelity: parsed, validated strictly, and reaches the strategy', () => {
  assert.deepEqual(mfSpec({ multi_fidelity: true }).harrow.bayes, { multiFidelity: true });
  assert.deepEqual(mfSpec({ multi_fidelity: false }).harrow.bayes, { multiFidelity: false });
  const refused = (bayes: Record<string, unknown>): SweepConfigError => {
    try {
      mfSpec(bayes);
    } catch (err) {
      assert.ok(err instanceof SweepConfigError);
      return err;
    }
    assert.fail('expected the file to be refused');
  };
  const notBool = refused({ multi_fidelity: 'yes' });
  assert.deepEqual(notBool.issues.map((i) => i.path), ['harrow.bayes.multi_fidelity']);
  assert.match(notBool.issues[0]!.message, /must be true or false \(got/);
  const typo = refused({ multi_fidelty: true });
  assert.match(typo.message, /multi_fidelity/, 'a misspelt key is refused with the right name suggested');

  // With the key, stopped runs' curves score them, and each proposal records it; without it, nothing.
  const obs = [...finishedXs.map((x) => run(x, 'finished', EPOCHS)), run(0.3, 'stopped', 3), run(0.85, 'stopped', 3)];
  const [on] = createBayesStrategy(mfSpec({ multi_fidelity: true, initial_design: 3 }), { seed: 1 }).propose({ observations: obs, pending: [], count: 1 });
  assert.equal(on?.info?.source, 'gp');
  assert.equal((on.info.multiFidelity as { imputed: number }).imputed, 2);
  const [off] = createBayesStrategy(mfSpec({ initial_design: 3 }), { seed: 1 }).propose({ observations: obs, pending: [], count: 1 });
  assert.equal(off?.info?.multiFidelity, undefined);
});

test('predictRunning: running runs\' finals from their partial curves, with an optimistic bound; none before the model exists', () => {
  const imputer = new CurveImputer(space, metric('minimize'), { preset: 'optuna' });
  const finished = finishedXs.map((x) => run(x, 'finished', EPOCHS));
  assert.deepEqual(imputer.predictRunning(finished.slice(0, 2), [{ params: { x: 0.3 }, curve: curve(0.3, 3) }], 1), [null], 'two finished runs: no model');
  const [good, bad] = imputer.predictRunning(finished, [{ params: { x: 0.3 }, curve: curve(0.3, 3) }, { params: { x: 0.9 }, curve: curve(0.9, 5) }], 1.645);
  assert.ok(good && bad);
  assert.ok(good.mean < bad.mean, `${good.mean} should predict better than ${bad.mean}`);
  for (const [p, x, t] of [[good, 0.3, 3], [bad, 0.9, 5]] as const) {
    assert.ok(p.optimistic <= p.mean, 'the optimistic bound of a loss is lower');
    assert.ok(p.mean <= Math.min(...curve(x, t)) + 1e-12, 'never worse than what the run logged');
    assert.ok(Math.abs(p.mean - final(x)) < 0.1, `predicted ${p.mean}, true final ${final(x)}`);
  }
});
