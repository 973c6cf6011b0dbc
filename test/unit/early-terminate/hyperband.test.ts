import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { HyperbandSpec } from '../../../strategies/types.js';
import { decideStops, hyperbandBands, type RunCurve } from '../../../strategies/early-terminate/index.js';

function spec(over: Partial<HyperbandSpec> & { bands: number[] }): HyperbandSpec {
  return { type: 'hyperband', eta: 3, strict: true, ...over };
}

/**
 * min_iter 2, eta 2 → bands 2, 4, 8, …; r = 1/2.
 *
 * Band 2 values (2nd finite value of every run that has one, any state):
 *   A 8, G 9, B 9, C 7.5, D 11, E 8.5, I 10, J 30
 *   sorted [7.5, 8, 8.5, 9, 9, 10, 11, 30], len 8, index int(0.5 · 8) = 4 → threshold 9
 * Band 4 values: A 5, G 6, B 7.2 → sorted [5, 6, 7.2], index int(0.5 · 3) = 1 → threshold 6
 *
 * Running runs, judged at the largest band ≤ their count:
 *   B  count 4 → band 4: strict 7.2 > 6 STOP;  non-strict best 5.5 ≤ 6 continue
 *   C  count 2 (NaN skipped) → band 2: 7.5 ≤ 9 continue (both)
 *   D  count 3 (Infinity skipped) → band 2: strict 11 > 9 STOP; non-strict best 8 ≤ 9 continue
 *   H  count 1 → no band yet, never judged
 *   I  count 3 → band 2: strict 10 > 9 STOP;  non-strict best 9.5 > 9 STOP
 * A, G finished; E crashed; J stopped (would be stopped if running: 30 > 9); F queued, no values.
 */
const minIterCurves: RunCurve[] = [
  { runId: 'A', state: 'finished', values: [10, 8, 6, 5, 4] },
  { runId: 'G', state: 'finished', values: [11, 9, 7, 6] },
  { runId: 'B', state: 'running', values: [10, 9, 5.5, 7.2] },
  { runId: 'C', state: 'running', values: [10, Number.NaN, 7.5] },
  { runId: 'D', state: 'running', values: [12, Infinity, 11, 8] },
  { runId: 'E', state: 'crashed', values: [9, 8.5] },
  { runId: 'F', state: 'queued', values: [] },
  { runId: 'H', state: 'running', values: [20] },
  { runId: 'I', state: 'running', values: [13, 10, 9.5] },
  { runId: 'J', state: 'stopped', values: [30, 30] },
];
const minIterBands = hyperbandBands({ minIter: 2, eta: 2 });

void test('hyperband, min_iter mode, strict: the value at the band against sorted[int(len/eta)]', () => {
  const got = decideStops(spec({ bands: minIterBands, eta: 2, strict: true, minIter: 2 }), 'minimize', minIterCurves);
  assert.deepEqual(got, [
    { runId: 'B', rule: 'hyperband', at: 4, band: 4, threshold: 6, value: 7.2, message: 'Run: B Step: 4 (Band: 4 Metric: 7.2 Threshold: 6) STOP' },
    { runId: 'D', rule: 'hyperband', at: 3, band: 2, threshold: 9, value: 11, message: 'Run: D Step: 3 (Band: 2 Metric: 11 Threshold: 9) STOP' },
    { runId: 'I', rule: 'hyperband', at: 3, band: 2, threshold: 9, value: 10, message: 'Run: I Step: 3 (Band: 2 Metric: 10 Threshold: 9) STOP' },
  ]);
});

void test('hyperband, non-strict: the best value so far, so fewer stops', () => {
  const got = decideStops(spec({ bands: minIterBands, eta: 2, strict: false }), 'minimize', minIterCurves);
  assert.deepEqual(
    got.map((d) => [d.runId, d.band, d.value, d.threshold]),
    [['I', 2, 9.5, 9]],
  );
});

void test('hyperband: only running runs are stopped, and candidates restrict who is judged', () => {
  const s = spec({ bands: minIterBands, eta: 2 });
  // J (stopped) is not in the list above; running, its 30 > 9 would stop it.
  const asRunning = minIterCurves.map((c) => (c.runId === 'J' ? { ...c, state: 'running' as const } : c));
  assert.deepEqual(
    decideStops(s, 'minimize', asRunning).map((d) => d.runId),
    ['B', 'D', 'I', 'J'],
  );
  // Unknown ids and non-running ids among the candidates are ignored.
  assert.deepEqual(
    decideStops(s, 'minimize', minIterCurves, ['D', 'J', 'nope', 'C']).map((d) => d.runId),
    ['D'],
  );
  assert.deepEqual(decideStops(s, 'minimize', minIterCurves, []), []);
});

/**
 * max_iter 9, s 2, eta 3 → 9/3 = 3, 3/3 = 1 → bands [1, 3]; r = 1/3; maximize → values negated.
 *
 * Band 1: P −0.5, Q −0.4, R −0.3, S −0.6, T −0.2 → sorted [−0.6, −0.5, −0.4, −0.3, −0.2],
 *   index int(5/3 = 1.67) = 1 → threshold −0.5 (accuracy 0.5)
 * Band 3: P −0.7, Q −0.55, S −0.72, T −0.35 → sorted [−0.72, −0.7, −0.55, −0.35],
 *   index int(4/3 = 1.33) = 1 → threshold −0.7 (accuracy 0.7)
 *
 *   Q count 3 → band 3: −0.55 > −0.7 STOP (accuracy 0.55 below 0.7)
 *   R count 1 → band 1: −0.3 > −0.5 STOP
 *   S count 4 → band 3: −0.72 ≤ −0.7 continue
 */
void test('hyperband, max_iter + s mode, maximize: thresholds reported in the metric\'s own sign', () => {
  const bands = hyperbandBands({ maxIter: 9, s: 2, eta: 3 });
  assert.deepEqual(bands, [1, 3]);
  const curves: RunCurve[] = [
    { runId: 'P', state: 'finished', values: [0.5, 0.6, 0.7, 0.8] },
    { runId: 'Q', state: 'running', values: [0.4, 0.5, 0.55] },
    { runId: 'R', state: 'running', values: [0.3] },
    { runId: 'S', state: 'running', values: [0.6, 0.65, 0.72, 0.74] },
    { runId: 'T', state: 'failed', values: [0.2, 0.3, 0.35] },
  ];
  assert.deepEqual(decideStops(spec({ bands, eta: 3, maxIter: 9, s: 2 }), 'maximize', curves), [
    { runId: 'Q', rule: 'hyperband', at: 3, band: 3, threshold: 0.7, value: 0.55, message: 'Run: Q Step: 3 (Band: 3 Metric: 0.55 Threshold: 0.7) STOP' },
    { runId: 'R', rule: 'hyperband', at: 1, band: 1, threshold: 0.5, value: 0.3, message: 'Run: R Step: 1 (Band: 1 Metric: 0.3 Threshold: 0.5) STOP' },
  ]);
  // The same curves minimized: band 1 sorted [0.2, 0.3, 0.4, 0.5, 0.6] → 0.3; band 3 sorted
  // [0.35, 0.55, 0.7, 0.72] → 0.55. R 0.3 ≤ 0.3 and Q 0.55 ≤ 0.55 continue; S 0.72 > 0.55 STOP.
  assert.deepEqual(
    decideStops(spec({ bands, eta: 3 }), 'minimize', curves).map((d) => [d.runId, d.threshold, d.value]),
    [['S', 0.55, 0.72]],
  );
});

void test('hyperband: the first run to reach a band is never stopped there', () => {
  // Alone at band 1: sorted [100], index int(1/3) = 0 → its own value.
  assert.deepEqual(decideStops(spec({ bands: [1, 3] }), 'minimize', [{ runId: 'x', state: 'running', values: [100] }]), []);
  // X is the worst at band 1 (5 against 1 and 2) but only band 3 applies to it now (largest band
  // ≤ 3), where it is alone: threshold = its own 5.
  const curves: RunCurve[] = [
    { runId: 'u', state: 'finished', values: [1] },
    { runId: 'v', state: 'finished', values: [2] },
    { runId: 'X', state: 'running', values: [5, 5, 5] },
  ];
  assert.deepEqual(decideStops(spec({ bands: [1, 3] }), 'minimize', curves), []);
  // Two values in at band 1 it would have been: sorted [1, 2, 5], index int(3/3 = 1) = 1 → 2; 5 > 2.
  const early = curves.map((c) => (c.runId === 'X' ? { ...c, values: [5] } : c));
  assert.deepEqual(decideStops(spec({ bands: [1, 3] }), 'minimize', early).map((d) => [d.runId, d.threshold]), [['X', 2]]);
});

void test('hyperband: non-finite values are skipped, neither counted as iterations nor compared', () => {
  // U's finite history is [1.5, 4] (count 2); V's is [1, 2]. Bands min_iter 2, eta 3 → [2, 6, …].
  // Band 2: sorted [2, 4], index int(2/3) = 0 → threshold 2; U: 4 > 2 STOP at step 2.
  // Counting the NaN, band 2 would be raw[1] = 1.5 ≤ 2 and U would continue at step 5.
  const curves: RunCurve[] = [
    { runId: 'U', state: 'running', values: [Number.NaN, 1.5, Infinity, 4, -Infinity] },
    { runId: 'V', state: 'finished', values: [1, 2] },
    { runId: 'W', state: 'running', values: [Number.NaN, Number.NaN, Number.NaN] },
  ];
  assert.deepEqual(
    decideStops(spec({ bands: hyperbandBands({ minIter: 2, eta: 3 }) }), 'minimize', curves).map((d) => [d.runId, d.at, d.band, d.value, d.threshold]),
    [['U', 2, 2, 4, 2]],
  );
});

void test('hyperband: the threshold index is int((1/eta) · len) as W&B computes it, not ⌊len/eta⌋', () => {
  // eta 49, band 1, 49 values 1..49. (1/49) · 49 = 0.9999999999999999 → index 0 → threshold 1,
  // so the running run with value 2 is stopped; ⌊49/49⌋ = 1 would give threshold 2 and keep it.
  const curves: RunCurve[] = Array.from({ length: 49 }, (_, i) => ({
    runId: `r${i + 1}`,
    state: i === 1 ? ('running' as const) : ('finished' as const),
    values: [i + 1],
  }));
  assert.deepEqual(
    decideStops(spec({ bands: [1], eta: 49 }), 'minimize', curves).map((d) => [d.runId, d.value, d.threshold]),
    [['r2', 2, 1]],
  );
});

void test('hyperband: ties with the threshold continue (stop only when strictly worse)', () => {
  // Band 1 sorted [3, 3, 3], index 1 → 3; nobody is strictly worse.
  const curves: RunCurve[] = ['a', 'b', 'c'].map((runId) => ({ runId, state: 'running' as const, values: [3] }));
  assert.deepEqual(decideStops(spec({ bands: [1] }), 'minimize', curves), []);
});

void test('hyperband: no bands means no decisions', () => {
  assert.deepEqual(decideStops(spec({ bands: [] }), 'minimize', minIterCurves), []);
});
