/**
 * `harrow.bayes.multi_fidelity` end to end: a Bayesian sweep with hyperband runs a real script
 * whose learning curves rank configurations early; once three runs have finished, the proposals
 * made with runs stopped by hyperband record that the curve model scored those runs (the
 * strategy's `multiFidelity` info stored in runs.proposal), with the budget it learned from the
 * finished runs' curves.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished } from '../helpers/harness.js';

const opts = await needServices();

describe('multi-fidelity', { ...opts, timeout: 120_000 }, () => {
  test('stopped runs are scored from their curves in the proposals that follow them', async (t) => {
    const env = await setUp('e2e_mf');
    try {
      controller(env);
      await waitForHttp(env.url);
      // Bands 3 and 6 (min_iter 3, eta 2) on 12-step curves of 0.2 s a step: a run worse than the median at a band stops.
      const sweep = await createSweep(
        env,
        `
method: bayes
metric: {name: loss, goal: minimize}
program: test/fixtures/scripts/curves.py
command: [python3, "\${program}", "\${args}"]
parameters:
  quality: {distribution: uniform, min: 0, max: 5}
  steps: {value: 12}
  sleep: {value: 0.2}
early_terminate: {type: hyperband, min_iter: 3, eta: 2}
run_cap: 12
harrow:
  seed: 7
  bayes: {initial_design: 3, multi_fidelity: true}
`,
      );
      agent(env, sweep.id);
      agent(env, sweep.id);
      await waitFinished(env, sweep.id);

      const { rows } = await env.db.query<{ number: number; state: string; metric_count: number; proposal: { source: string; multiFidelity?: { imputed: number; budget?: number } } | null }>(
        `SELECT number, state, metric_count, proposal FROM runs WHERE sweep_id = $1 ORDER BY number`,
        [sweep.id],
      );
      t.diagnostic(rows.map((r) => `${r.number} ${r.state} ${r.metric_count} ${r.proposal?.source} ${JSON.stringify(r.proposal?.multiFidelity ?? null)}`).join('\n'));
      assert.equal(rows.length, 12);
      assert.ok(rows.filter((r) => r.state === 'stopped').length >= 1, 'hyperband stopped runs');
      assert.ok(rows.filter((r) => r.state === 'finished').length >= 3, 'runs finished');
      // Every proposal carries what the curve model did; the later ones scored stopped runs.
      for (const r of rows) assert.ok(r.proposal?.multiFidelity !== undefined, `run ${r.number}: no multiFidelity info`);
      const scored = rows.filter((r) => (r.proposal?.multiFidelity?.imputed ?? 0) > 0);
      assert.ok(scored.length >= 1, 'some proposal saw stopped runs scored from their curves');
      for (const r of scored) assert.equal(r.proposal!.multiFidelity!.budget, 12, 'the budget is the finished runs\' curve length');
    } finally {
      await tearDown(env);
    }
  });
});
