import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { AshaSpec } from '../../../strategies/types.js';
import { decideStops, EarlyTerminator, type RunCurve } from '../../../strategies/early-terminate/index.js';

function asha(over: Partial<AshaSpec> = {}): AshaSpec {
  return { type: 'asha', gracePeriod: 1, eta: 3, maxIter: 9, minRunsPerRung: 3, ...over };
}

/**
 * Rungs 1, 3, 9 (grace 1, eta 3, maxIter 9). Values recorded at a rung = the value at that iteration.
 *
 * Rung 1: a 5, b 6, c 4, d 7, e 8 → sorted [4, 5, 6, 7, 8], n 5, keep max(1, ⌊5/3⌋) = 1 → cut-off 4
 * Rung 3: a 3, b 4.5, e 7.8      → sorted [3, 4.5, 7.8],   n 3, keep max(1, ⌊3/3⌋) = 1 → cut-off 3
 * Rung 9: a only.
 *
 *   b count 4 → rung 3: 4.5 > 3 STOP
 *   c count 2 → rung 1: 4 ≤ 4 continue (it is the top 1)
 *   d count 1 → rung 1: 7 > 4 STOP
 */
const curves: RunCurve[] = [
  { runId: 'a', state: 'finished', values: [5, 4, 3, 2.5, 2, 1.9, 1.8, 1.7, 1.6] },
  { runId: 'b', state: 'running', values: [6, 5, 4.5, 4.4] },
  { runId: 'c', state: 'running', values: [4, 3.5] },
  { runId: 'd', state: 'running', values: [7] },
  { runId: 'e', state: 'stopped', values: [8, 7.9, 7.8] },
];

void test('ASHA: continue only within the top ⌊n/eta⌋ of the values recorded at the rung', () => {
  assert.deepEqual(decideStops(asha(), 'minimize', curves), [
    { runId: 'b', rule: 'asha', at: 4, rung: 3, threshold: 3, value: 4.5, message: 'Run: b Step: 4 (Rung: 3 Metric: 4.5 Threshold: 3; top 1 of 3 continue) STOP' },
    { runId: 'd', rule: 'asha', at: 1, rung: 1, threshold: 4, value: 7, message: 'Run: d Step: 1 (Rung: 1 Metric: 7 Threshold: 4; top 1 of 5 continue) STOP' },
  ]);
});

void test('ASHA: no decision while the rung holds fewer than minRunsPerRung values', () => {
  // minRunsPerRung 4: rung 3 holds 3 values → b is not judged; rung 1 holds 5 → d still stopped.
  assert.deepEqual(decideStops(asha({ minRunsPerRung: 4 }), 'minimize', curves).map((d) => d.runId), ['d']);
  // minRunsPerRung 6: no rung is full enough.
  assert.deepEqual(decideStops(asha({ minRunsPerRung: 6 }), 'minimize', curves), []);
});

void test('ASHA: the grace period moves the first rung', () => {
  // grace 3 → rungs 3, 9: c (count 2) and d (count 1) have not reached a rung; b still stops at 3.
  assert.deepEqual(decideStops(asha({ gracePeriod: 3 }), 'minimize', curves).map((d) => [d.runId, d.rung]), [['b', 3]]);
});

void test('ASHA: the top ⌊n/eta⌋ grows with the rung', () => {
  // Rung 1 with eta 2: keep ⌊5/2⌋ = 2 → cut-off sorted[1] = 5; d 7 > 5 STOP, c 4 continue.
  // Rungs 1, 2, 4, 8: b count 4 → rung 4, values a 2.5, b 4.4 → n 2 < 3, no decision.
  assert.deepEqual(
    decideStops(asha({ eta: 2 }), 'minimize', curves).map((d) => [d.runId, d.rung, d.threshold]),
    [['d', 1, 5]],
  );
});

/**
 * maximize, grace 2, eta 2, maxIter 8 → rungs 2, 4, 8; minRunsPerRung 2. Normalized = −accuracy.
 *
 * Rung 2: f −0.6, g −0.45, h −0.62, i −0.35 → sorted [−0.62, −0.6, −0.45, −0.35], n 4, keep 2 → cut-off −0.6
 * Rung 4: f −0.7, g −0.52 → sorted [−0.7, −0.52], n 2, keep 1 → cut-off −0.7
 *
 *   g count 5 → rung 4: −0.52 > −0.7 STOP (0.52 against 0.7)
 *   h count 2 → rung 2: −0.62 ≤ −0.6 continue
 *   i count 3 → rung 2: −0.35 > −0.6 STOP (0.35 against 0.6)
 */
void test('ASHA: maximize', () => {
  const acc: RunCurve[] = [
    { runId: 'f', state: 'finished', values: [0.5, 0.6, 0.65, 0.7, 0.72, 0.74, 0.75, 0.76] },
    { runId: 'g', state: 'running', values: [0.4, 0.45, 0.5, 0.52, 0.53] },
    { runId: 'h', state: 'running', values: [0.55, 0.62] },
    { runId: 'i', state: 'running', values: [0.3, 0.35, 0.4] },
  ];
  assert.deepEqual(
    decideStops(asha({ gracePeriod: 2, eta: 2, maxIter: 8, minRunsPerRung: 2 }), 'maximize', acc).map((d) => [d.runId, d.rung, d.value, d.threshold, d.message]),
    [
      ['g', 4, 0.52, 0.7, 'Run: g Step: 5 (Rung: 4 Metric: 0.52 Threshold: 0.7; top 1 of 2 continue) STOP'],
      ['i', 2, 0.35, 0.6, 'Run: i Step: 3 (Rung: 2 Metric: 0.35 Threshold: 0.6; top 2 of 4 continue) STOP'],
    ],
  );
});

void test('ASHA: a run that passed a thin rung is judged again as the rung fills', () => {
  // Rungs 1, 3, 9; minRunsPerRung 3. Worst-first arrivals at rung 1:
  const t = new EarlyTerminator(asha(), 'minimize');
  t.append('late', [9]);
  t.append('x', [5]);
  // Rung 1 holds [5, 9]: n 2 < 3, no decision yet.
  assert.deepEqual(t.decide(), []);
  t.append('y', [1]);
  // Rung 1 holds [1, 5, 9]: keep 1 → cut-off 1; 'late' (9) and 'x' (5) are strictly worse.
  assert.deepEqual(t.decide(['late', 'x', 'y']).map((d) => [d.runId, d.threshold, d.value]), [
    ['late', 1, 9],
    ['x', 1, 5],
  ]);
  // Past rung 1 and not yet at rung 3, 'x' is still judged at rung 1.
  t.append('x', [0.5]);
  assert.deepEqual(t.decide(['x']).map((d) => [d.runId, d.rung, d.at]), [['x', 1, 2]]);
});
