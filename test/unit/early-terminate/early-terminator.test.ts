import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { CurveRuleSpec, Goal } from '../../../strategies/types.js';
import {
  decideStops,
  EarlyTerminator,
  hyperbandBands,
  type RunCurve,
  type RunCurveState,
} from '../../../strategies/early-terminate/index.js';
import { Rng } from '../../../strategies/space/rng.js';

/** The project's seeded generator (xoshiro128**), as a function returning uniforms in [0, 1). */
function rng(seed: number): () => number {
  const r = Rng.from(seed);
  return () => r.uniform();
}

const specs: Array<[string, CurveRuleSpec]> = [
  ['hyperband strict min_iter', { type: 'hyperband', bands: hyperbandBands({ minIter: 1, eta: 2 }), eta: 2, strict: true }],
  ['hyperband non-strict max_iter', { type: 'hyperband', bands: hyperbandBands({ maxIter: 27, s: 3, eta: 3 }), eta: 3, strict: false }],
  ['asha', { type: 'asha', gracePeriod: 1, eta: 3, maxIter: 27, minRunsPerRung: 3 }],
  ['asha eta 2, grace 2', { type: 'asha', gracePeriod: 2, eta: 2, minRunsPerRung: 1 }],
  ['median', { type: 'median', minSteps: 3, minRuns: 2 }],
  ['median from step 1', { type: 'median', minSteps: 1, minRuns: 1 }],
];

for (const [name, spec] of specs) {
  for (const goal of ['minimize', 'maximize'] as Goal[]) {
    void test(`EarlyTerminator agrees with decideStops, report by report: ${name}, ${goal}`, () => {
      const next = rng(name.length * 7919 + (goal === 'maximize' ? 1 : 0));
      const curves: RunCurve[] = [];
      const values: number[][] = [];
      const t = new EarlyTerminator(spec, goal);
      let decisions = 0;
      for (let round = 0; round < 400; round++) {
        // Start a run now and then; otherwise a random run reports a batch of 1–3 values, with
        // the occasional NaN and a quantized value so that ties happen.
        if (curves.length < 3 || next() < 0.1) {
          const runId = `run-${curves.length}`;
          curves.push({ runId, state: 'running', values: [] });
          values.push([]);
          t.setState(runId, 'running');
          continue;
        }
        const i = Math.floor(next() * curves.length);
        const curve = curves[i]!;
        if (curve.state !== 'running') continue;
        const quality = (i % 5) / 5;
        const batch = Array.from({ length: 1 + Math.floor(next() * 3) }, () =>
          next() < 0.05 ? Number.NaN : Math.round((quality + next() / (1 + values[i]!.length)) * 20) / 20,
        );
        values[i]!.push(...batch);
        let state: RunCurveState = 'running';
        if (next() < 0.04) state = next() < 0.5 ? 'finished' : 'crashed';
        curves[i] = { runId: curve.runId, state, values: [...values[i]!] };
        t.append(curve.runId, batch, state);

        const expected = decideStops(spec, goal, curves, [curve.runId]);
        assert.deepEqual(t.decide([curve.runId]), expected);
        // The controller stops what it was told to stop.
        for (const d of expected) {
          const j = curves.findIndex((c) => c.runId === d.runId);
          curves[j] = { ...curves[j]!, state: 'stopped' };
          t.setState(d.runId, 'stopped');
          decisions++;
        }
        if (round % 50 === 0) assert.deepEqual(t.decide(), decideStops(spec, goal, curves));
      }
      assert.deepEqual(t.decide(), decideStops(spec, goal, curves));
      // Rebuilt from whole curves (a controller restart), it still agrees.
      assert.deepEqual(new EarlyTerminator(spec, goal, curves).decide(), decideStops(spec, goal, curves));
      // The scenario must exercise the rule, or agreement proves nothing.
      assert.ok(decisions > 3, `only ${decisions} stops in the scenario`);
    });
  }
}

void test('EarlyTerminator.upsert absorbs only new values and rejects a shrinking curve', () => {
  const spec: CurveRuleSpec = { type: 'hyperband', bands: [1, 2], eta: 2, strict: true };
  const t = new EarlyTerminator(spec, 'minimize');
  t.upsert({ runId: 'a', state: 'finished', values: [1, 1] });
  t.upsert({ runId: 'b', state: 'running', values: [5] });
  t.upsert({ runId: 'b', state: 'running', values: [5, Number.NaN, 6] });
  assert.equal(t.count('b'), 2);
  // b's finite values are [5, 6]. Band 2: sorted [1, 6], index int(0.5 · 2) = 1 → 6, b's own
  // value: it continues.
  assert.deepEqual(t.decide(), []);
  t.upsert({ runId: 'c', state: 'finished', values: [2, 2] });
  // Band 2 now sorted [1, 2, 6], index int(1.5) = 1 → 2; b's 6 > 2.
  assert.deepEqual(t.decide().map((d) => [d.runId, d.band, d.threshold, d.value]), [['b', 2, 2, 6]]);
  assert.throws(() => t.upsert({ runId: 'b', state: 'running', values: [5] }), /append-only/);
});
