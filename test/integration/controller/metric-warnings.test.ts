/**
 * Every good metric point is kept: a point that cannot be stored is refused alone and recorded on
 * the run, and points the agent sent that never arrived are recorded as data loss. Both show in
 * the run's detail and in the runs list. Postgres and PGlite.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { ListRunsResponseSchema, MetricsResponseSchema, type RunDetail } from '../../../protocol/api.js';
import { WIRE_VERSION } from '../../../protocol/wire.js';
import { needServices } from '../../helpers/services.js';
import { claimedRun, expectOk, http, startTestController, waitRun, type TestController } from './controller-harness.js';

const opts = await needServices();

const SWEEP = ['method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`metric points refused alone, and data loss, recorded on the run (${backend})`, { ...opts, timeout: 60_000 }, () => {
    let c: TestController;
    before(async () => {
      c = await startTestController({ backend });
    });
    after(async () => {
      await c?.close();
    });

    /** A sweep with one run claimed by a stand-in agent. */
    const claimed = () => claimedRun(c, SWEEP);

    const metricsOf = (runId: string) => expectOk(MetricsResponseSchema, http(c.url, `/api/runs/${runId}/metrics`));

    test('bad points among good ones: the good ones are stored, the bad ones refused alone and shown on the run', async () => {
      const { agent, runId, token } = await claimed();
      const t = Date.now();
      // One report of 8 points, 4 of which Postgres cannot store (before the fix the whole report was lost).
      const points: unknown[] = [
        { seq: 1, step: 0, name: 'loss', value: 1.0, t },
        { seq: 2, step: 2 ** 31, name: 'loss', value: 0.9, t },
        { seq: 3, step: 1, name: 'loss', value: 0.8, t },
        { seq: 4, step: 1, name: 'bad\u0000name', value: 1, t },
        { seq: 5, step: 1, name: '', value: 1, t },
        { seq: 6, step: 2, name: 'loss', value: 0.7, t },
        { seq: 7, step: 2, name: 'lone\uD800', value: 1, t },
        { seq: 8, step: 3, name: 'acc', value: 'nan', t },
      ];
      await agent.report({ v: WIRE_VERSION, type: 'metrics', sweepId: agent.sweepId, agentId: agent.agentId, runId, token, points });
      await agent.report({
        v: WIRE_VERSION,
        type: 'end',
        sweepId: agent.sweepId,
        agentId: agent.agentId,
        runId,
        token,
        outcome: 'finished',
        exitCode: 0,
        signal: null,
        reason: 'exit code 0',
        tail: '',
        lastSeq: 8,
        at: Date.now(),
      });
      const run = await waitRun(c.url, runId, 'finished', (r) => r.state === 'finished');
      const stored = (await metricsOf(runId)).points;
      assert.deepEqual(
        stored.map((p) => [p.step, p.name, p.value]),
        [
          [0, 'loss', 1.0],
          [1, 'loss', 0.8],
          [2, 'loss', 0.7],
          [3, 'acc', null],
        ],
        'every good point is kept',
      );
      assert.equal(run.value, 0.7);
      assert.equal(run.warnings.length, 1, JSON.stringify(run.warnings));
      const w = run.warnings[0]!;
      assert.equal(w.kind, 'points_refused');
      assert.equal(w.count, 4);
      assert.equal(w.attempt, 1);
      assert.match(w.message, /4 metric points could not be stored/);
      assert.match(w.message, /step: .*2147483647/, 'the first refusal says why');
      assert.ok(!run.warnings.some((x) => x.kind === 'data_loss'), 'refused points are accounted for: no data loss');

      const list = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${agent.sweepId}/runs`));
      assert.deepEqual(list.runs.find((r) => r.id === runId)?.warnings, run.warnings, 'the runs list shows the same warnings');
    });

    test('points lost between the agent and the controller are recorded as data loss with counts', async () => {
      const { agent, runId, token } = await claimed();
      await agent.metrics(runId, token, [
        [0, 'loss', 1.0],
        [1, 'loss', 0.9],
      ]);
      // Seqs 3..5 are sent (the agent counted them) but Redis loses them before the controller reads them.
      const lost = await agent.metrics(
        runId,
        token,
        [
          [2, 'loss', 0.8],
          [3, 'loss', 0.7],
          [4, 'loss', 0.6],
        ],
        { lose: true },
      );
      assert.equal(lost, 5);
      await agent.metrics(runId, token, [[5, 'loss', 0.5]]);
      await agent.end(runId, token, 'finished');
      const run: RunDetail = await waitRun(c.url, runId, 'finished', (r) => r.state === 'finished');
      assert.equal((await metricsOf(runId)).points.length, 3);
      const loss = run.warnings.find((w) => w.kind === 'data_loss');
      assert.ok(loss, `a data-loss warning: ${JSON.stringify(run.warnings)}`);
      assert.equal(loss.count, 3);
      assert.equal(loss.lastSeq, 6);
      assert.equal(loss.stored, 3);
      assert.match(loss.message, /3 of the 6 metric points/);
    });

    test('a complete run has no warning', async () => {
      const { agent, runId, token } = await claimed();
      await agent.metrics(runId, token, [
        [0, 'loss', 1.0],
        [1, 'loss', 0.9],
      ]);
      await agent.end(runId, token, 'finished');
      const run = await waitRun(c.url, runId, 'finished', (r) => r.state === 'finished');
      assert.deepEqual(run.warnings, []);
    });
  });
}
