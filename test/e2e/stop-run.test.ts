/**
 * Run control by users, with real agents: stopping one run right after an agent claimed it (the
 * stop must not be lost in the gap before the process starts), and canceling a sweep (active runs
 * are killed, the sweep ends `canceled`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { api, waitFor, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown } from '../helpers/harness.js';

const opts = await needServices();

const LONG_RUNS = `
method: random
metric: {name: loss, goal: minimize}
run_cap: 6
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: 100}
  sleep: {value: 0.1}
`;

describe('run control', { ...opts, timeout: 120_000 }, () => {
  test('a run stopped the moment it is claimed ends stopped, quickly', async () => {
    const env = await setUp('e2e_stoprun');
    try {
      controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(env, LONG_RUNS);
      agent(env, sweep.id);
      const runId = await waitFor(
        'a claimed run',
        async () => {
          const { rows } = await env.db.query<{ id: string }>(`SELECT id FROM runs WHERE sweep_id = $1 AND state = 'running' LIMIT 1`, [sweep.id]);
          return rows[0]?.id;
        },
        30_000,
        5,
      );
      const stoppedAt = Date.now();
      await api(env.url, `/api/runs/${runId}/stop`, { method: 'POST', body: JSON.stringify({ reason: 'not needed' }) });
      const state = await waitFor(
        'the run to end',
        async () => {
          const { rows } = await env.db.query<{ state: string }>(`SELECT state FROM runs WHERE id = $1`, [runId]);
          return rows[0]!.state !== 'running' ? rows[0]!.state : undefined;
        },
        20_000,
        50,
      );
      assert.equal(state, 'stopped');
      assert.ok(Date.now() - stoppedAt < 5000, `stopped after ${Date.now() - stoppedAt} ms`);
      const run = await api<{ stopInfo: { rule: string; message: string } }>(env.url, `/api/runs/${runId}`);
      assert.equal(run.stopInfo.rule, 'user');
      assert.equal(run.stopInfo.message, 'not needed');
    } finally {
      await tearDown(env);
    }
  });

  test('canceling a sweep kills its active runs and ends it canceled', async () => {
    const env = await setUp('e2e_cancel');
    try {
      controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(env, LONG_RUNS);
      const a = agent(env, sweep.id);
      const b = agent(env, sweep.id);
      await waitFor('two running runs', async () => {
        const { rows } = await env.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND state = 'running'`, [sweep.id]);
        return rows[0]!.n === 2;
      });
      await api(env.url, `/api/sweeps/${sweep.id}/cancel`, { method: 'POST', body: '{}' });
      await waitFor('the runs to be canceled', async () => {
        const { rows } = await env.db.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND state IN ('queued', 'running')`,
          [sweep.id],
        );
        return rows[0]!.n === 0;
      });
      const { rows } = await env.db.query<{ state: string }>(`SELECT state FROM runs WHERE sweep_id = $1`, [sweep.id]);
      assert.ok(rows.every((r) => r.state === 'canceled'), JSON.stringify(rows));
      const s = await api<{ state: string }>(env.url, `/api/sweeps/${sweep.id}`);
      assert.equal(s.state, 'canceled');
      // Agents leave once the sweep is canceled.
      assert.deepEqual(await Promise.all([a.exited, b.exited]), [0, 0]);
    } finally {
      await tearDown(env);
    }
  });
});
