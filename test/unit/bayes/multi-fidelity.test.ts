import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CurveImputer } from '../../../strategies/bayes/multi-fidelity.js';
import { BayesStrategy } from '../../../strategies/bayes/bayes-strategy.js';
import type { MetricSpec, Observation } from '../../../strategies/types.js';
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
