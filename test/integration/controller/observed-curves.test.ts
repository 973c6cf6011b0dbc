/**
 * `harrow.bayes.multi_fidelity` on real Postgres and on PGlite: the observations a Bayesian sweep's
 * strategy receives (`strategyInput`, what the scheduler passes to the proposer) carry each ended
 * run's learning curve as a `CurveSummary` read from the stored points — the running best at 1, 3,
 * 9, … and the last position, other metrics and non-finite values skipped, the current attempt
 * only — while running runs stay pending; the strategy then gives the stopped run a predicted final
 * value. Without the key nothing is read. And the bound: only the most recent runs of each kind get
 * their earlier points.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { insertSweep } from '../../../db/sweeps.js';
import { claimRun, endRun, getRun, insertRuns, requeueRun, strategyHistory } from '../../../db/runs.js';
import { curvePrefixes, insertPoints, updateSummaries, type PointRow } from '../../../db/metrics.js';
import { summarize } from '../../../controller/ingestor.js';
import { strategyInput } from '../../../controller/warm-start.js';
import { observedCurves } from '../../../controller/observed-curves.js';
import { createBayesStrategy } from '../../../strategies/bayes/index.js';
import { parseSweepConfig } from '../../../strategies/index.js';
import type { CurveSummary, SweepSpec } from '../../../strategies/types.js';

const opts = await needServices();

function spec(multiFidelity: boolean | undefined): SweepSpec {
  return parseSweepConfig({
    method: 'bayes',
    program: 'train.py',
    metric: { name: 'loss', goal: 'minimize' },
    parameters: { x: { distribution: 'uniform', min: 0, max: 1 } },
    early_terminate: { type: 'hyperband', min_iter: 3, eta: 3 },
    harrow: { bayes: { initial_design: 3, ...(multiFidelity === undefined ? {} : { multi_fidelity: multiFidelity }) } },
  });
}

/** A decaying loss curve for x: final (x − 0.3)² + 0.1, with a bump so the running best differs from the raw values. */
function lossCurve(x: number, n: number): number[] {
  return Array.from({ length: n }, (_, i) => (x - 0.3) ** 2 + 0.1 + Math.exp(-(i + 1) / 4) + (i % 4 === 1 ? 0.05 : 0));
}

function runningMin(values: readonly number[], at: readonly number[]): number[] {
  return at.map((t) => Math.min(...values.slice(0, t)));
}

for (const backend of BACKENDS) {
  describe(`multi-fidelity curves reach the strategy (${backend.name})`, { ...opts, timeout: 60_000 }, () => {
    let db: Database;
    let drop: () => Promise<void>;
    const seqs = new Map<string, number>();

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop?.();
    });

    async function sweepWith(id: string, s: SweepSpec, xs: number[]): Promise<string[]> {
      await insertSweep(db, { id, name: id, method: 'bayes', spec: s, configText: '', seed: 1, metricName: 'loss', goal: 'minimize', runCap: null, expectedRuns: null });
      const rows = await insertRuns(db, xs.map((x, i) => ({ id: `${id}-${i + 1}`, sweepId: id, number: i + 1, params: { x }, paramsHash: `${id}-${i + 1}`, proposal: null })), 'test');
      return rows.map((r) => r.id);
    }

    async function claim(runId: string): Promise<string> {
      const run = await getRun(db, runId);
      const token = `${runId}-t${run!.attempt + 1}`;
      assert.equal((await claimRun(db, { runId, token, agentId: 'a', host: 'h', gpu: null })).status, 'accepted');
      seqs.set(runId, 0);
      return token;
    }

    /** Stores `values` of the sweep metric interleaved with another metric (and a NaN loss), as the ingestor does. */
    async function report(runId: string, s: SweepSpec, values: readonly number[], o: { nanAt?: number } = {}): Promise<void> {
      const run = (await getRun(db, runId))!;
      const points: PointRow[] = [];
      const push = (name: string, value: number, step: number): void => {
        const seq = seqs.get(runId)! + 1;
        seqs.set(runId, seq);
        points.push({ runId, attempt: run.attempt, seq, step, name, value, time: new Date() });
      };
      values.forEach((v, i) => {
        push('lr', 0.1 / (i + 1), i + 1);
        if (o.nanAt === i) push('loss', Number.NaN, i + 1);
        push('loss', v, i + 1);
      });
      await db.transaction(async (tx) => {
        await insertPoints(tx, points);
        await updateSummaries(tx, [summarize(run, points, s)]);
      });
    }

    async function end(runId: string, token: string, state: 'finished' | 'stopped' | 'failed' | 'crashed'): Promise<void> {
      const r = await endRun(db, { runId, token, state, exitCode: state === 'failed' ? 1 : 0, signal: null, reason: state, tail: '' });
      assert.equal(r.status, 'ended');
    }

    test('ended runs carry their curves; running runs stay pending; the stopped run is scored from its curve', async () => {
      const s = spec(true);
      const xs = [0.05, 0.6, 0.9, 0.3, 0.5, 0.7, 0.2];
      const ids = await sweepWith('mf', s, xs);
      const curves = xs.map((x, i) => lossCurve(x, i < 3 ? 30 : i === 3 ? 5 : 12));
      // Runs 1–3 finish 30 epochs; run 4 is stopped after 5 (the second with a NaN logged in between);
      // run 5 is still running; run 6 failed; run 7 was retried: only its current attempt counts.
      for (const i of [0, 1, 2, 3, 5, 6]) {
        const token = await claim(ids[i]!);
        await report(ids[i]!, s, i === 6 ? curves[i]!.map((v) => v + 5) : curves[i]!, { nanAt: i === 1 ? 2 : undefined });
        if (i === 6) {
          await end(ids[i]!, token, 'crashed');
          assert.ok(await requeueRun(db, ids[i]!, 'retry'));
          continue;
        }
        await end(ids[i]!, token, i < 3 ? 'finished' : i === 3 ? 'stopped' : 'failed');
      }
      const t7 = await claim(ids[6]!);
      await report(ids[6]!, s, curves[6]!.slice(0, 4));
      await end(ids[6]!, t7, 'stopped');
      const t5 = await claim(ids[4]!);
      await report(ids[4]!, s, curves[4]!.slice(0, 2));

      const input = await strategyInput(db, 'mf', s);
      assert.deepEqual(input.pending, [{ x: 0.5 }]);
      const byX = new Map(input.observations.map((o) => [o.params.x as number, o]));
      assert.equal(byX.size, 6);
      const expect = (values: number[], at: number[]): CurveSummary => ({ length: values.length, at, best: runningMin(values, at) });
      for (const i of [0, 1, 2]) assert.deepEqual(byX.get(xs[i]!)!.curve, expect(curves[i]!, [1, 3, 9, 27, 30]), `run ${i + 1}`);
      assert.deepEqual(byX.get(0.3)!.curve, expect(curves[3]!, [1, 3, 5]));
      assert.equal(byX.get(0.3)!.state, 'stopped');
      assert.deepEqual(byX.get(0.2)!.curve, expect(curves[6]!.slice(0, 4), [1, 3, 4]), 'the retried run: its current attempt only');
      assert.equal(byX.get(0.7)!.state, 'failed');
      assert.equal(byX.get(0.7)!.curve, undefined, 'a failed run has no curve (metric.impute and the feasibility model score it)');

      // The strategy scores both stopped runs from their curves and records it with the proposal.
      const [p] = createBayesStrategy(s, { seed: 1 }).propose({ observations: input.observations, pending: input.pending, count: 1 });
      assert.equal(p?.info?.source, 'gp');
      const mf = p.info.multiFidelity as { imputed: number; budget: number };
      assert.equal(mf.imputed, 2);
      assert.equal(mf.budget, 30);

      // Without the key, nothing is read and stopped runs are scored per metric.impute.
      for (const off of [spec(undefined), spec(false)]) {
        const plain = await strategyInput(db, 'mf', off);
        assert.ok(plain.observations.every((o) => o.curve === undefined));
        const [q] = createBayesStrategy(off, { seed: 1 }).propose({ observations: plain.observations, pending: plain.pending, count: 1 });
        assert.equal(q?.info?.multiFidelity, undefined);
      }
      await end(ids[4]!, t5, 'stopped');
    });

    test('bounded: only the most recently ended runs of each kind get their earlier points', async () => {
      const s = spec(true);
      const xs = [0.1, 0.2, 0.3, 0.4];
      const ids = await sweepWith('mfb', s, xs);
      // Ended in order: 1 finished, 2 stopped, 3 finished, 4 stopped.
      for (const [i, id] of ids.entries()) {
        const token = await claim(id);
        await report(id, s, lossCurve(xs[i]!, i % 2 === 0 ? 20 : 6));
        await end(id, token, i % 2 === 0 ? 'finished' : 'stopped');
      }
      const prefixes = await curvePrefixes(db, 'mfb', 'loss', { goal: 'minimize', positions: [1, 3, 9], perKind: 1 });
      assert.deepEqual([...prefixes.keys()].sort(), ['mfb-3', 'mfb-4']);
      assert.deepEqual(prefixes.get('mfb-3'), { at: [1, 3, 9], best: runningMin(lossCurve(0.3, 20), [1, 3, 9]) });
      // Positions at or past a run's last value are not read (the row has it): 9 is past run 4's 6 values.
      assert.deepEqual(prefixes.get('mfb-4')!.at, [1, 3]);
      // Maximize takes the running maximum.
      const up = await curvePrefixes(db, 'mfb', 'loss', { goal: 'maximize', positions: [1, 3], perKind: 1 });
      assert.deepEqual(up.get('mfb-3')!.best, [1, 3].map((t) => Math.max(...lossCurve(0.3, 20).slice(0, t))));
      // Every ended run still gets its last point from its row.
      const { ended } = await strategyHistory(db, 'mfb');
      const summaries = await observedCurves(db, 'mfb', { name: 'loss', goal: 'minimize' }, ended, 1);
      assert.deepEqual(summaries.get('mfb-1'), { length: 20, at: [20], best: [Math.min(...lossCurve(0.1, 20))] });
      assert.deepEqual(summaries.get('mfb-3'), { length: 20, at: [1, 3, 9, 20], best: runningMin(lossCurve(0.3, 20), [1, 3, 9, 20]) });
    });
  });
}
