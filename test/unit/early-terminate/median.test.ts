import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { MedianSpec } from '../../../strategies/types.js';
import { decideStops, type RunCurve } from '../../../strategies/early-terminate/index.js';

function median(over: Partial<MedianSpec> = {}): MedianSpec {
  return { type: 'median', minSteps: 2, minRuns: 2, ...over };
}

/**
 * Running averages (mean of the first t values) of every run at each step:
 *   m1 [4, 2, 1, 1]  t2 (4+2)/2 = 3, t3 7/3
 *   m2 [6, 4, 2]     t2 5,           t3 12/3 = 4
 *   m3 [8, 6]        t2 7
 *   x  [5, 5, 4]     t2 5,           t3 14/3
 *   y  [3, 2.5]      t2 2.75
 *   z  [9]           (step 1 only)
 *   w  [7, 6.5]      t2 6.75
 *
 *   x at step 3, best 4: others at step 3 are m1 7/3 and m2 4 (2 ≥ minRuns 2)
 *      → median (7/3 + 4)/2 = 3.1667; 4 > 3.1667 STOP
 *   y at step 2, best 2.5: others m1 3, m2 5, m3 7, x 5, w 6.75 → sorted [3, 5, 5, 6.75, 7] → 5; continue
 *   z at step 1 < minSteps 2: not judged (though worst)
 *   w at step 2, best 6.5: others m1 3, m2 5, m3 7, x 5, y 2.75 → sorted [2.75, 3, 5, 5, 7] → 5; 6.5 > 5 STOP
 */
const curves: RunCurve[] = [
  { runId: 'm1', state: 'finished', values: [4, 2, 1, 1] },
  { runId: 'm2', state: 'finished', values: [6, 4, 2] },
  { runId: 'm3', state: 'failed', values: [8, 6] },
  { runId: 'x', state: 'running', values: [5, 5, 4] },
  { runId: 'y', state: 'running', values: [3, 2.5] },
  { runId: 'z', state: 'running', values: [9] },
  { runId: 'w', state: 'running', values: [7, 6.5] },
];

void test('median rule: best so far against the median of the other runs\' running averages', () => {
  const m = (7 / 3 + 4) / 2;
  assert.deepEqual(decideStops(median(), 'minimize', curves), [
    { runId: 'x', rule: 'median', at: 3, threshold: m, value: 4, message: `Run: x Step: 3 (Best: 4 Median: ${m} of 2 other runs' running averages) STOP` },
    { runId: 'w', rule: 'median', at: 2, threshold: 5, value: 6.5, message: "Run: w Step: 2 (Best: 6.5 Median: 5 of 5 other runs' running averages) STOP" },
  ]);
});

void test('median rule: minRuns other runs must have reached the step', () => {
  // minRuns 3: x has only 2 others at step 3; w has 5 at step 2.
  assert.deepEqual(decideStops(median({ minRuns: 3 }), 'minimize', curves).map((d) => d.runId), ['w']);
  // minRuns 6: w and y have 5 others at step 2 → nobody judged.
  assert.deepEqual(decideStops(median({ minRuns: 6 }), 'minimize', curves), []);
});

void test('median rule: minSteps', () => {
  // minSteps 3: only x (count 3) is judged.
  assert.deepEqual(decideStops(median({ minSteps: 3 }), 'minimize', curves).map((d) => d.runId), ['x']);
  // minSteps 1, minRuns 1: z at step 1 (value 9) against others' first values 4, 6, 8, 5, 3, 7 →
  // sorted [3, 4, 5, 6, 7, 8] → (5 + 6)/2 = 5.5; 9 > 5.5 STOP.
  assert.deepEqual(
    decideStops(median({ minSteps: 1, minRuns: 1 }), 'minimize', curves).map((d) => [d.runId, d.at, d.threshold]),
    [['x', 3, (7 / 3 + 4) / 2], ['z', 1, 5.5], ['w', 2, 5]],
  );
});

void test('median rule: running averages, not last values; best so far, not the current value', () => {
  // Step-2 averages: o1 (10+0)/2 = 5, o2 (10+2)/2 = 6, o3 (10+4)/2 = 7, k 3.45, l 6.75.
  //   k best 3.4: others [5, 6, 6.75, 7] → (6 + 6.75)/2 = 6.375 → continue.
  //     (Against last values 0, 2, 4, 6.5 the median would be 3 and k would stop.)
  //   l best 6.5: others [3.45, 5, 6, 7] → (5 + 6)/2 = 5.5 → STOP.
  //   q best 2 (current value 9): others [3.45, 5, 6, 6.75, 7] → 6 → continue; its current 9
  //     would have been stopped.
  const c: RunCurve[] = [
    { runId: 'o1', state: 'finished', values: [10, 0] },
    { runId: 'o2', state: 'finished', values: [10, 2] },
    { runId: 'o3', state: 'finished', values: [10, 4] },
    { runId: 'k', state: 'running', values: [3.5, 3.4] },
    { runId: 'l', state: 'running', values: [7, 6.5] },
  ];
  assert.deepEqual(decideStops(median({ minRuns: 1 }), 'minimize', c).map((d) => [d.runId, d.threshold, d.value]), [['l', 5.5, 6.5]]);
  const withQ = [...c, { runId: 'q', state: 'running' as const, values: [2, 9] }];
  // Adding q (average 5.5) shifts l's median to [3.45, 5, 5.5, 6, 7] → 5.5: l still stops.
  assert.deepEqual(decideStops(median({ minRuns: 1 }), 'minimize', withQ).map((d) => [d.runId, d.threshold]), [['l', 5.5]]);
});

void test('median rule: maximize', () => {
  // Normalized = −accuracy. Step-2 averages: p1 −(0.8+0.9)/2 = −0.85…, p2 −0.65, p3 −0.525, p4 −0.8.
  //   p3 best −0.55: others sorted [−0.85, −0.8, −0.65] → −0.8; −0.55 > −0.8 STOP (0.55 below 0.8)
  //   p4 best −0.9:  others sorted [−0.85, −0.65, −0.525] → −0.65; continue
  const acc: RunCurve[] = [
    { runId: 'p1', state: 'finished', values: [0.8, 0.9] },
    { runId: 'p2', state: 'finished', values: [0.6, 0.7] },
    { runId: 'p3', state: 'running', values: [0.5, 0.55] },
    { runId: 'p4', state: 'running', values: [0.7, 0.9] },
  ];
  assert.deepEqual(
    decideStops(median({ minSteps: 1 }), 'maximize', acc).map((d) => [d.runId, d.at, d.value, d.threshold]),
    [['p3', 2, 0.55, (0.7 + 0.9) / 2]],
  );
});

void test('median rule: non-finite values are not steps', () => {
  // n's finite history [6, 7] (count 2): others at step 2: a 3, b 4 → median 3.5; best 6 > 3.5 STOP at step 2.
  const c: RunCurve[] = [
    { runId: 'a', state: 'finished', values: [4, 2] },
    { runId: 'b', state: 'finished', values: [5, 3] },
    { runId: 'n', state: 'running', values: [Number.NaN, 6, Number.POSITIVE_INFINITY, 7] },
  ];
  assert.deepEqual(decideStops(median(), 'minimize', c).map((d) => [d.runId, d.at, d.threshold, d.value]), [['n', 2, 3.5, 6]]);
});
