import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ModelStopRule, type RunningCurve } from '../../../strategies/early-terminate/index.js';
import { encodeSpace } from '../../../strategies/index.js';
import type { Goal, ModelStopSpec, Observation, SweepSpec } from '../../../strategies/types.js';

const EPOCHS = 27;
/** Final loss of configuration x (best at x = 0.3), and the curve approaching it: f(x) + 0.5·e^(−t/5). */
const final = (x: number): number => 0.1 + (x - 0.3) ** 2;
const lossAt = (x: number, t: number): number => final(x) + 0.5 * Math.exp(-t / 5);
const curve = (x: number, n: number): number[] => Array.from({ length: n }, (_, i) => lossAt(x, i + 1));

const SPEC: ModelStopSpec = { type: 'model', z: 1.645, at: [3, 5, 8, 12, 18] };

function sweep(goal: Goal, et: ModelStopSpec = SPEC): SweepSpec {
  return {
    method: 'bayes',
    parameters: { x: { distribution: 'uniform', min: 0, max: 1 } },
    command: [],
    metric: { name: 'loss', goal, impute: 'worst', imputeWhileRunning: false },
    earlyTerminate: et,
    harrow: { retry: { maxAttempts: 1, on: [] }, pauseOnFailures: { first: null, consecutive: null }, failOn: [], bayes: { multiFidelity: true } },
    warnings: [],
  };
}

/** Ten finished runs on a grid of x, with their whole curves (the metric in its own sign). */
function finishedRuns(sign: 1 | -1): Observation[] {
  return Array.from({ length: 10 }, (_, i) => {
    const x = 0.05 + 0.1 * i;
    const values = curve(x, EPOCHS).map((v) => sign * v);
    const best = sign === 1 ? Math.min(...values) : Math.max(...values);
    return { params: { x }, state: 'finished', value: best, best, latest: values.at(-1)!, curve: values };
  });
}

function running(sign: 1 | -1, n: number): RunningCurve[] {
  return [
    { runId: 'bad', params: { x: 0.95 }, values: curve(0.95, n).map((v) => sign * v) },
    { runId: 'good', params: { x: 0.3 }, values: curve(0.3, n).map((v) => sign * v) },
  ];
}

describe('ModelStopRule', () => {
  it('is due at the first checkpoint a run crosses, the largest when a report crosses several', () => {
    const rule = ModelStopRule.forSweep(sweep('minimize'));
    assert.equal(rule.checkpointIn(0, 2), undefined);
    assert.equal(rule.checkpointIn(2, 3), 3);
    assert.equal(rule.checkpointIn(3, 4), undefined);
    assert.equal(rule.checkpointIn(2, 9), 8);
    assert.equal(rule.checkpointIn(18, 27), undefined);
  });

  it('stops a run heading for a bad end and keeps one heading for the best, with the numbers in its reason', () => {
    const rule = ModelStopRule.forSweep(sweep('minimize'));
    const decisions = rule.judge(finishedRuns(1), running(1, 5));
    assert.deepEqual(decisions.map((d) => d.runId), ['bad']);
    const d = decisions[0]!;
    // Best finished run: x = 0.25 or 0.35, final 0.1025 plus what is left of the curve's decay at 27.
    const best = 0.1025 + 0.5 * Math.exp(-27 / 5);
    assert.equal(d.rule, 'model');
    assert.equal(d.at, 5);
    assert.ok(Math.abs(d.threshold - best) < 1e-12, `threshold ${d.threshold}`);
    // The true final of x = 0.95 is 0.5248; the model, from 10 whole curves, gets close.
    assert.ok(Math.abs(d.value - (final(0.95) + 0.5 * Math.exp(-27 / 5))) < 0.1, `predicted ${d.value}`);
    assert.ok(d.optimistic! <= d.value && d.optimistic! > d.threshold, `optimistic ${d.optimistic}`);
    assert.match(d.message, /^model after 5 values: predicted final 0\.\d+ \(optimistic 0\.\d+, z 1\.645\) vs best finished 0\.1047\d*: STOP$/);
  });

  it('gives the same decisions for maximize with the values negated', () => {
    const min = ModelStopRule.forSweep(sweep('minimize')).judge(finishedRuns(1), running(1, 5));
    const max = ModelStopRule.forSweep(sweep('maximize')).judge(finishedRuns(-1), running(-1, 5));
    assert.deepEqual(max.map((d) => d.runId), min.map((d) => d.runId));
    assert.ok(Math.abs(max[0]!.threshold + min[0]!.threshold) < 1e-12);
    assert.ok(Math.abs(max[0]!.value + min[0]!.value) < 1e-6, `${max[0]!.value} vs ${min[0]!.value}`);
  });

  it('stops nothing before a run has finished, or while fewer than 3 finished runs teach the model', () => {
    const rule = ModelStopRule.forSweep(sweep('minimize'));
    assert.deepEqual(rule.judge([], running(1, 5)), []);
    const stopped: Observation[] = finishedRuns(1).map((o) => ({ ...o, state: 'stopped', curve: (o.curve as number[]).slice(0, 3) }));
    assert.deepEqual(rule.judge(stopped, running(1, 5)), []);
    assert.deepEqual(rule.judge(finishedRuns(1).slice(0, 2), running(1, 5)), []);
  });

  it('compares the predicted mean itself at z = 0, and a bound z posterior sds better above it', () => {
    const [mean] = ModelStopRule.forSweep(sweep('minimize', { ...SPEC, z: 0 })).judge(finishedRuns(1), running(1, 5));
    const [wide] = ModelStopRule.forSweep(sweep('minimize', { ...SPEC, z: 3 })).judge(finishedRuns(1), running(1, 5));
    assert.equal(mean!.optimistic, mean!.value);
    assert.ok(Math.abs(wide!.value - mean!.value) < 1e-12);
    assert.ok(wide!.optimistic! < mean!.optimistic, `${wide!.optimistic} vs ${mean!.optimistic}`);
  });

  it('needs a sweep with type: model', () => {
    const s = sweep('minimize');
    delete s.earlyTerminate;
    assert.throws(() => ModelStopRule.forSweep(s), /not type: model/);
    assert.ok(encodeSpace(sweep('minimize')).dimensions.length === 1);
  });
});
