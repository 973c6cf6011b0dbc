/**
 * The controller on the embedded database (DATABASE_URL unset, PGlite in HARROW_DATA_DIR), driven
 * through the HTTP API: the same SQL must answer the same way as on Postgres.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BestResponseSchema, ListRunsResponseSchema, SweepDetailSchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import {
  FakeAgent,
  SseReader,
  createSweep,
  expectError,
  expectOk,
  getRun,
  http,
  newToken,
  settled,
  startTestController,
  waitRun,
  waitSweep,
  type TestController,
} from './controller-harness.js';

const opts = await needServices();

const YAML = [
  'name: embedded',
  'method: random',
  'program: train.py',
  'metric: {name: loss, goal: minimize}',
  'run_cap: 3',
  'parameters:',
  '  x: {min: 0.0, max: 1.0}',
  '',
].join('\n');

describe('controller HTTP API on the embedded database (PGlite)', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;

  before(async () => {
    c = await startTestController({ backend: 'pglite' });
  });
  after(async () => {
    await c?.close();
  });

  test('a sweep runs to its cap through the API; runs, best, curve and SSE answer as on Postgres', async () => {
    assert.equal(c.handle.ctx.db.kind, 'pglite');
    assert.ok(!c.handle.ctx.config.DATABASE_URL);
    assert.ok(existsSync(join(c.handle.ctx.config.HARROW_DATA_DIR, 'db')), 'the database lives in HARROW_DATA_DIR/db');
    const health = await http<{ ok: boolean; database: string; redis: string }>(c.url, '/healthz');
    assert.deepEqual(health.body, { ok: true, database: 'up', redis: 'up' });

    const s = await createSweep(c.url, YAML);
    const sse = await SseReader.open(`${c.url}/api/sweeps/${s.id}/events`);
    try {
      await sse.next('sweep on connect', (e) => e.event === 'sweep');
      await waitFor('the SSE subscription', async () => {
        const [, n] = (await c.redis.pubsub('NUMSUB', `${c.prefix}:events:${s.id}`)) as [string, number];
        return Number(n) > 0;
      });
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      await agent.advertise(8);
      const runs = await waitFor('3 runs', async () => {
        const r = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs`));
        return settled(r, 3) ? r : undefined;
      });
      assert.equal(runs.total, 3, 'run_cap');
      const losses = [0.6, 0.2, 0.4];
      for (const [i, run] of runs.runs.entries()) {
        const token = newToken();
        await agent.claim(run.id, token);
        await waitRun(c.url, run.id, 'running', (r) => r.state === 'running');
        await agent.metrics(run.id, token, [
          [0, 'loss', losses[i]! + 0.5],
          [1, 'loss', losses[i]!],
        ]);
        await agent.end(run.id, token, 'finished');
        await waitRun(c.url, run.id, 'finished', (r) => r.state === 'finished');
      }
      const [a, b, d] = runs.runs.map((r) => r.id) as [string, string, string];
      const done = await waitSweep(c.url, s.id, 'finished', (x) => x.state === 'finished');
      assert.deepEqual(done.counts, { queued: 0, running: 0, finished: 3, failed: 0, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 3 });
      assert.equal(done.best?.runId, b);

      const byMetric = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs?sort=metric&limit=2`));
      assert.equal(byMetric.total, 3);
      assert.deepEqual(
        byMetric.runs.map((r) => r.id),
        [b, d],
      );
      const best = await expectOk(BestResponseSchema, http(c.url, `/api/sweeps/${s.id}/best`));
      assert.equal(best.counted, 3);
      assert.deepEqual(
        best.curve.map((p) => [p.index, p.runId, p.value]),
        [
          [1, a, 0.6],
          [2, b, 0.2],
        ],
      );
      assert.deepEqual(best.best, { runId: b, number: 2, params: runs.runs[1]!.params, value: 0.2, step: 1 });

      const detail = await getRun(c.url, b);
      assert.deepEqual(
        detail.metrics.loss?.map((p) => [p.step, p.value]),
        [
          [0, 0.7],
          [1, 0.2],
        ],
      );
      assert.deepEqual(
        detail.events.map((e) => e.to),
        ['queued', 'running', 'finished'],
      );

      const bestEvent = await sse.next('best b', (e) => e.event === 'best' && (e.data as { runId: string }).runId === b);
      assert.equal((bestEvent.data as { value: number }).value, 0.2);
      await sse.next('sweep finished', (e) => e.event === 'sweep' && (e.data as { state: string }).state === 'finished');
    } finally {
      await sse.close();
    }
    await expectError(http(c.url, `/api/sweeps/${s.id}/resume`, { method: 'POST' }), 409, 'INVALID_STATE_TRANSITION');
    assert.equal((await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${s.id}`))).state, 'finished');
  });
});
