import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseSweepConfig, recommend } from '../../../strategies/index.js';
import type { Observation } from '../../../strategies/types.js';
import { fixtureStream } from './fd.js';

const spec = parseSweepConfig({ method: 'bayes', metric: { name: 'loss', goal: 'minimize' }, parameters: { x: { distribution: 'uniform', min: 0, max: 1 } }, program: 'train.py' });

test('a lone lucky value in a bad region is reported as best observed but not recommended', () => {
  const r = fixtureStream(7);
  const obs: Observation[] = [];
  // f(x) = (x − 0.3)², observed with noise of sd 0.02; one run far from the optimum drew a value far below.
  for (let i = 0; i < 40; i++) {
    const x = i / 39;
    const noise = 0.02 * (r() + r() + r() - 1.5) * 2;
    obs.push({ params: { x }, state: 'finished', value: (x - 0.3) ** 2 + noise });
  }
  obs.push({ params: { x: 0.9 }, state: 'finished', value: -0.2 });
  const rec = recommend(spec, obs);
  assert.equal(rec.bestObserved!.index, 40);
  assert.equal(rec.source, 'posterior-mean');
  const x = rec.recommended!.params.x as number;
  assert.ok(Math.abs(x - 0.3) < 0.1, `recommended x = ${x}`);
  assert.ok(rec.recommended!.predicted !== null && Math.abs(rec.recommended!.predicted) < 0.05);
});

test('with fewer than five finished runs the best observed run is the recommendation; failures are never recommended', () => {
  const obs: Observation[] = [
    { params: { x: 0.1 }, state: 'finished', value: 2 },
    { params: { x: 0.2 }, state: 'failed', value: null },
    { params: { x: 0.3 }, state: 'finished', value: 1 },
  ];
  const rec = recommend(spec, obs);
  assert.equal(rec.source, 'best-observed');
  assert.equal(rec.recommended!.index, 2);
  assert.equal(rec.bestObserved!.index, 2);
  assert.equal(recommend(spec, []).recommended, null);
});

test('maximize: the recommendation is the best posterior mean upward', () => {
  const up = parseSweepConfig({ method: 'bayes', metric: { name: 'acc', goal: 'maximize' }, parameters: { x: { distribution: 'uniform', min: 0, max: 1 } }, program: 'train.py' });
  const obs: Observation[] = Array.from({ length: 12 }, (_, i) => ({ params: { x: i / 11 }, state: 'finished' as const, value: 1 - (i / 11 - 0.6) ** 2 }));
  const rec = recommend(up, obs);
  assert.equal(rec.source, 'posterior-mean');
  assert.equal(rec.recommended!.index, rec.bestObserved!.index, 'noise-free: the two coincide');
});
