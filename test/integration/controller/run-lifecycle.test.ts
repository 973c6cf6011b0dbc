/**
 * A run's life through the whole controller (`controller/run-lifecycle.ts` and what calls it), on
 * Postgres and on PGlite with real Redis: a sweep's best counts a better stopped run, runs that
 * keep failing pause the sweep with the reason shown, a sweep of failures never looks healthy,
 * fail_on names an out-of-memory failure and does not retry it, and the reaper's crashes go
 * through the same retry and pause policies as the ingestor's failures.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Queue } from 'bullmq';
import { BestResponseSchema, ListRunsResponseSchema, SweepDetailSchema, SweepSummarySchema, type RunSummary } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { afterRunEnd, crashStaleAttempts, retryDecision } from '../../../controller/run-lifecycle.js';
import { endRun, requeueRun } from '../../../db/runs.js';
import { getSweep as readSweep } from '../../../db/sweeps.js';
import type { SweepSpec } from '../../../strategies/types.js';
import { waitFor } from '../../helpers/processes.js';
import { z } from 'zod';
import {
  FakeAgent,
  createSweep,
  expectOk,
  getSweep,
  http,
  newToken,
  settled,
  startTestController,
  waitRun,
  waitSweep,
  type TestController,
} from './controller-harness.js';

const opts = await needServices();

function sweepYaml(o: { name: string; runCap?: number; harrow?: string; early?: string }): string {
  return [
    `name: ${o.name}`,
    'method: random',
    'program: train.py',
    'metric: {name: loss, goal: minimize}',
    ...(o.runCap === undefined ? [] : [`run_cap: ${o.runCap}`]),
    ...(o.early ? [o.early] : []),
    'parameters:',
    '  x: {min: 0.0, max: 1.0}',
    ...(o.harrow ? ['harrow:', o.harrow] : []),
    '',
  ].join('\n');
}

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`run lifecycle through the controller (${backend})`, { ...opts, timeout: 120_000 }, () => {
    let c: TestController;
    let url: string;

    before(async () => {
      c = await startTestController({ backend });
      url = c.url;
    });
    after(async () => {
      await c?.close();
    });

    const listRuns = (sweepId: string, query = '') => expectOk(ListRunsResponseSchema, http(url, `/api/sweeps/${sweepId}/runs${query}`));

    /** The agent advertises `slots`; waits for the `expected` runs the scheduler queues. */
    async function queueRuns(agent: FakeAgent, slots: number, expected: number): Promise<RunSummary[]> {
      await agent.advertise(slots);
      const runs = await waitFor(`${expected} queued runs`, async () => {
        const r = await listRuns(agent.sweepId);
        return settled(r, expected) ? r : undefined;
      });
      await agent.withdraw();
      return runs.runs.sort((a, b) => a.number - b.number);
    }

    async function claim(agent: FakeAgent, runId: string): Promise<string> {
      const token = newToken();
      await agent.claim(runId, token);
      await waitRun(url, runId, 'running', (r) => r.state === 'running');
      return token;
    }

    /** Claims a run, logs `values` of the metric and ends it. */
    async function play(agent: FakeAgent, runId: string, values: number[], outcome: 'finished' | 'stopped' | 'failed', tail?: string): Promise<string> {
      const token = await claim(agent, runId);
      if (values.length > 0) await agent.metrics(runId, token, values.map((v, i) => [i, 'loss', v]));
      await agent.end(runId, token, outcome, tail === undefined ? {} : { tail });
      return token;
    }

    test("a sweep's best counts a better stopped run (the hyperband example of issue 10)", async () => {
      const s = await createSweep(url, sweepYaml({ name: 'hb-best' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [r1, r2, r3] = await queueRuns(agent, 2, 3);
      await play(agent, r1!.id, [0.3, 0.14621], 'finished');
      await waitRun(url, r1!.id, 'finished', (r) => r.state === 'finished');
      await play(agent, r2!.id, [0.25, 0.14123], 'stopped');
      await waitRun(url, r2!.id, 'stopped', (r) => r.state === 'stopped');
      // A failed run's value is not a result anyone would pick.
      await play(agent, r3!.id, [0.01], 'failed');
      await waitRun(url, r3!.id, 'failed', (r) => r.state === 'failed');
      const sweep = await getSweep(url, s.id);
      assert.equal(sweep.best?.value, 0.14123, 'the stopped run reached a better value than the finished one');
      assert.equal(sweep.best?.runId, r2!.id);
      const best = await expectOk(BestResponseSchema, http(url, `/api/sweeps/${s.id}/best`));
      assert.deepEqual([best.best?.runId, best.counted, best.curve.map((p) => p.value)], [r2!.id, 2, [0.14621, 0.14123]]);
      const list = await expectOk(z.object({ sweeps: z.array(SweepSummarySchema) }), http(url, '/api/sweeps'));
      assert.equal(list.sweeps.find((x) => x.id === s.id)?.best?.runId, r2!.id, 'the list agrees with the detail');
      const byMetric = await listRuns(s.id, '?sort=metric&limit=1');
      assert.equal(byMetric.runs[0]?.id, r3!.id, 'run lists still rank every value (the failed run logged 0.01)');
    });

    test('hyperband stops a run that had reached a better value: that value is the sweep\'s best', async () => {
      // The case: the run stopped at a band (its value there is worse than the threshold)
      // had logged a better value earlier than the finished run ever did.
      const s = await createSweep(url, sweepYaml({ name: 'hb-real', early: 'early_terminate: {type: hyperband, min_iter: 2, eta: 2}' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [a, b, c3] = await queueRuns(agent, 2, 3);
      const ta = await claim(agent, a!.id);
      const tb = await claim(agent, b!.id);
      const tc = await claim(agent, c3!.id);
      // Band 2 (the 2nd logged value) holds 0.14621 and 0.15; with eta 2 the threshold at three
      // values is the second best, 0.15.
      await agent.metrics(a!.id, ta, [[0, 'loss', 0.2], [1, 'loss', 0.14621]]);
      await agent.metrics(c3!.id, tc, [[0, 'loss', 0.3], [1, 'loss', 0.15]]);
      await waitRun(url, a!.id, 'two values', (r) => r.value === 0.14621);
      await waitRun(url, c3!.id, 'two values', (r) => r.value === 0.15);
      await agent.metrics(b!.id, tb, [[0, 'loss', 0.14123], [1, 'loss', 0.9]]);
      const stopping = await waitRun(url, b!.id, 'a hyperband stop decision', (r) => r.stopInfo !== null);
      assert.equal(stopping.stopInfo?.rule, 'hyperband');
      assert.equal((await agent.control(b!.id))?.action, 'stop');
      await agent.end(b!.id, tb, 'stopped');
      await agent.end(a!.id, ta, 'finished');
      await agent.end(c3!.id, tc, 'finished');
      await waitRun(url, a!.id, 'finished', (r) => r.state === 'finished');
      await waitRun(url, c3!.id, 'finished', (r) => r.state === 'finished');
      await waitRun(url, b!.id, 'stopped', (r) => r.state === 'stopped');
      const sweep = await getSweep(url, s.id);
      assert.deepEqual([sweep.best?.runId, sweep.best?.value], [b!.id, 0.14123]);
    });

    test('runs that keep failing pause the sweep with the reason shown; a resume counts afresh', async () => {
      const s = await createSweep(url, sweepYaml({ name: 'pause' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const runs = await queueRuns(agent, 3, 4);
      for (const r of runs.slice(0, 3)) await play(agent, r.id, [], 'failed');
      const paused = await waitSweep(url, s.id, 'paused by failures', (x) => x.state === 'paused');
      assert.match(paused.stateReason ?? '', /^paused: the first 3 runs all failed or crashed \(last: run \d+ failed: exit code 1\); .*harrow resume /);
      assert.equal(paused.health, 'failing');
      assert.equal(paused.counts.queued, 1, 'the queued run waits; nothing is canceled');
      // Postgres first, then Redis: agents see the pause right after it commits.
      await waitFor('agents to see the pause', async () => ((await c.redis.get(c.keys.sweepState(s.id))) === 'paused' ? true : undefined));

      await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/resume`, { method: 'POST' }));
      await play(agent, runs[3]!.id, [], 'failed');
      await waitRun(url, runs[3]!.id, 'failed', (r) => r.state === 'failed');
      const after = await getSweep(url, s.id);
      assert.equal(after.state, 'running', 'one failure after the resume is not the first 3');
      await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/cancel`, { method: 'POST' }));
    });

    test('a sweep whose runs all failed ends, but never looks like a success', async () => {
      const s = await createSweep(url, sweepYaml({ name: 'all-failed', runCap: 2, harrow: '  pause_on_failures: false' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const runs = await queueRuns(agent, 1, 2);
      for (const r of runs) await play(agent, r.id, [0.5], 'failed');
      const done = await waitSweep(url, s.id, 'finished (run cap reached)', (x) => x.state === 'finished');
      assert.equal(done.health, 'failing');
      assert.equal(done.best, null, 'no result');
      const list = await expectOk(z.object({ sweeps: z.array(SweepSummarySchema) }), http(url, '/api/sweeps'));
      assert.equal(list.sweeps.find((x) => x.id === s.id)?.health, 'failing');
    });

    test('fail_on: an out-of-memory failure gets a named reason and no retry; another failure is retried and enqueued', async () => {
      const s = await createSweep(url, sweepYaml({ name: 'oom', harrow: '  retry: {max_attempts: 2, on: [failed]}\n  pause_on_failures: false' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [oom, other] = await queueRuns(agent, 1, 2);
      const line = 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 20.00 MiB (GPU 0; 7.79 GiB total capacity)';
      await play(agent, oom!.id, [0.9], 'failed', `epoch 1\nTraceback (most recent call last):\n${line}\n`);
      const failed = await waitRun(url, oom!.id, 'failed', (r) => r.state === 'failed');
      assert.equal(failed.reason, `out of memory: ${line}`);
      assert.equal(failed.attempt, 1);
      const ended = failed.events.at(-1)!;
      assert.deepEqual([ended.from, ended.to, ended.reason], ['running', 'failed', `out of memory: ${line}`]);
      assert.deepEqual((ended.details as { failOn?: { name: string } }).failOn?.name, 'out of memory');

      await play(agent, other!.id, [0.8], 'failed', 'ValueError: lr must be positive\n');
      const retried = await waitRun(url, other!.id, 'queued for attempt 2', (r) => r.state === 'queued' && r.events.some((e) => e.to === 'failed'));
      assert.match(retried.reason ?? '', /^retry after failed: attempt 2 of 2$/);
      // The retry's job is in BullMQ under its own id, for an agent to take.
      const connection = c.redis.duplicate({ maxRetriesPerRequest: null });
      const queue = new Queue(c.keys.queueName(s.id), { connection, prefix: c.keys.bullPrefix });
      try {
        const job = await waitFor('the retry job', async () => (await queue.getJob(`${other!.id}.r1`)) ?? undefined);
        assert.equal((job.data as { runId: string }).runId, other!.id);
      } finally {
        await queue.close();
        connection.disconnect();
      }
      // The out-of-memory run was not retried meanwhile.
      const oomNow = await waitRun(url, oom!.id, 'still failed', () => true);
      assert.equal(oomNow.state, 'failed');
      assert.ok(!oomNow.events.some((e) => e.from === 'failed'));
      await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/cancel`, { method: 'POST' }));
    });

    test('a stop that lands while the reaper retries a crashed run leaves nothing queued (the fault suite hung on it)', async () => {
      // The reaper's transaction declares the run crashed and, the sweep being live when it reads
      // it, queues the retry; the stop commits in between. The stop must wait for the retry and
      // cancel it, or the retry must see the stop: never a queued run in a stopped sweep, which no
      // agent would ever take.
      const s = await createSweep(url, sweepYaml({ name: 'stop-race', harrow: '  retry: {max_attempts: 3, on: [crashed]}' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [run] = await queueRuns(agent, 1, 1);
      await claim(agent, run!.id);
      const ctx = c.handle.ctx;
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let reaped!: (n: number) => void;
      const crashedInTx = new Promise<number>((r) => (reaped = r));
      const reaping = ctx.db.transaction(async (tx) => {
        const ends = (await crashStaleAttempts(ctx, tx, 0)).filter((e) => e.run.sweep_id === s.id);
        reaped(ends.filter((e) => e.retry !== null).length);
        await held;
        return ends;
      });
      assert.equal(await crashedInTx, 1, 'the crash queued a retry inside the open transaction');
      const stopping = http(url, `/api/sweeps/${s.id}/stop`, { method: 'POST' });
      await new Promise((r) => setTimeout(r, 300));
      release();
      for (const end of await reaping) await afterRunEnd(ctx, end);
      assert.equal((await stopping).status, 200);
      const sweep = await getSweep(url, s.id);
      assert.equal(sweep.state, 'finished');
      const left = (await listRuns(s.id)).runs.filter((r) => r.state === 'queued' || r.state === 'running');
      assert.deepEqual(left.map((r) => `${r.id} ${r.state}`), [], 'no run waits in a stopped sweep');
    });

    test('a run left queued in an ended sweep (a retry decided on a stale read) is canceled by the reconciler', async () => {
      // A failed run's end reads its sweep before ending the run; a stop committed in between
      // makes the retry policy see a live sweep. Whatever the race, the reconciler restores the
      // invariant: an ended sweep has no queued run, since no agent would ever take it.
      const s = await createSweep(url, sweepYaml({ name: 'stale-retry', harrow: '  retry: {max_attempts: 3, on: [failed]}\n  pause_on_failures: false' }));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [run] = await queueRuns(agent, 1, 1);
      const token = await claim(agent, run!.id);
      const ctx = c.handle.ctx;
      // The stale read, forced: the end is decided against the sweep row read before the stop.
      const stale = (await readSweep(ctx.db, s.id))!;
      await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/stop`, { method: 'POST' }));
      const ended = await ctx.db.transaction(async (tx) => {
        const r = await endRun(tx, { runId: run!.id, token, state: 'failed', exitCode: 1, signal: null, reason: 'exit code 1', tail: '' });
        assert.equal(r.status, 'ended');
        return r.status === 'ended' ? retryDecision(stale.spec as SweepSpec, stale.state, r.run, false).retry && (await requeueRun(tx, run!.id, 'retry after failed')) : null;
      });
      assert.ok(ended, 'the stale decision queued a retry in the stopped sweep');
      await c.handle.reaper.reconcile();
      const now = await waitRun(url, run!.id, 'canceled by the reconciler', (r) => r.state !== 'queued', 5_000);
      assert.equal(now.state, 'canceled');
      assert.match(now.reason ?? '', /sweep .* ended/);
    });
  });
}

describe('crashed runs go through the same retry and pause policies (reaper)', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  before(async () => {
    // Runs without heartbeats are declared crashed one second after their last sign of life.
    c = await startTestController({ env: { HARROW_CRASH_TIMEOUT_MS: '1000' } });
  });
  after(async () => {
    await c?.close();
  });

  test('three crashes without retries pause the sweep; a crash with attempts left is retried', async () => {
    const url = c.url;
    const s = await createSweep(url, sweepYaml({ name: 'crashes', harrow: '  retry: {max_attempts: 2, on: [crashed]}' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await agent.advertise(3);
    const runs = await waitFor('3 queued runs', async () => {
      const r = await expectOk(ListRunsResponseSchema, http(url, `/api/sweeps/${s.id}/runs`));
      return settled(r, 3) ? r.runs.sort((a, b) => a.number - b.number) : undefined;
    });
    await agent.withdraw();
    for (const r of runs.slice(0, 3)) await agent.claim(r.id, newToken());
    // First crash of each: retried (attempt 2 of 2), the sweep keeps running.
    for (const r of runs.slice(0, 3)) await waitRun(url, r.id, 'crashed and requeued', (x) => x.state === 'queued' && x.events.some((e) => e.to === 'crashed'), 15_000);
    assert.equal((await getSweep(url, s.id)).state, 'running');
    // Second crash of each: no attempts left, so these are outcomes, and the first three all crashed.
    for (const r of runs.slice(0, 3)) await agent.claim(r.id, newToken());
    const paused = await waitSweep(url, s.id, 'paused by crashes', (x) => x.state === 'paused', 15_000);
    assert.match(paused.stateReason ?? '', /the first 3 runs all failed or crashed \(last: run \d+ crashed: no heartbeat/);
    assert.deepEqual([paused.counts.crashed, paused.health], [3, 'failing']);
  });
});
