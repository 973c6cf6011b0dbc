/**
 * `harrow.early_terminate: {type: model}` end to end: a Bayesian sweep runs a real script whose
 * learning curves differ by a constant per configuration; once three runs have finished, runs of
 * the quasi-random design heading for a clearly worse end are stopped by the controller on the
 * curve model's prediction (judged after the ingesting commit, in the strategy worker), and each
 * stop records the model's numbers and its reason.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished } from '../helpers/harness.js';

const opts = await needServices();

describe('model-based stopping', { ...opts, timeout: 180_000 }, () => {
  test('the controller stops runs the curve model gives up on, with the prediction in the reason', async (t) => {
    const env = await setUp('e2e_model_stop');
    try {
      controller(env);
      await waitForHttp(env.url);
      // loss = 1/(t+1) + 0.1·quality over 16 steps of 0.15 s; a 10-run quasi-random design over quality 0..5.
      const sweep = await createSweep(
        env,
        `
method: bayes
metric: {name: loss, goal: minimize}
program: test/fixtures/scripts/curves.py
command: [python3, "\${program}", "\${args}"]
parameters:
  quality: {distribution: uniform, min: 0, max: 5}
  steps: {value: 16}
  sleep: {value: 0.15}
run_cap: 10
harrow:
  seed: 3
  bayes: {initial_design: 10}
  early_terminate: {type: model, z: 1.645, at: [3, 5, 8]}
`,
      );
      agent(env, sweep.id);
      agent(env, sweep.id);
      await waitFinished(env, sweep.id);

      const { rows } = await env.db.query<{
        number: number;
        state: string;
        metric_count: number;
        objective: number | null;
        params: { quality: number };
        stop_info: { rule: string; at: number; threshold: number; value: number; optimistic: number; message: string } | null;
      }>(`SELECT number, state, metric_count, objective, params, stop_info FROM runs WHERE sweep_id = $1 ORDER BY number`, [sweep.id]);
      t.diagnostic(rows.map((r) => `${r.number} q=${r.params.quality.toFixed(3)} ${r.state} ${r.metric_count} ${r.stop_info?.message ?? ''}`).join('\n'));
      assert.equal(rows.length, 10);
      const finished = rows.filter((r) => r.state === 'finished');
      const stopped = rows.filter((r) => r.state === 'stopped');
      assert.ok(finished.length >= 3, 'runs finished (the model learns from them)');
      assert.ok(stopped.length >= 1, `the model stopped runs: ${JSON.stringify(rows.map((r) => [r.params.quality, r.state]))}`);
      const bestFinal = Math.min(...finished.map((r) => r.objective!));
      const best = rows.reduce((a, b) => (a.params.quality <= b.params.quality ? a : b));
      assert.equal(best.state, 'finished', 'the run with the best curve is never stopped');
      for (const r of stopped) {
        const info = r.stop_info!;
        assert.equal(info.rule, 'model');
        // Judged once it crossed a checkpoint, on the curve stored by then (a value or two later).
        assert.ok(info.at >= 3 && info.at <= r.metric_count, `judged after ${info.at} values`);
        assert.ok(r.metric_count < 16, 'stopped before its end');
        // What it lost to: the best finished run's value when it was judged (never better than the sweep's final best).
        assert.ok(info.threshold >= bestFinal - 1e-12, `threshold ${info.threshold} vs best ${bestFinal}`);
        assert.ok(info.optimistic > info.threshold && info.value >= info.optimistic, JSON.stringify(info));
        assert.match(info.message, /^model after \d+ values: predicted final [\d.]+ \(optimistic [\d.]+, z 1\.645\) vs best finished [\d.]+: STOP$/);
        // The script's true final for this configuration is indeed worse than the best finished run's.
        assert.ok(1 / 16 + 0.1 * r.params.quality > bestFinal, `run ${r.number} could have won`);
      }
    } finally {
      await tearDown(env);
    }
  });
});
