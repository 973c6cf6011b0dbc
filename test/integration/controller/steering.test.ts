/**
 * Steering a sweep through the whole controller on real Postgres and Redis (issue 15, points 1, 2
 * and 5): extend a finished or canceled sweep, rerun failed runs and grid cells as new linked runs,
 * enqueue configurations (refused outside the space with the offending path, observed by the
 * strategy), clone a run with edits, stop a run at its run_timeout, end a sweep whose budget is
 * spent while showing it being spent.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { ListRunsResponseSchema, SteerResponseSchema, type RunSummary } from '../../../protocol/api.js';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ApiVerb } from '../../../cli/commands/api-verb.js';
import { cloneCommand } from '../../../cli/commands/clone.js';
import { enqueueCommand } from '../../../cli/commands/enqueue.js';
import { extendCommand } from '../../../cli/commands/extend.js';
import { rerunCommand } from '../../../cli/commands/rerun.js';
import { statusCommand } from '../../../cli/commands/status.js';
import { HarrowError } from '../../../protocol/errors.js';
import { captureOutput } from '../../unit/cli/fake-server.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import {
  FakeAgent,
  createSweep,
  expectError,
  expectOk,
  getSweep,
  http,
  newToken,
  postJson,
  postYaml,
  startTestController,
  waitRun,
  waitSweep,
  type TestController,
} from './controller-harness.js';

const opts = await needServices();

/** Runs a CLI verb in-process against the test's controller; returns its exit code and output. */
async function cli(verb: ApiVerb, argv: string[], url: string): Promise<{ code: number; text: string }> {
  const out = captureOutput();
  const code = await verb.runWith(argv, { env: { HARROW_URL: url }, stdout: out });
  return { code, text: out.text() };
}

describe('steering a sweep (postgres)', { ...opts, timeout: 120_000 }, () => {
  let c: TestController;
  let url: string;

  before(async () => {
    c = await startTestController();
    url = c.url;
  });
  after(async () => {
    await c?.close();
  });

  const listRuns = (sweepId: string, query = '') => expectOk(ListRunsResponseSchema, http(url, `/api/sweeps/${sweepId}/runs${query}`));
  const steer = (path: string, body: unknown, status = 201) => expectOk(SteerResponseSchema, postJson(url, path, body), status);

  /** The agent advertises `slots` until `expected` runs exist (any state), then withdraws. */
  async function queueRuns(agent: FakeAgent, slots: number, expected: number): Promise<RunSummary[]> {
    await agent.advertise(slots);
    const runs = await waitFor(`${expected} runs`, async () => {
      const r = await listRuns(agent.sweepId, '?limit=500');
      return r.total >= expected ? r : undefined;
    });
    await agent.withdraw();
    return runs.runs.sort((a, b) => a.number - b.number);
  }

  async function play(agent: FakeAgent, runId: string, outcome: 'finished' | 'failed', value = 0.5, gpu: string | null = null): Promise<void> {
    const token = newToken();
    await agent.claim(runId, token, { gpu });
    await waitRun(url, runId, 'running', (r) => r.state === 'running');
    await agent.metrics(runId, token, [[0, 'loss', value]]);
    await agent.end(runId, token, outcome);
    await waitRun(url, runId, outcome, (r) => r.state === outcome);
  }

  const yaml = (name: string, extra: string[] = [], params = ['  x: {min: 0.0, max: 1.0}', '  opt: {values: [adam, sgd]}']) =>
    [`name: ${name}`, 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', ...extra, 'parameters:', ...params, ''].join('\n');

  test('extend: a finished sweep runs again up to its new run_cap; lowering or a cap already reached is refused', async () => {
    const s = await createSweep(url, yaml('extend', ['run_cap: 2']));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const first = await queueRuns(agent, 2, 2);
    for (const r of first) await play(agent, r.id, 'finished');
    await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');

    // Only an extension reopens an ended sweep: resume still moves paused sweeps only.
    await expectError(postJson(url, `/api/sweeps/${s.id}/resume`, {}), 409, 'INVALID_STATE_TRANSITION');
    const low = await expectError(postJson(url, `/api/sweeps/${s.id}/extend`, { runCap: 2 }), 400, 'INVALID_REQUEST');
    assert.match(low.message, /extend raises it: give more than 2/);
    const extended = await steer(`/api/sweeps/${s.id}/extend`, { runCap: 4 }, 200);
    assert.equal(extended.sweep.state, 'running');
    assert.equal(extended.sweep.runCap, 4);
    assert.equal(extended.sweep.stateReason, 'extended: run_cap 2 → 4');
    assert.equal(await c.redis.get(c.keys.sweepState(s.id)), 'running', 'agents see it running again');

    const all = await queueRuns(agent, 5, 4);
    assert.deepEqual(all.map((r) => r.number), [1, 2, 3, 4], 'two more runs, and no more than the new cap');
    for (const r of all.slice(2)) await play(agent, r.id, 'finished');
    const done = await waitSweep(url, s.id, 'finished again', (x) => x.state === 'finished');
    assert.equal(done.stateReason, 'run cap of 4 reached');
    assert.equal(done.counts.total, 4);
  });

  test('extend: a canceled sweep runs again', async () => {
    const s = await createSweep(url, yaml('extend-canceled', ['run_cap: 3']));
    await expectOk(z.unknown(), postJson(url, `/api/sweeps/${s.id}/cancel`, {}));
    const r = await steer(`/api/sweeps/${s.id}/extend`, { runCap: 5 }, 200);
    assert.equal(r.sweep.state, 'running');
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const runs = await queueRuns(agent, 2, 2);
    assert.equal(runs.length >= 2, true, 'the scheduler proposes runs for it again');
    await expectOk(z.unknown(), postJson(url, `/api/sweeps/${s.id}/stop`, {}));
  });

  test('rerun: failed runs come back as new runs linked to them, with their params; run_cap rises by their number', async () => {
    const s = await createSweep(url, yaml('rerun', ['run_cap: 3', 'harrow: {pause_on_failures: false}']));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1, r2, r3] = await queueRuns(agent, 3, 3);
    await play(agent, r1!.id, 'failed');
    await play(agent, r2!.id, 'finished');
    await play(agent, r3!.id, 'failed');
    await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');

    const res = await steer(`/api/sweeps/${s.id}/rerun`, { states: ['failed', 'crashed'] });
    assert.equal(res.sweep.state, 'running');
    assert.equal(res.sweep.runCap, 5);
    assert.deepEqual(
      res.runs.map((r) => [r.number, r.state, r.rerunOf, r.params]),
      [
        [4, 'queued', r1!.id, r1!.params],
        [5, 'queued', r3!.id, r3!.params],
      ],
    );
    const again = await expectError(postJson(url, `/api/sweeps/${s.id}/rerun`, {}), 400, 'INVALID_REQUEST');
    assert.match(again.message, /nothing to rerun/);
    const detail = await expectOk(z.object({ events: z.array(z.object({ reason: z.string() })), proposal: z.unknown() }), http(url, `/api/runs/${res.runs[0]!.id}`));
    assert.match(detail.events[0]!.reason, /^rerun of run 1 \(failed/);
    assert.deepEqual(detail.proposal, { source: 'rerun', rerunOf: r1!.id });
    // The reruns run like any run; then the sweep finishes at its raised cap.
    for (const r of res.runs) await play(agent, r.id, 'finished');
    const done = await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');
    assert.equal(done.stateReason, 'run cap of 5 reached');
  });

  test('grid: a failed cell is rerun; extending a grid beyond its cells is refused with the reason', async () => {
    const grid = ['name: grid-rerun', 'method: grid', 'program: train.py', 'harrow: {pause_on_failures: false}', 'parameters:', '  x: {values: [1, 2, 3]}', ''].join('\n');
    const s = await createSweep(url, grid);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const cells = await queueRuns(agent, 3, 3);
    await play(agent, cells[0]!.id, 'finished');
    await play(agent, cells[1]!.id, 'failed');
    await play(agent, cells[2]!.id, 'finished');
    // The scheduler finds the grid exhausted when an agent asks for work.
    await agent.advertise(1);
    const ended = await waitSweep(url, s.id, 'grid exhausted', (x) => x.state === 'finished');
    assert.match(ended.stateReason ?? '', /grid exhausted/);

    const refused = await expectError(postJson(url, `/api/sweeps/${s.id}/extend`, { runCap: 5 }), 400, 'INVALID_REQUEST');
    assert.match(refused.message, /grid of 3 cells: it never makes more than 3 runs/);

    const res = await steer(`/api/sweeps/${s.id}/rerun`, {});
    assert.deepEqual(res.runs.map((r) => [r.params, r.rerunOf]), [[{ x: 2 }, cells[1]!.id]]);
    await play(agent, res.runs[0]!.id, 'finished');
    const done = await waitSweep(url, s.id, 'finished after the rerun', (x) => x.state === 'finished' && x.counts.finished === 3);
    assert.equal(done.counts.total, 4);
    await agent.withdraw();
    const refusedAgain = await expectError(postJson(url, `/api/sweeps/${s.id}/extend`, { runCap: 5 }), 400, 'INVALID_REQUEST');
    assert.match(refusedAgain.message, /grid of 3 cells \(plus 1 runs users added\): it never makes more than 4 runs/);
  });

  test('enqueue: a configuration outside the space is refused with its path; one inside is queued ahead and observed by the strategy', async () => {
    const grid = ['name: grid-enqueue', 'method: grid', 'program: train.py', 'parameters:', '  x: {values: [1, 2, 3]}', '  opt: {value: adam}', ''].join('\n');
    const s = await createSweep(url, grid);
    const bad = await expectError(postJson(url, `/api/sweeps/${s.id}/enqueue`, { params: [{ x: 2, opt: 'adam' }, { x: 5, opt: 'adam' }, { x: 1, opt: 'adam', lr: 1 }] }), 400, 'INVALID_REQUEST');
    assert.match(bad.message, /^configuration outside the sweep's space: 1\.x: 5 is not one of its values \(and 1 more\)/);
    assert.deepEqual(
      (bad.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path),
      ['1.x', '2.lr'],
    );
    assert.equal((await listRuns(s.id)).total, 0, 'all or nothing: none of the list was queued');

    const res = await expectOk(SteerResponseSchema, postYaml(url, `/api/sweeps/${s.id}/enqueue`, 'x: 2\nopt: adam\n'), 201);
    assert.deepEqual(res.runs.map((r) => [r.number, r.state, r.params]), [[1, 'queued', { x: 2, opt: 'adam' }]]);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const runs = await queueRuns(agent, 5, 3);
    await new Promise((r) => setTimeout(r, 500));
    const all = (await listRuns(s.id)).runs.sort((a, b) => a.number - b.number);
    // The grid saw the enqueued cell as pending: it proposes only the two others.
    assert.deepEqual(all.map((r) => r.params.x), [2, 1, 3]);
    assert.equal(runs[0]!.id, res.runs[0]!.id);
    const detail = await expectOk(z.object({ proposal: z.unknown() }), http(url, `/api/runs/${res.runs[0]!.id}`));
    assert.deepEqual(detail.proposal, { source: 'user' });
  });

  test('clone: a run with edited parameters, checked against the space', async () => {
    const s = await createSweep(url, yaml('clone'));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1] = await queueRuns(agent, 1, 1);
    await play(agent, r1!.id, 'finished');
    const res = await steer(`/api/runs/${r1!.id}/clone`, { params: { x: 0.75 } });
    assert.deepEqual(res.runs[0]!.params, { ...r1!.params, x: 0.75 });
    const detail = await expectOk(z.object({ proposal: z.unknown() }), http(url, `/api/runs/${res.runs[0]!.id}`));
    assert.deepEqual(detail.proposal, { source: 'user', clonedFrom: r1!.id, edited: ['x'] });
    const out = await expectError(postJson(url, `/api/runs/${r1!.id}/clone`, { params: { x: 5 } }), 400, 'INVALID_REQUEST');
    assert.match(out.message, /^configuration outside the sweep's space: x: 5 is outside \[0, 1\]/);
    const unknown = await expectError(postJson(url, `/api/runs/${r1!.id}/clone`, { params: { lr: 0.1 } }), 400, 'INVALID_REQUEST');
    assert.match(unknown.message, /lr: is not a parameter of this sweep/);
    await expectError(postJson(url, `/api/runs/nope-1/clone`, {}), 404, 'RUN_NOT_FOUND');
  });

  test('run_timeout: a run past its limit is asked to stop with that reason and ends stopped', async () => {
    const s = await createSweep(url, yaml('timeout', ['harrow: {run_timeout: 1s}']));
    assert.equal(s.runTimeoutMs, 1000);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1] = await queueRuns(agent, 1, 1);
    const token = newToken();
    await agent.claim(r1!.id, token);
    await waitRun(url, r1!.id, 'running', (r) => r.state === 'running');
    const control = await waitFor('the stop', async () => (await agent.control(r1!.id)) ?? undefined, 10_000);
    assert.deepEqual([control.action, control.reason], ['stop', 'run_timeout 1s exceeded']);
    await agent.end(r1!.id, token, 'stopped', { reason: control.reason });
    const run = await waitRun(url, r1!.id, 'stopped', (r) => r.state === 'stopped');
    assert.equal(run.stopInfo?.rule, 'run_timeout');
    assert.equal(run.stopInfo?.message, 'run_timeout 1s exceeded');
  });

  test('budget: GPU-hours count run time × GPUs held, shown being spent; when spent the sweep finishes', async () => {
    // 0.0004 GPU-hours is 1.44 GPU-seconds: 0.72 s of a run holding two GPUs.
    const s = await createSweep(url, yaml('budget', ['harrow: {budget: {gpu_hours: 0.0004}}']));
    assert.deepEqual(s.budget, { unit: 'gpu_hours', limit: 0.0004, spent: 0 });
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1, r2] = await queueRuns(agent, 2, 2);
    await agent.claim(r1!.id, newToken(), { gpu: '0,1' });
    await waitRun(url, r1!.id, 'running', (r) => r.state === 'running');
    const spending = await getSweep(url, s.id);
    assert.ok(spending.budget!.spent > 0 && spending.budget!.spent < 0.0004, `being spent: ${spending.budget!.spent}`);
    const done = await waitSweep(url, s.id, 'budget spent', (x) => x.state === 'finished', 10_000);
    assert.match(done.stateReason ?? '', /^budget spent: 0\.000\d+ of 0\.0004 gpu-hours$/);
    assert.ok(done.budget!.spent >= 0.0004);
    const r2now = await waitRun(url, r2!.id, 'canceled', (r) => r.state === 'canceled');
    assert.match(r2now.reason ?? '', /budget spent/);
    // A spent budget is not extended: the sweep would finish again at once.
    const refused = await expectError(postJson(url, `/api/sweeps/${s.id}/extend`, { runCap: 10 }), 409, 'INVALID_STATE_TRANSITION');
    assert.match(refused.message, /budget is spent/);
  });

  test('the CLI verbs: extend, rerun, enqueue a file, clone --set, status shows the budget', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-steer-'));
    try {
      const s = await createSweep(url, yaml('cli', ['run_cap: 1', 'harrow: {pause_on_failures: false, budget: {run_hours: 100}, run_timeout: 2h}']));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      const [r1] = await queueRuns(agent, 1, 1);
      await play(agent, r1!.id, 'failed');
      await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');

      const status = await cli(statusCommand, [s.id], url);
      assert.match(status.text, /Budget {3}0\.0\d*\/100 run-hours spent \(0%\)/);
      assert.match(status.text, /Timeout {2}2h 00m per run \(harrow\.run_timeout\)/);

      const rerun = await cli(rerunCommand, [s.id, '--state', 'failed'], url);
      assert.equal(rerun.code, 0);
      assert.match(rerun.text, new RegExp(`1 run rerun\\. Sweep ${s.id} is running \\(run_cap 2\\)\\.`));
      assert.match(rerun.text, new RegExp(`run #2 ${s.id}-2 queued \\(rerun of ${r1!.id}\\)`));

      const file = join(dir, 'params.yaml');
      await writeFile(file, '- {x: 0.1, opt: sgd}\n- {x: 0.2, opt: adam}\n');
      const enq = await cli(enqueueCommand, [s.id, file], url);
      assert.match(enq.text, /2 configurations queued\. .*\(run_cap 4\)/);
      await writeFile(file, '{x: 0.1, opt: rmsprop}\n');
      await assert.rejects(cli(enqueueCommand, [s.id, file], url), (err: unknown) => err instanceof HarrowError && /opt: "rmsprop" is not one of its values/.test(err.message));

      const clone = await cli(cloneCommand, [r1!.id, '--set', 'x=0.25', '--set', 'opt=sgd'], url);
      assert.match(clone.text, /Run .* cloned\. .*\(run_cap 5\)/);
      const runs = await listRuns(s.id, '?sort=number');
      assert.deepEqual(runs.runs.at(-1)!.params, { x: 0.25, opt: 'sgd' });

      const ext = await cli(extendCommand, [s.id, '--run-cap', '7'], url);
      assert.match(ext.text, /run_cap is now 7\./);
      await expectOk(z.unknown(), postJson(url, `/api/sweeps/${s.id}/cancel`, {}));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
