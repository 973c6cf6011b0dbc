/**
 * Early termination end to end: a real script logs learning curves, the controller decides as
 * the metrics arrive, agents kill the bad runs' process groups, the best run finishes, and each
 * stop records its rule, band, threshold and value.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { api, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished } from '../helpers/harness.js';

const opts = await needServices();

describe('early termination', { ...opts, timeout: 120_000 }, () => {
  test('hyperband stops the bad runs within seconds of the deciding report; the best run finishes', async (t) => {
    const env = await setUp('e2e_et');
    try {
      controller(env);
      await waitForHttp(env.url);
      // Grid order: quality 0 (the best curve) first. Bands 2, 4, 8, 16 (min_iter 2, eta 2).
      const sweep = await createSweep(
        env,
        `
method: grid
metric: {name: loss, goal: minimize}
program: test/fixtures/scripts/curves.py
command: [python3, "\${program}", "\${args}"]
parameters:
  quality: {values: [0, 1, 2, 3, 4, 5]}
  steps: {value: 30}
  sleep: {value: 0.1}
early_terminate: {type: hyperband, min_iter: 2, eta: 2}
`,
      );
      agent(env, sweep.id);
      agent(env, sweep.id);
      await waitFinished(env, sweep.id);

      const { rows } = await env.db.query<{
        number: number;
        state: string;
        metric_count: number;
        stop_info: { rule: string; band: number; threshold: number; value: number; decidedAt: string } | null;
        stopped_at: Date | null;
        params: { quality: number };
      }>(
        `SELECT r.number, r.state, r.metric_count, r.stop_info, r.params,
                (SELECT at FROM run_events e WHERE e.run_id = r.id AND e.to_state = 'stopped') AS stopped_at
         FROM runs r WHERE r.sweep_id = $1 ORDER BY r.number`,
        [sweep.id],
      );
      assert.equal(rows.length, 6);
      const best = rows.find((r) => r.params.quality === 0)!;
      assert.equal(best.state, 'finished', 'the best run is never stopped');
      assert.equal(best.metric_count, 30);
      const stopped = rows.filter((r) => r.state === 'stopped');
      assert.ok(stopped.length >= 2, `bad runs were stopped: ${JSON.stringify(rows.map((r) => [r.params.quality, r.state]))}`);
      for (const r of stopped) {
        const info = r.stop_info!;
        assert.equal(info.rule, 'hyperband');
        assert.ok([2, 4, 8, 16].includes(info.band), `band ${info.band}`);
        assert.ok(info.value > info.threshold, 'a stopped run was worse than the threshold');
        // The stopped run ran well short of its 30 steps.
        assert.ok(r.metric_count < 30, `stopped after ${r.metric_count} values`);
        // From the decision to the agent's report that the process group is gone.
        const tookMs = new Date(r.stopped_at!).getTime() - new Date(info.decidedAt).getTime();
        assert.ok(tookMs >= 0 && tookMs < 5000, `stop took ${tookMs} ms`);
        t.diagnostic(`run ${r.number} (quality ${r.params.quality}) stopped at band ${info.band} after ${r.metric_count} values; decision to process gone: ${tookMs} ms`);
      }
      const runs = await api<{ runs: Array<{ state: string; stopInfo: { message: string } | null }> }>(
        env.url,
        `/api/sweeps/${sweep.id}/runs?state=stopped`,
      );
      assert.equal(runs.runs.length, stopped.length);
      assert.match(runs.runs[0]!.stopInfo!.message, /Band/);
    } finally {
      await tearDown(env);
    }
  });
});
