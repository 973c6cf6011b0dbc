/**
 * The controller's HTTP API, end to end inside one process: `startController` on a fresh Postgres
 * schema and a unique Redis prefix, spoken to over real HTTP. Runs are driven by a stand-in agent
 * that writes presence and XADDs claim/metrics/end reports exactly as `harrow agent` does, so
 * every run state is reached without spawning processes.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import {
  BestResponseSchema,
  ListRunsResponseSchema,
  MetricsResponseSchema,
  RunDetailSchema,
  RunSummarySchema,
  SweepDetailSchema,
  SweepSummarySchema,
  type ListRunsResponse,
  type RunSummary,
} from '../../../protocol/api.js';
import { allocateRunNumbers } from '../../../db/sweeps.js';
import { insertRuns } from '../../../db/runs.js';
import { needServices } from '../../helpers/services.js';
import { ROOT, waitFor } from '../../helpers/processes.js';
import {
  FakeAgent,
  SseReader,
  createSweep,
  expectError,
  expectOk,
  getRun,
  getSweep,
  http,
  newToken,
  postJson,
  postYaml,
  settled,
  startTestController,
  waitRun,
  waitSweep,
  type TestController,
} from './controller-harness.js';

const opts = await needServices();

const SweepListSchema = z.object({ sweeps: z.array(SweepSummarySchema) });

function randomSweep(o: { name?: string; goal?: 'minimize' | 'maximize'; metric?: string; runCap?: number; target?: number } = {}): string {
  const metric = o.metric ?? 'loss';
  return [
    `name: ${o.name ?? 'api-test'}`,
    'method: random',
    'program: train.py',
    `metric: {name: ${metric}, goal: ${o.goal ?? 'minimize'}${o.target === undefined ? '' : `, target: ${o.target}`}}`,
    ...(o.runCap === undefined ? [] : [`run_cap: ${o.runCap}`]),
    'parameters:',
    '  x: {min: 0.0, max: 1.0}',
    '  depth: {values: [1, 2, 3, 4, 5, 6, 7, 8]}',
    '',
  ].join('\n');
}

describe('controller HTTP API (Postgres)', { ...opts, timeout: 90_000 }, () => {
  let c: TestController;
  let url: string;

  before(async () => {
    c = await startTestController();
    url = c.url;
  });
  after(async () => {
    await c?.close();
  });

  const sweepStateKey = (id: string) => c.redis.get(c.keys.sweepState(id));
  const listRuns = (sweepId: string, query = '') => expectOk(ListRunsResponseSchema, http(url, `/api/sweeps/${sweepId}/runs${query}`));
  const ids = (r: ListRunsResponse) => r.runs.map((run) => run.id);

  /** Advertises `slots`, waits until the scheduler queued exactly `expected` runs, then withdraws. */
  async function queueRuns(agent: FakeAgent, slots: number, expected: number): Promise<RunSummary[]> {
    await agent.advertise(slots);
    const runs = await waitFor(
      `${expected} queued runs`,
      async () => {
        const r = await listRuns(agent.sweepId);
        return settled(r, expected) ? r : undefined;
      },
      10_000,
      50,
    );
    await agent.withdraw();
    assert.equal(runs.total, expected, `the scheduler queues idle slots + lookahead (${slots} + 1), no more`);
    return runs.runs;
  }

  /** Claims a run and waits until the controller accepted the claim. */
  async function claim(agent: FakeAgent, runId: string, token = newToken()): Promise<string> {
    await agent.claim(runId, token);
    await waitRun(url, runId, 'running', (r) => r.state === 'running' && r.agentId === agent.agentId);
    return token;
  }

  test('POST /api/sweeps with a YAML body creates a sweep (201, SweepDetail) and mirrors its state to Redis', async () => {
    const yaml = randomSweep({ name: 'from-yaml', runCap: 7 });
    for (const type of ['text/yaml', 'application/yaml', 'text/yaml; charset=utf-8']) {
      const res = await postYaml(url, '/api/sweeps', yaml, type);
      const sweep = await expectOk(SweepDetailSchema, Promise.resolve(res), 201);
      assert.match(sweep.id, /^[a-z0-9]{8}$/);
      assert.equal(sweep.name, 'from-yaml');
      assert.equal(sweep.state, 'running');
      assert.equal(sweep.method, 'random');
      assert.deepEqual(sweep.metric, { name: 'loss', goal: 'minimize' });
      assert.equal(sweep.runCap, 7);
      assert.equal(sweep.expectedRuns, null);
      assert.equal(sweep.config, yaml, 'the sweep file is stored verbatim');
      assert.equal(sweep.spec.method, 'random');
      assert.equal(sweep.agentCommand, `harrow agent ${sweep.id}`);
      assert.deepEqual(sweep.counts, { queued: 0, running: 0, finished: 0, failed: 0, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 0 }, 'no agent: no runs');
      assert.equal(sweep.best, null);
      assert.equal(await sweepStateKey(sweep.id), 'running', `${type}: the agents' state key`);
      assert.deepEqual(await getSweep(url, sweep.id), sweep, 'GET returns what POST returned');
    }
  });

  test('POST /api/sweeps with JSON {config, name}: config as an object or as text; name overrides the file', async () => {
    const object = { method: 'grid', program: 'train.py', metric: { name: 'acc', goal: 'maximize' }, parameters: { a: { values: [1, 2, 3] } } };
    const fromObject = await expectOk(SweepDetailSchema, postJson(url, '/api/sweeps', { config: object, name: 'json-object' }), 201);
    assert.equal(fromObject.name, 'json-object');
    assert.equal(fromObject.method, 'grid');
    assert.equal(fromObject.expectedRuns, 3, 'grid size is known at creation');
    assert.deepEqual(fromObject.metric, { name: 'acc', goal: 'maximize' });
    assert.deepEqual(JSON.parse(fromObject.config), object);

    const fromText = await expectOk(SweepDetailSchema, postJson(url, '/api/sweeps', { config: randomSweep({ name: 'in-file' }), name: 'overridden' }), 201);
    assert.equal(fromText.name, 'overridden');
    const fromTextNoName = await expectOk(SweepDetailSchema, postJson(url, '/api/sweeps', { config: randomSweep({ name: 'in-file' }) }), 201);
    assert.equal(fromTextNoName.name, 'in-file');
  });

  test('an invalid sweep file → 400 INVALID_SWEEP_CONFIG listing every problem with its dotted path', async () => {
    const bad = ['method: random', 'program: train.py', 'metric: {name: acc, goal: maximise}', 'parameters:', '  lr: {min: 0.1, max: 0.0001}', ''].join('\n');
    for (const [how, res] of [
      ['YAML body', postYaml(url, '/api/sweeps', bad)],
      ['JSON with text', postJson(url, '/api/sweeps', { config: bad })],
      [
        'JSON with an object',
        postJson(url, '/api/sweeps', { config: { method: 'random', program: 'train.py', metric: { name: 'acc', goal: 'maximise' }, parameters: { lr: { min: 0.1, max: 0.0001 } } } }),
      ],
    ] as const) {
      const err = await expectError(res, 400, 'INVALID_SWEEP_CONFIG');
      const issues = z.object({ issues: z.array(z.object({ path: z.string(), message: z.string().min(10) })) }).parse(err.details).issues;
      assert.deepEqual(
        issues.map((i) => i.path).sort(),
        ['metric.goal', 'parameters.lr.min'],
        `${how}: ${JSON.stringify(issues)}`,
      );
      assert.match(issues.find((i) => i.path === 'metric.goal')!.message, /maximize/, 'suggests the right spelling');
    }
    const list = await expectOk(SweepListSchema, http(url, '/api/sweeps'));
    assert.ok(!list.sweeps.some((s) => s.name === null && s.method === 'random' && s.metric?.name === 'acc'), 'nothing was stored');
  });

  test('every invalid fixture is refused over HTTP with exactly the paths it declares', async () => {
    const dir = join(ROOT, 'test/fixtures/sweeps/invalid');
    const files = readdirSync(dir).filter((f) => f.endsWith('.yaml')).sort();
    assert.ok(files.length >= 40, `only ${files.length} fixtures`);
    for (const file of files) {
      const text = readFileSync(join(dir, file), 'utf8');
      const expected = [...text.matchAll(/^# error:(.*)$/gm)].map((m) => m[1]!.trim());
      const err = await expectError(postYaml(url, '/api/sweeps', text), 400, 'INVALID_SWEEP_CONFIG').catch((e: Error) => {
        throw new Error(`${file}: ${e.message}`);
      });
      const issues = (err.details as { issues: Array<{ path: string; message: string }> }).issues;
      assert.deepEqual(
        issues.map((i) => i.path),
        expected,
        `${file}: ${JSON.stringify(issues)}`,
      );
    }
  });

  test('malformed or unusable request bodies → 400 {code, message}, never a stack trace or HTML', async () => {
    const malformed = await expectError(
      http(url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"config": "method: grid",' }),
      400,
      'INVALID_REQUEST',
    );
    assert.ok(malformed.message.length > 0);
    await expectError(http(url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '' }), 400, 'INVALID_REQUEST');
    const missing = await expectError(postJson(url, '/api/sweeps', { name: 'no config' }), 400, 'INVALID_REQUEST');
    const issues = (missing.details as { issues: Array<{ path: string }> }).issues;
    assert.deepEqual(
      issues.map((i) => i.path),
      ['body.config'],
    );
    await expectError(postJson(url, '/api/sweeps', ['not', 'an', 'object']), 400, 'INVALID_REQUEST');
    await expectError(http(url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/xml' }, body: '<sweep/>' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
    // A YAML body that is not YAML at all is a sweep-file problem, reported as such.
    await expectError(postYaml(url, '/api/sweeps', 'method: [grid\nparameters: {'), 400, 'INVALID_SWEEP_CONFIG');
  });

  test('GET /api/sweeps lists sweeps, filters by ?state=, and names the allowed states on a bad one', async () => {
    const a = await createSweep(url, randomSweep({ name: 'list-a' }));
    const b = await createSweep(url, randomSweep({ name: 'list-b' }));
    await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${b.id}/pause`, { method: 'POST' }));

    const all = await expectOk(SweepListSchema, http(url, '/api/sweeps'));
    const found = new Map(all.sweeps.map((s) => [s.id, s]));
    assert.equal(found.get(a.id)?.state, 'running');
    assert.equal(found.get(b.id)?.state, 'paused');

    const paused = await expectOk(SweepListSchema, http(url, '/api/sweeps?state=paused'));
    assert.ok(paused.sweeps.some((s) => s.id === b.id));
    assert.ok(!paused.sweeps.some((s) => s.id === a.id));
    assert.ok(paused.sweeps.every((s) => s.state === 'paused'));

    const both = await expectOk(SweepListSchema, http(url, '/api/sweeps?state=running,paused'));
    assert.ok(both.sweeps.some((s) => s.id === a.id) && both.sweeps.some((s) => s.id === b.id));
    assert.ok(both.sweeps.every((s) => s.state === 'running' || s.state === 'paused'));

    const bad = await expectError(http(url, '/api/sweeps?state=runing'), 400, 'INVALID_REQUEST');
    for (const s of ['running', 'paused', 'finished', 'canceled']) assert.ok(bad.message.includes(s), `message names ${s}: ${bad.message}`);
    assert.ok(bad.message.includes('runing'), 'and the bad value');
    assert.deepEqual(
      (bad.details as { issues: Array<{ path: string }> }).issues.map((i) => i.path),
      ['query.state'],
    );
  });

  test('unknown sweep or run → 404 with its code', async () => {
    await expectError(http(url, '/api/sweeps/nosuchid'), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(url, '/api/sweeps/nosuchid/runs'), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(url, '/api/sweeps/nosuchid/best'), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(url, '/api/sweeps/nosuchid/events'), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(url, '/api/sweeps/nosuchid/pause', { method: 'POST' }), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(url, '/api/runs/nosuchid-1'), 404, 'RUN_NOT_FOUND');
    await expectError(http(url, '/api/runs/nosuchid-1/metrics'), 404, 'RUN_NOT_FOUND');
    await expectError(postJson(url, '/api/runs/nosuchid-1/stop', {}), 404, 'RUN_NOT_FOUND');
  });

  test('pause/resume/stop/cancel follow the state machine; disallowed moves → 409; Redis follows each move', async () => {
    const s = await createSweep(url, randomSweep({ name: 'transitions' }));
    const act = (action: string) => http(url, `/api/sweeps/${s.id}/${action}`, { method: 'POST' });

    const paused = await expectOk(SweepDetailSchema, act('pause'));
    assert.equal(paused.state, 'paused');
    assert.equal(paused.stateReason, 'paused by user');
    assert.equal(await sweepStateKey(s.id), 'paused');
    await expectError(act('pause'), 409, 'INVALID_STATE_TRANSITION');

    const resumed = await expectOk(SweepDetailSchema, act('resume'));
    assert.equal(resumed.state, 'running');
    assert.equal(await sweepStateKey(s.id), 'running');
    await expectError(act('resume'), 409, 'INVALID_STATE_TRANSITION');

    const stopped = await expectOk(SweepDetailSchema, act('stop'));
    assert.equal(stopped.state, 'finished');
    assert.equal(stopped.stateReason, 'stopped by user');
    assert.ok(stopped.endedAt !== null);
    assert.equal(await sweepStateKey(s.id), 'finished');
    for (const action of ['resume', 'pause', 'stop', 'cancel']) {
      const err = await expectError(act(action), 409, 'INVALID_STATE_TRANSITION');
      assert.match(err.message, /finished/, `${action}: the message says why`);
    }
    assert.equal((await getSweep(url, s.id)).state, 'finished', 'a refused move changes nothing');
    assert.equal(await sweepStateKey(s.id), 'finished');
  });

  test('cancel: queued runs are canceled, running ones get a cancel control; the sweep key says canceled', async () => {
    const s = await createSweep(url, randomSweep({ name: 'cancel' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1, r2] = await queueRuns(agent, 1, 2);
    const token = await claim(agent, r1!.id);

    const canceled = await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/cancel`, { method: 'POST' }));
    assert.equal(canceled.state, 'canceled');
    assert.equal(await sweepStateKey(s.id), 'canceled');
    assert.equal(canceled.counts.canceled, 1, 'the queued run');
    assert.equal(canceled.counts.running, 1, 'the running run ends when its agent says so');
    assert.equal((await getRun(url, r2!.id)).state, 'canceled');
    const control = await agent.control(r1!.id);
    assert.equal(control?.action, 'cancel');
    await expectError(http(url, `/api/sweeps/${s.id}/resume`, { method: 'POST' }), 409, 'INVALID_STATE_TRANSITION');

    await agent.end(r1!.id, token, 'canceled');
    const ended = await waitRun(url, r1!.id, 'canceled', (r) => r.state === 'canceled');
    assert.deepEqual(
      ended.events.map((e) => `${e.from ?? '-'}>${e.to}`),
      ['->queued', 'queued>running', 'running>canceled'],
    );
  });

  test('runs of a minimize sweep: sort by metric (best first) and -metric, state filter, pagination, run detail, metrics', async () => {
    const s = await createSweep(url, randomSweep({ name: 'runs-min' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const queued = await queueRuns(agent, 5, 6);
    assert.deepEqual(
      queued.map((r) => r.number),
      [1, 2, 3, 4, 5, 6],
    );
    assert.ok(queued.every((r) => r.state === 'queued' && r.attempt === 0 && typeof r.params.x === 'number'));
    const [r1, r2, r3, r4, r5, r6] = queued.map((r) => r.id) as [string, string, string, string, string, string];

    const tokens = new Map<string, string>();
    for (const id of [r1, r2, r3, r4, r5]) tokens.set(id, await claim(agent, id));
    const tok = (id: string) => tokens.get(id)!;
    await agent.metrics(r1, tok(r1), [
      [0, 'loss', 0.9],
      [0, 'acc', 0.1],
      [1, 'loss', 0.5],
      [1, 'acc', 0.4],
      [2, 'loss', 0.7],
    ]);
    await agent.metrics(r2, tok(r2), [
      [0, 'loss', 0.6],
      [1, 'loss', 0.3],
    ]);
    // A diverged value travels as 'nan': stored, shown as null, never anyone's best.
    await agent.metrics(r3, tok(r3), [
      [0, 'loss', 0.8],
      [1, 'loss', 'nan'],
    ]);
    await agent.metrics(r4, tok(r4), [[0, 'loss', 0.1]]);
    await agent.metrics(r5, tok(r5), [[0, 'loss', 0.4]]);
    await waitRun(url, r5, 'metrics stored', (r) => r.value === 0.4);

    // End one at a time so the finishing order (the best curve's x axis) is r1, r3, r2.
    await agent.end(r1, tok(r1), 'finished');
    await waitRun(url, r1, 'finished', (r) => r.state === 'finished');
    await agent.end(r3, tok(r3), 'finished');
    await waitRun(url, r3, 'finished', (r) => r.state === 'finished');
    await agent.end(r2, tok(r2), 'finished');
    await waitRun(url, r2, 'finished', (r) => r.state === 'finished');
    await agent.end(r4, tok(r4), 'failed', { exitCode: 3, reason: 'exit code 3', tail: 'Traceback: boom\n' });
    await waitRun(url, r4, 'failed', (r) => r.state === 'failed');

    const byMetric = await listRuns(s.id, '?sort=metric');
    assert.deepEqual(ids(byMetric), [r4, r2, r5, r1, r3, r6], 'lowest loss first; the run without a value last');
    assert.deepEqual(
      byMetric.runs.map((r) => r.value),
      [0.1, 0.3, 0.4, 0.5, 0.8, null],
    );
    const reversed = await listRuns(s.id, '?sort=-metric');
    assert.deepEqual(ids(reversed), [r3, r1, r5, r2, r4, r6], 'worst first; no value still last');

    const finished = await listRuns(s.id, '?state=finished&sort=metric');
    assert.equal(finished.total, 3);
    assert.deepEqual(ids(finished), [r2, r1, r3]);
    const ended = await listRuns(s.id, '?state=finished,failed');
    assert.equal(ended.total, 4);
    assert.deepEqual(ids(ended), [r1, r2, r3, r4]);
    assert.deepEqual(ids(await listRuns(s.id, '?state=queued')), [r6]);
    assert.deepEqual(ids(await listRuns(s.id, '?state=running')), [r5]);
    await expectError(http(url, `/api/sweeps/${s.id}/runs?state=done`), 400, 'INVALID_REQUEST');
    await expectError(http(url, `/api/sweeps/${s.id}/runs?sort=loss`), 400, 'INVALID_REQUEST');
    await expectError(http(url, `/api/sweeps/${s.id}/runs?limit=0`), 400, 'INVALID_REQUEST');
    await expectError(http(url, `/api/sweeps/${s.id}/runs?offset=-1`), 400, 'INVALID_REQUEST');

    const page = await listRuns(s.id, '?limit=2&offset=1');
    assert.equal(page.total, 6, 'total counts every match, not the page');
    assert.deepEqual(ids(page), [r2, r3]);
    const lastPage = await listRuns(s.id, '?limit=4&offset=4&sort=-number');
    assert.deepEqual(ids(lastPage), [r2, r1]);
    assert.equal(lastPage.total, 6);
    const metricPage = await listRuns(s.id, '?sort=metric&limit=2&offset=2');
    assert.deepEqual(ids(metricPage), [r5, r1], 'pagination applies after sorting');
    assert.equal(metricPage.nextCursor, null, 'only the orders by number carry a cursor');

    // The cursor: each page starts after the last one's final run, with the same filter and total.
    const walked: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 5; i++) {
      const p: ListRunsResponse = await listRuns(s.id, `?limit=2&sort=-number${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      assert.equal(p.total, 6);
      walked.push(...ids(p));
      cursor = p.nextCursor;
      if (!cursor) break;
    }
    assert.deepEqual(walked, [r6, r5, r4, r3, r2, r1]);
    const firstTwo = await listRuns(s.id, '?limit=2&sort=number&state=finished,failed');
    const nextTwo = await listRuns(s.id, `?limit=2&sort=number&state=finished,failed&cursor=${firstTwo.nextCursor}`);
    assert.deepEqual([...ids(firstTwo), ...ids(nextTwo)], [r1, r2, r3, r4]);
    assert.equal(nextTwo.total, 4);
    await expectError(http(url, `/api/sweeps/${s.id}/runs?cursor=nonsense`), 400, 'INVALID_REQUEST');
    await expectError(http(url, `/api/sweeps/${s.id}/runs?sort=number&cursor=${firstTwo.nextCursor}&offset=2`), 400, 'INVALID_REQUEST');
    await expectError(http(url, `/api/sweeps/${s.id}/runs?sort=-number&cursor=${firstTwo.nextCursor}`), 400, 'INVALID_REQUEST');

    // One run in full: its events with reasons, its summary and metric history.
    const d1 = await getRun(url, r1);
    assert.equal(d1.state, 'finished');
    assert.equal(d1.attempt, 1);
    assert.equal(d1.exitCode, 0);
    assert.equal(d1.agentId, agent.agentId);
    assert.equal(d1.host, 'test-box');
    assert.equal(d1.value, 0.5);
    assert.equal(d1.valueStep, 1);
    assert.equal(d1.latest, 0.7);
    assert.deepEqual(d1.summary.loss, { last: 0.7, min: 0.5, max: 0.9, count: 3, step: 2 });
    assert.deepEqual(d1.summary.acc, { last: 0.4, min: 0.1, max: 0.4, count: 2, step: 1 });
    assert.equal(d1.outputTail, `tail of ${r1}\n`);
    assert.ok(d1.startedAt && d1.endedAt && Date.parse(d1.endedAt) >= Date.parse(d1.startedAt));
    assert.deepEqual(
      d1.events.map((e) => ({ attempt: e.attempt, from: e.from, to: e.to, reason: e.reason })),
      [
        { attempt: 0, from: null, to: 'queued', reason: 'proposed by random' },
        { attempt: 1, from: 'queued', to: 'running', reason: `claimed by agent ${agent.agentId}` },
        { attempt: 1, from: 'running', to: 'finished', reason: 'exit code 0' },
      ],
    );
    assert.deepEqual(
      d1.metrics.loss?.map((p) => [p.step, p.value]),
      [
        [0, 0.9],
        [1, 0.5],
        [2, 0.7],
      ],
    );
    assert.deepEqual(
      d1.metrics.acc?.map((p) => [p.step, p.value]),
      [
        [0, 0.1],
        [1, 0.4],
      ],
    );

    const d3 = await getRun(url, r3);
    assert.deepEqual(
      d3.metrics.loss?.map((p) => [p.step, p.value]),
      [
        [0, 0.8],
        [1, null],
      ],
    );
    assert.deepEqual(d3.summary.loss, { last: 0.8, min: 0.8, max: 0.8, count: 1, step: 0 }, 'NaN is not summarized');

    const d4 = await getRun(url, r4);
    assert.equal(d4.state, 'failed');
    assert.equal(d4.exitCode, 3);
    assert.equal(d4.reason, 'exit code 3');
    assert.equal(d4.outputTail, 'Traceback: boom\n');
    assert.equal(d4.events.at(-1)?.reason, 'exit code 3');
    assert.equal(d4.events.at(-1)?.to, 'failed');
    assert.equal(d4.events.length, 3, 'a failed run is not retried by default');

    const d6 = await getRun(url, r6);
    assert.equal(d6.state, 'queued');
    assert.deepEqual(d6.metrics, {});

    const all = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${r1}/metrics`));
    assert.equal(all.runId, r1);
    assert.equal(all.attempt, 1);
    assert.deepEqual(
      all.points.map((p) => `${p.name}@${p.step}=${p.value}`),
      ['loss@0=0.9', 'acc@0=0.1', 'loss@1=0.5', 'acc@1=0.4', 'loss@2=0.7'],
    );
    const lossOnly = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${r1}/metrics?name=loss`));
    assert.deepEqual(
      lossOnly.points.map((p) => p.value),
      [0.9, 0.5, 0.7],
    );
    assert.ok(lossOnly.points.every((p) => p.name === 'loss' && !Number.isNaN(Date.parse(p.t))));
    const both = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${r1}/metrics?name=acc,loss`));
    assert.equal(both.points.length, 5);
    const none = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${r1}/metrics?name=nope`));
    assert.deepEqual(none.points, []);
    const otherAttempt = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${r1}/metrics?attempt=2`));
    assert.equal(otherAttempt.attempt, 2);
    assert.deepEqual(otherAttempt.points, []);
    await expectError(http(url, `/api/runs/${r1}/metrics?attempt=0`), 400, 'INVALID_REQUEST');

    // Best so far: the lowest finished value (the failed run's 0.1 does not count); the curve
    // holds only the improving points, indexed 1-based by finishing order.
    const best = await expectOk(BestResponseSchema, http(url, `/api/sweeps/${s.id}/best`));
    assert.equal(best.counted, 3);
    assert.deepEqual(best.best, { runId: r2, number: 2, params: queued[1]!.params, value: 0.3, step: 1 });
    assert.deepEqual(
      best.curve.map((p) => ({ index: p.index, runId: p.runId, number: p.number, value: p.value })),
      [
        { index: 1, runId: r1, number: 1, value: 0.5 },
        { index: 3, runId: r2, number: 2, value: 0.3 },
      ],
    );
    assert.ok(Date.parse(best.curve[0]!.at) <= Date.parse(best.curve[1]!.at));

    const detail = await getSweep(url, s.id);
    assert.deepEqual(detail.counts, { queued: 1, running: 1, finished: 3, failed: 1, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 6 });
    assert.deepEqual(detail.best, best.best);
    const listed = (await expectOk(SweepListSchema, http(url, '/api/sweeps'))).sweeps.find((x) => x.id === s.id);
    assert.deepEqual(listed?.best, best.best, 'the list carries the best run too');
    assert.deepEqual(listed?.counts, detail.counts);
  });

  test('a runs page is one snapshot: its rows agree with its total while runs are being created', async () => {
    const s = await createSweep(url, randomSweep({ name: 'snapshot' }));
    const db = c.handle.ctx.db;
    // Runs are created here as the scheduler creates them (numbers allocated, rows inserted, one
    // transaction each), as fast as possible, while clients read the list.
    let creating = true;
    const creator = (async () => {
      for (let i = 0; creating && i < 400; i++) {
        await db.transaction(async (tx) => {
          const n = await allocateRunNumbers(tx, s.id, 1);
          await insertRuns(tx, [{ id: `${s.id}-${n}`, sweepId: s.id, number: n, params: { x: n }, paramsHash: `h${n}`, proposal: null }], 'proposed by test');
        });
      }
    })();
    const inconsistent: string[] = [];
    try {
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && inconsistent.length === 0) {
        const pages = await Promise.all(Array.from({ length: 6 }, () => listRuns(s.id, '?limit=1000')));
        for (const p of pages) if (p.runs.length !== p.total) inconsistent.push(`${p.runs.length} rows, total ${p.total}`);
      }
    } finally {
      creating = false;
      await creator;
    }
    // Regression: `listRuns` once read the rows and the total with two statements, so a run created
    // between them gave a page whose total disagreed with its rows (`{ runs: [], total: 21 }`).
    assert.deepEqual(inconsistent, [], 'pages whose rows disagree with their total');
  });

  test('runs of a maximize sweep: sort=metric is still best (highest) first; best and curve follow the goal', async () => {
    const s = await createSweep(url, randomSweep({ name: 'runs-max', goal: 'maximize', metric: 'acc' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const runs = await queueRuns(agent, 2, 3);
    const values = [0.2, 0.9, 0.5];
    for (const [i, run] of runs.entries()) {
      const token = await claim(agent, run.id);
      await agent.metrics(run.id, token, [
        [0, 'acc', values[i]! - 0.1],
        [1, 'acc', values[i]!],
      ]);
      await agent.end(run.id, token, 'finished');
      await waitRun(url, run.id, 'finished', (r) => r.state === 'finished');
    }
    const [a, b, d] = runs.map((r) => r.id) as [string, string, string];
    const byMetric = await listRuns(s.id, '?sort=metric');
    assert.deepEqual(ids(byMetric), [b, d, a]);
    assert.deepEqual(
      byMetric.runs.map((r) => r.value),
      [0.9, 0.5, 0.2],
    );
    assert.deepEqual(ids(await listRuns(s.id, '?sort=-metric')), [a, d, b]);
    const best = await expectOk(BestResponseSchema, http(url, `/api/sweeps/${s.id}/best`));
    assert.equal(best.best?.runId, b);
    assert.equal(best.best?.value, 0.9);
    assert.equal(best.best?.step, 1);
    assert.deepEqual(
      best.curve.map((p) => [p.index, p.runId, p.value]),
      [
        [1, a, 0.2],
        [2, b, 0.9],
      ],
    );
  });

  test('a sweep without a metric has no best', async () => {
    const s = await expectOk(
      SweepDetailSchema,
      postJson(url, '/api/sweeps', { config: { method: 'random', program: 'train.py', parameters: { x: { min: 0, max: 1 } } } }),
      201,
    );
    assert.equal(s.metric, null);
    assert.deepEqual(await expectOk(BestResponseSchema, http(url, `/api/sweeps/${s.id}/best`)), { best: null, counted: 0, curve: [] });
  });

  test('run_cap is respected exactly, however many idle slots are advertised; the sweep then finishes', async () => {
    const s = await createSweep(url, randomSweep({ name: 'cap', runCap: 3 }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await agent.advertise(50);
    const first = await waitFor(
      '3 runs',
      async () => {
        const r = await listRuns(s.id);
        return settled(r, 3) ? r : undefined;
      },
      10_000,
      50,
    );
    assert.equal(first.total, 3);
    // Keep advertising while every run is claimed and finished: each of those pokes the scheduler.
    for (const [i, run] of first.runs.entries()) {
      const token = await claim(agent, run.id);
      await agent.advertise(50);
      await agent.metrics(run.id, token, [[0, 'loss', 1 - i / 10]]);
      await agent.end(run.id, token, 'finished');
      await waitRun(url, run.id, 'finished', (r) => r.state === 'finished');
      assert.equal((await listRuns(s.id)).total, 3, `after run ${i + 1} finished`);
    }
    const done = await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');
    // A pass run right now, with 50 slots still advertised, must not add a run either.
    await agent.advertise(50);
    await c.handle.scheduler.schedule(s.id);
    assert.match(done.stateReason ?? '', /run cap of 3 reached/);
    assert.equal(done.counts.total, 3);
    assert.equal(done.counts.finished, 3);
    assert.equal(await sweepStateKey(s.id), 'finished');
    assert.equal((await listRuns(s.id)).total, 3, 'never one run over the cap');
  });

  test('a grid sweep hands out every cell once and finishes when exhausted', async () => {
    const yaml = [
      'name: grid',
      'method: grid',
      'program: train.py',
      'metric: {name: loss, goal: minimize}',
      'parameters:',
      '  a: {values: [1, 2]}',
      '  b: {values: [x, y]}',
      '',
    ].join('\n');
    const s = await createSweep(url, yaml);
    assert.equal(s.expectedRuns, 4);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await agent.advertise(10);
    const runs = await waitFor(
      '4 grid runs',
      async () => {
        const r = await listRuns(s.id);
        return settled(r, 4) ? r : undefined;
      },
      10_000,
      50,
    );
    assert.equal(runs.total, 4, 'a 2×2 grid has 4 cells, whatever the demand');
    assert.deepEqual(runs.runs.map((r) => `${String(r.params.a)}${String(r.params.b)}`).sort(), ['1x', '1y', '2x', '2y']);
    assert.equal((await getSweep(url, s.id)).state, 'running', 'not finished while cells are still to run');
    for (const [i, run] of runs.runs.entries()) {
      const token = await claim(agent, run.id);
      await agent.metrics(run.id, token, [[0, 'loss', i]]);
      await agent.end(run.id, token, 'finished');
    }
    const done = await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');
    assert.match(done.stateReason ?? '', /grid exhausted/);
    assert.deepEqual(done.counts, { queued: 0, running: 0, finished: 4, failed: 0, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 4 });
    assert.equal(await sweepStateKey(s.id), 'finished');
  });

  test('metric.target reached: the sweep finishes at once, queued runs are canceled, running ones may finish', async () => {
    const s = await createSweep(url, randomSweep({ name: 'target', target: 0.1 }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [r1, r2, r3] = (await queueRuns(agent, 2, 3)).map((r) => r.id) as [string, string, string];
    const t1 = await claim(agent, r1);
    const t2 = await claim(agent, r2);
    await agent.metrics(r1, t1, [[0, 'loss', 0.5]]);
    await waitRun(url, r1, 'value', (r) => r.value === 0.5);
    assert.equal((await getSweep(url, s.id)).state, 'running', '0.5 is not at the target');

    await agent.metrics(r2, t2, [[0, 'loss', 0.05]]);
    const done = await waitSweep(url, s.id, 'finished', (x) => x.state === 'finished');
    assert.match(done.stateReason ?? '', /metric target reached by run/);
    assert.ok(done.stateReason?.includes(r2), done.stateReason ?? '');
    assert.equal(await sweepStateKey(s.id), 'finished');
    assert.equal((await getRun(url, r3)).state, 'canceled');
    assert.equal((await getRun(url, r1)).state, 'running');
    assert.equal((await getRun(url, r2)).state, 'running');

    await agent.end(r2, t2, 'finished');
    await agent.end(r1, t1, 'finished');
    await waitRun(url, r1, 'finished', (r) => r.state === 'finished');
    await waitRun(url, r2, 'finished', (r) => r.state === 'finished');
    const later = await getSweep(url, s.id);
    assert.equal(later.best?.runId, r2);
    assert.equal(later.best?.value, 0.05);
    assert.equal(later.counts.total, 3, 'no run is created after the target');
  });

  test('a paused sweep queues nothing however many agents wait; resume tops the queue up again', async () => {
    const s = await createSweep(url, randomSweep({ name: 'pause-scheduling' }));
    await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/pause`, { method: 'POST' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await agent.advertise(4);
    // A scheduling pass run right here (no waiting on timers) must find nothing to do.
    await c.handle.scheduler.schedule(s.id);
    await c.handle.scheduler.schedule(s.id);
    assert.equal((await listRuns(s.id)).total, 0);

    await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/resume`, { method: 'POST' }));
    const runs = await waitFor('runs after resume', async () => {
      const r = await listRuns(s.id);
      return settled(r, 5) ? r : undefined;
    });
    await agent.withdraw();
    assert.equal(runs.total, 5, '4 idle slots + 1 lookahead');
  });

  test('a retried run is ranked by its current attempt: value, summary, metrics and best ignore the failed attempt', async () => {
    const yaml = `${randomSweep({ name: 'retry' })}harrow:\n  retry: {max_attempts: 2, on: [failed]}\n`;
    const s = await createSweep(url, yaml);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [run] = await queueRuns(agent, 1, 2);
    const id = run!.id;

    const t1 = await claim(agent, id);
    await agent.metrics(id, t1, [[0, 'loss', 0.3]]);
    await agent.end(id, t1, 'failed', { exitCode: 1 });
    const requeued = await waitRun(url, id, 'requeued for attempt 2', (r) => r.state === 'queued' && r.events.some((e) => e.to === 'failed'));
    assert.equal(requeued.attempt, 1);
    assert.deepEqual(
      requeued.events.map((e) => `${e.attempt}:${e.from ?? '-'}>${e.to}`),
      ['0:->queued', '1:queued>running', '1:running>failed', '1:failed>queued'],
    );
    assert.match(requeued.events.at(-1)!.reason, /retry after failed: attempt 2 of 2/);

    const t2 = await claim(agent, id);
    await agent.metrics(id, t2, [
      [0, 'loss', 0.9],
      [1, 'loss', 0.8],
    ]);
    await agent.end(id, t2, 'finished');
    const done = await waitRun(url, id, 'finished', (r) => r.state === 'finished');
    assert.equal(done.attempt, 2);
    assert.equal(done.exitCode, 0);
    assert.deepEqual(
      done.metrics.loss?.map((p) => p.value),
      [0.9, 0.8],
      'the history shown is the current attempt',
    );
    const second = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${id}/metrics`));
    assert.equal(second.attempt, 2);
    assert.deepEqual(
      second.points.map((p) => p.value),
      [0.9, 0.8],
    );
    const first = await expectOk(MetricsResponseSchema, http(url, `/api/runs/${id}/metrics?attempt=1`));
    assert.deepEqual(
      first.points.map((p) => p.value),
      [0.3],
      'the failed attempt keeps its own points',
    );

    // Regression: `claimRun` once kept the run's metric summary across attempts, so the finished
    // attempt 2 was ranked by attempt 1's 0.3, a value that is not in its history.
    assert.equal(done.value, 0.8, `value ${done.value} comes from the failed attempt`);
    assert.equal(done.valueStep, 1);
    assert.deepEqual(done.summary.loss, { last: 0.8, min: 0.8, max: 0.9, count: 2, step: 1 });
    const best = await expectOk(BestResponseSchema, http(url, `/api/sweeps/${s.id}/best`));
    assert.equal(best.best?.value, 0.8, 'best-so-far must not report a value the finished attempt never logged');
  });

  test('a stale token: a second claim is answered refused (nothing stored in Redis); its metrics and end are ignored', async () => {
    const s = await createSweep(url, randomSweep({ name: 'fencing' }));
    const agentA = new FakeAgent(c.redis, c.keys, s.id, 'agent-a');
    const agentB = new FakeAgent(c.redis, c.keys, s.id, 'agent-b');
    const [run] = await queueRuns(agentA, 1, 2);
    const id = run!.id;
    const tokenA = newToken();
    assert.deepEqual(await agentA.claimAndAwait(id, tokenA), { verdict: 'accepted', attempt: 1 }, 'the first claim is accepted as attempt 1');
    assert.deepEqual(await agentA.claimAndAwait(id, tokenA), { verdict: 'accepted', attempt: 1 }, 'the same claim again (a lost answer) is answered again');
    assert.equal(await agentA.control(id), null, 'an accepted claim gets no control');

    const tokenB = newToken();
    const refused = await agentB.claimAndAwait(id, tokenB);
    assert.equal(refused.verdict, 'refused');
    assert.equal(await agentB.control(id), null, 'a refused claim leaves no control key behind');

    await agentB.metrics(id, tokenB, [
      [0, 'loss', 0.123],
      [1, 'loss', 0.01],
    ]);
    await agentB.end(id, tokenB, 'finished');
    // Reports are applied in stream order: once A's later point is stored, B's were seen and refused.
    await agentA.metrics(id, tokenA, [[0, 'loss', 0.7]]);
    const r = await waitRun(url, id, "A's point", (x) => (x.metrics.loss ?? []).some((p) => p.value === 0.7));
    assert.equal(r.state, 'running');
    assert.equal(r.attempt, 1);
    assert.equal(r.agentId, 'agent-a');
    assert.deepEqual(
      r.metrics.loss?.map((p) => p.value),
      [0.7],
      "B's points were not stored",
    );
    assert.equal(r.value, 0.7, "B's better values did not reach the summary");
    assert.equal(r.summary.loss?.count, 1);
    assert.deepEqual(
      r.events.map((e) => e.to),
      ['queued', 'running'],
      "B's end did not end the run",
    );
    assert.equal(r.exitCode, null);

    await agentA.end(id, tokenA, 'finished');
    const done = await waitRun(url, id, 'finished', (x) => x.state === 'finished');
    assert.equal(done.agentId, 'agent-a');
    assert.equal(done.value, 0.7);
  });

  test('POST /api/runs/:id/stop: a queued run is canceled; a running run is told to stop and ends stopped', async () => {
    const s = await createSweep(url, randomSweep({ name: 'stop-run' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const [running, queuedRun] = (await queueRuns(agent, 1, 2)).map((r) => r.id) as [string, string];
    const token = await claim(agent, running);

    const canceled = await expectOk(RunDetailSchema, postJson(url, `/api/runs/${queuedRun}/stop`, {}));
    assert.equal(canceled.state, 'canceled');
    assert.equal(canceled.reason, 'stopped by user');
    assert.deepEqual(
      { from: canceled.events.at(-1)?.from, to: canceled.events.at(-1)?.to, reason: canceled.events.at(-1)?.reason },
      { from: 'queued', to: 'canceled', reason: 'stopped by user' },
    );
    await expectError(postJson(url, `/api/runs/${queuedRun}/stop`, {}), 409, 'INVALID_STATE_TRANSITION');

    const stopping = await expectOk(RunDetailSchema, postJson(url, `/api/runs/${running}/stop`, { reason: 'enough of this' }));
    assert.equal(stopping.state, 'running', 'a running run ends when its agent reports it');
    assert.equal(stopping.stopInfo?.rule, 'user');
    assert.equal(stopping.stopInfo?.message, 'enough of this');
    const control = await agent.control(running);
    assert.equal(control?.action, 'stop');
    assert.equal(control?.token, token, "addressed to the run's current attempt");
    assert.equal(control?.reason, 'enough of this');
    // Idempotent: a second request keeps the first reason.
    const again = await expectOk(RunDetailSchema, postJson(url, `/api/runs/${running}/stop`, { reason: 'other' }));
    assert.deepEqual(again.stopInfo, stopping.stopInfo);

    await agent.end(running, token, 'stopped', { reason: 'stopped by controller: enough of this' });
    const stopped = await waitRun(url, running, 'stopped', (r) => r.state === 'stopped');
    assert.equal(stopped.reason, 'stopped by controller: enough of this');
    assert.deepEqual(
      stopped.events.map((e) => `${e.from ?? '-'}>${e.to}`),
      ['->queued', 'queued>running', 'running>stopped'],
    );
    await expectError(postJson(url, `/api/runs/${running}/stop`, {}), 409, 'INVALID_STATE_TRANSITION');
    await expectError(postJson(url, `/api/runs/${running}/stop`, { reason: 'x'.repeat(501) }), 400, 'INVALID_REQUEST');
  });

  test('SSE: a sweep event on connect, run events as runs change, a best event when a better run finishes', async () => {
    const s = await createSweep(url, randomSweep({ name: 'sse' }));
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    const sse = await SseReader.open(`${url}/api/sweeps/${s.id}/events`);
    try {
      assert.equal(sse.status, 200);
      assert.match(sse.contentType, /^text\/event-stream/);
      const hello = await sse.next('sweep on connect', () => true);
      assert.equal(hello.event, 'sweep', 'the first event is the sweep');
      const summary = SweepSummarySchema.parse(hello.data);
      assert.equal(summary.id, s.id);
      assert.equal(summary.state, 'running');
      // The snapshot is written before the server subscribes to the sweep's channel; wait for the
      // subscription so that the events below cannot be published into the gap.
      await waitFor('the SSE subscription', async () => {
        const [, n] = (await c.redis.pubsub('NUMSUB', `${c.prefix}:events:${s.id}`)) as [string, number];
        return Number(n) > 0;
      });

      const runEvent = (id: string, state: string) => (e: { event: string; data: unknown }) =>
        e.event === 'run' && (e.data as RunSummary).id === id && (e.data as RunSummary).state === state;

      await agent.advertise(1);
      const q1 = await sse.next('a queued run', (e) => e.event === 'run' && (e.data as RunSummary).state === 'queued');
      const r1 = RunSummarySchema.parse(q1.data);
      assert.equal(r1.sweepId, s.id);
      const q2 = await sse.next('a second queued run', (e) => e.event === 'run' && (e.data as RunSummary).state === 'queued');
      const r2 = (q2.data as RunSummary).id;
      await agent.withdraw();

      const t1 = newToken();
      await agent.claim(r1.id, t1);
      await sse.next('r1 running', runEvent(r1.id, 'running'));
      await agent.metrics(r1.id, t1, [[0, 'loss', 0.4]]);
      await agent.end(r1.id, t1, 'finished');
      const f1 = await sse.next('r1 finished', runEvent(r1.id, 'finished'));
      assert.equal((f1.data as RunSummary).value, 0.4);
      const best1 = await sse.next('best after r1', (e) => e.event === 'best');
      assert.deepEqual(
        { runId: (best1.data as { runId: string }).runId, value: (best1.data as { value: number }).value },
        { runId: r1.id, value: 0.4 },
      );

      // A worse run finishing must never be announced as the best.
      const t2 = newToken();
      await agent.claim(r2, t2);
      await sse.next('r2 running', runEvent(r2, 'running'));
      await agent.metrics(r2, t2, [[0, 'loss', 0.9]]);
      await agent.end(r2, t2, 'finished');
      await sse.next('r2 finished', runEvent(r2, 'finished'));
      // A sweep event after it is the barrier: everything published for r2's end came before it.
      await expectOk(SweepDetailSchema, http(url, `/api/sweeps/${s.id}/pause`, { method: 'POST' }));
      await sse.next('sweep paused', (e) => e.event === 'sweep' && (e.data as { state: string }).state === 'paused');
      const bests = sse.events.filter((e) => e.event === 'best').map((e) => (e.data as { runId: string; value: number }));
      assert.ok(bests.length >= 1);
      for (const b of bests) assert.deepEqual({ runId: b.runId, value: b.value }, { runId: r1.id, value: 0.4 }, JSON.stringify(bests));
    } finally {
      await sse.close();
    }
  });

  test('GET /healthz, /metrics, /docs and /docs/json; an unknown route → 404 ROUTE_NOT_FOUND', async () => {
    const health = await http<{ ok: boolean; database: string; redis: string }>(url, '/healthz');
    assert.equal(health.status, 200);
    assert.deepEqual(health.body, { ok: true, database: 'up', redis: 'up' });

    // An active sweep with queued runs shows in the gauges.
    const s = await createSweep(url, randomSweep({ name: 'prom' }));
    await queueRuns(new FakeAgent(c.redis, c.keys, s.id), 1, 2);
    const metrics = await http(url, '/metrics');
    assert.equal(metrics.status, 200);
    assert.match(metrics.contentType, /^text\/plain/);
    assert.ok(metrics.text.includes('# TYPE harrow_runs gauge'));
    assert.ok(metrics.text.includes(`harrow_runs{sweep="${s.id}",state="queued"} 2\n`), metrics.text.slice(0, 2000));
    assert.ok(metrics.text.includes(`harrow_runs{sweep="${s.id}",state="finished"} 0\n`));
    assert.match(metrics.text, /^harrow_active_sweeps \d+$/m);
    assert.match(metrics.text, /^harrow_ingested_points_total \d+$/m);

    const docs = await http(url, '/docs');
    assert.equal(docs.status, 200);
    assert.match(docs.contentType, /text\/html/);
    assert.match(docs.text, /<html/i);

    const openapi = await http<{ openapi: string; paths: Record<string, Record<string, unknown>> }>(url, '/docs/json');
    assert.equal(openapi.status, 200);
    assert.match(openapi.body.openapi, /^3\./);
    const routes = Object.entries(openapi.body.paths).flatMap(([path, methods]) => Object.keys(methods).map((m) => `${m.toUpperCase()} ${path}`));
    for (const route of [
      'POST /api/sweeps',
      'GET /api/sweeps',
      'GET /api/sweeps/{id}',
      'POST /api/sweeps/{id}/pause',
      'POST /api/sweeps/{id}/resume',
      'POST /api/sweeps/{id}/stop',
      'POST /api/sweeps/{id}/cancel',
      'GET /api/sweeps/{id}/runs',
      'GET /api/sweeps/{id}/best',
      'GET /api/sweeps/{id}/events',
      'GET /api/runs/{id}',
      'GET /api/runs/{id}/metrics',
      'POST /api/runs/{id}/stop',
    ]) {
      assert.ok(routes.includes(route), `OpenAPI lists ${route}: ${routes.join(', ')}`);
    }

    const unknown = await expectError(http(url, '/api/nope'), 404, 'ROUTE_NOT_FOUND');
    assert.match(unknown.message, /\/docs/, 'points at the docs');
    await expectError(http(url, '/api/sweeps', { method: 'DELETE' }), 404, 'ROUTE_NOT_FOUND');
    await expectError(postJson(url, '/api/sweeps/x/explode', {}), 404, 'ROUTE_NOT_FOUND');
  });
});
