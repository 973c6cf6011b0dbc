import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTrainingSet } from '../../../strategies/bayes/training-set.js';
import type { MetricSpec, Observation } from '../../../strategies/types.js';
import { handSpace } from './spaces.js';

const space = handSpace({ floats: [{ name: 'x', lo: 0, hi: 1 }] });
const metric = (goal: MetricSpec['goal'], impute: MetricSpec['impute']): MetricSpec => ({
  name: 'loss',
  goal,
  impute,
  imputeWhileRunning: false,
});

const history: Observation[] = [
  { params: { x: 0.1 }, state: 'finished', value: 3 },
  { params: { x: 0.2 }, state: 'finished', value: 1, best: 1, latest: 9 },
  { params: { x: 0.3 }, state: 'failed', value: null, best: 2, latest: 5 },
  { params: { x: 0.4 }, state: 'crashed', value: null, best: null, latest: null },
  { params: { x: 0.5 }, state: 'stopped', value: null, best: 0.5, latest: 4 },
  { params: { x: 0.6 }, state: 'canceled', value: null },
];

test('minimize + impute worst: failed/crashed/stopped get the worst value seen (latest 9 counts)', () => {
  const t = buildTrainingSet(space, metric('minimize', 'worst'), history);
  // Oriented larger-is-better: minimize negates. Worst seen over value/best/latest is 9.
  assert.deepEqual([...t.y], [-3, -1, -9, -9, -9]);
  assert.equal(t.completed, 2);
  assert.equal(t.imputed, 3);
  assert.equal(t.known.length, 6, 'canceled runs are still known points');
  assert.deepEqual(t.warnings, []);
});

test('impute best / latest use the run’s own value and fall back to worst with a warning', () => {
  const best = buildTrainingSet(space, metric('minimize', 'best'), history);
  assert.deepEqual([...best.y], [-3, -1, -2, -9, -0.5]);
  assert.equal(best.warnings.length, 1);
  assert.match(best.warnings[0]!, /1 run\(s\) had no best value.*worst value seen instead/);
  const latest = buildTrainingSet(space, metric('maximize', 'latest'), history);
  // Maximize keeps the sign; worst is then the smallest value seen (0.5).
  assert.deepEqual([...latest.y], [3, 1, 5, 0.5, 4]);
  assert.match(latest.warnings[0]!, /no latest value/);
});

test('runs that do not fit the space and failures before any value are reported, not silently used', () => {
  const t = buildTrainingSet(space, metric('minimize', 'worst'), [
    { params: { x: 7 }, state: 'finished', value: 1 },
    { params: { x: 0.5 }, state: 'failed', value: null },
  ]);
  // The out-of-space run is left out of the model, but its value still counts as "seen".
  assert.deepEqual([...t.y], [-1]);
  assert.equal(t.completed, 0);
  assert.equal(t.warnings.length, 1);
  assert.match(t.warnings[0]!, /1 run\(s\) whose params do not fit the search space.*outside/);
  const none = buildTrainingSet(space, metric('minimize', 'worst'), [{ params: { x: 0.5 }, state: 'crashed', value: null }]);
  assert.equal(none.n, 0);
  assert.match(none.warnings[0]!, /no value of loss has been seen yet/);
});

test('a finished run with a non-finite value is imputed and reported', () => {
  const t = buildTrainingSet(space, metric('minimize', 'worst'), [
    { params: { x: 0.1 }, state: 'finished', value: 2 },
    { params: { x: 0.2 }, state: 'finished', value: Number.NaN },
  ]);
  assert.deepEqual([...t.y], [-2, -2]);
  assert.equal(t.completed, 1);
  assert.match(t.warnings[0]!, /non-finite loss/);
});
