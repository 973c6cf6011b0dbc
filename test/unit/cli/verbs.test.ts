import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UsageError } from '../../../cli/command.js';
import type { ApiVerb } from '../../../cli/commands/api-verb.js';
import { bestCommand } from '../../../cli/commands/best.js';
import { cancelCommand } from '../../../cli/commands/cancel.js';
import { createCommand } from '../../../cli/commands/create.js';
import { pauseCommand } from '../../../cli/commands/pause.js';
import { runsCommand } from '../../../cli/commands/runs.js';
import { statusCommand } from '../../../cli/commands/status.js';
import { stopRunCommand } from '../../../cli/commands/stop-run.js';
import { stopCommand } from '../../../cli/commands/stop.js';
import { HarrowError } from '../../../protocol/errors.js';
import { ListRunsResponseSchema, RunDetailSchema, type RunDetail } from '../../../protocol/api.js';
import { captureOutput, closedPort, startFakeServer, type Canned, type FakeServer } from './fake-server.js';
import { NOW, bestResponse, runSummary, sweepDetail } from './fixtures.js';

async function run(verb: ApiVerb, argv: string[], server: FakeServer | string, options: { env?: Record<string, string>; tty?: boolean; columns?: number } = {}) {
  const out = captureOutput({ tty: options.tty, columns: options.columns });
  const url = typeof server === 'string' ? server : server.url;
  const code = await verb.runWith(argv, { env: { HARROW_URL: url, ...options.env }, stdout: out, now: () => NOW });
  return { code, text: out.text() };
}

async function withServer(routes: Record<string, Canned>, body: (server: FakeServer) => Promise<void>): Promise<void> {
  const server = await startFakeServer(routes);
  try {
    await body(server);
  } finally {
    await server.close();
  }
}

async function rejectsWith<E extends Error>(p: Promise<unknown>, type: new (...args: never[]) => E, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof type, `expected ${type.name}, got ${String(err)}`);
    assert.match(err.message, pattern);
    return true;
  });
}

test('create: posts the file, prints the id, the warnings and the agent command', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-cli-'));
  const file = join(dir, 'sweep.yaml');
  const yaml = 'method: bayes\nmetric: {name: val_loss, goal: minimize}\n';
  await writeFile(file, yaml);
  const created = sweepDetail({ warnings: [{ path: 'early_terminate.min_iter', message: 'ignored because max_iter is given' }] });
  try {
    await withServer({ 'POST /api/sweeps': { status: 201, body: created } }, async (server) => {
      const { code, text } = await run(createCommand, [file, '--name', 'mnist-lr'], server, { env: { HARROW_TOKEN: 'tok' } });
      assert.equal(code, 0);
      const req = server.requests[0]!;
      assert.deepEqual(JSON.parse(req.body), { config: yaml, name: 'mnist-lr' });
      assert.equal(req.headers.authorization, 'Bearer tok');
      assert.match(text, /^Created sweep k3x9q2ab 'mnist-lr' \(bayes, minimize val_loss, up to 50 runs\)\.$/m);
      assert.match(text, /^warning: early_terminate\.min_iter: ignored because max_iter is given$/m);
      assert.match(text, /^ {2}harrow agent k3x9q2ab$/m);
      assert.match(text, /^ {2}harrow agent k3x9q2ab --gpus 0,1 /m);
      assert.match(text, /^ {2}harrow watch k3x9q2ab$/m);
      assert.ok(!text.includes('\x1b['), 'no colors off a terminal');

      const json = await run(createCommand, [file, '--json'], server);
      assert.deepEqual(JSON.parse(json.text), created);
      assert.deepEqual(JSON.parse(server.requests[1]!.body), { config: yaml });
    });
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('create: an invalid sweep prints every path: message under the file name', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-cli-'));
  const file = join(dir, 'bad.yaml');
  await writeFile(file, 'method: bayes\n');
  const issues = [
    { path: 'metric', message: 'bayes needs a metric to optimize; add metric: {name, goal}' },
    { path: 'parameters', message: 'at least one parameter is required' },
  ];
  try {
    await withServer({ 'POST /api/sweeps': { status: 400, body: { code: 'INVALID_SWEEP_CONFIG', message: 'invalid sweep config', details: { issues } } } }, async (server) => {
      await assert.rejects(run(createCommand, [file], server), (err: HarrowError) => {
        assert.equal(err.code, 'INVALID_SWEEP_CONFIG');
        assert.equal(
          err.message,
          `${file}: invalid sweep config\n  metric: bayes needs a metric to optimize; add metric: {name, goal}\n  parameters: at least one parameter is required`,
        );
        return true;
      });
    });
  } finally {
    await rm(dir, { recursive: true });
  }
});

test('create: a missing file or missing argument is named before any request', async () => {
  await withServer({}, async (server) => {
    await rejectsWith(run(createCommand, ['/nonexistent/sweep.yaml'], server), HarrowError, /^cannot read sweep file \/nonexistent\/sweep\.yaml: no such file$/);
    await rejectsWith(run(createCommand, [], server), UsageError, /^missing FILE: give the path of a sweep file/);
    await rejectsWith(run(createCommand, ['a.yaml', '--nmae', 'x'], server), UsageError, /Unknown option '--nmae'/);
    assert.equal(server.requests.length, 0);
  });
});

test('status: a table of sweeps with aligned columns', async () => {
  const sweeps = [
    sweepDetail(),
    sweepDetail({ id: 'zz', name: null, state: 'finished', method: 'grid', metric: null, runCap: null, expectedRuns: 12, best: null, counts: { queued: 0, running: 0, finished: 12, failed: 0, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 12 } }),
  ];
  await withServer({ 'GET /api/sweeps': { body: { sweeps } } }, async (server) => {
    const { code, text } = await run(statusCommand, [], server);
    assert.equal(code, 0);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines.length, 3);
    const [header = '', first = '', second = ''] = lines;
    assert.match(header, /^ID\s+NAME\s+STATE\s+METHOD\s+METRIC\s+RUNS\s+RUNNING\s+BEST\s+CREATED$/);
    // Each column starts where its header starts.
    assert.equal(first.indexOf('running'), header.indexOf('STATE'));
    assert.equal(second.indexOf('finished'), header.indexOf('STATE'));
    assert.equal(first.indexOf('bayes'), header.indexOf('METHOD'));
    assert.match(first, /min val_loss\s+11\/50\s+2\s+0\.12346\s+5m 00s ago$/);
    assert.match(second, /^zz\s+finished\s+grid\s+-\s+12\/12\s+0\s+-\s+5m 00s ago$/);

    await run(statusCommand, ['--state', 'running,paused'], server);
    assert.equal(server.requests[1]!.query.get('state'), 'running,paused');
    await rejectsWith(run(statusCommand, ['--state', 'runing'], server), UsageError, /unknown sweep state 'runing'; use one or more of running, paused, finished, canceled/);
  });
});

test('status SWEEP: state, counts by state, progress toward the cap, best run with its params', async () => {
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() } }, async (server) => {
    const { code, text } = await run(statusCommand, ['k3x9q2ab'], server);
    assert.equal(code, 0);
    assert.match(text, /^Sweep {4}k3x9q2ab {2}'mnist-lr'$/m);
    assert.match(text, /^State {4}running$/m);
    assert.match(text, /^Method {3}bayes, minimize val_loss$/m);
    assert.match(text, /^Runs {5}11 runs \(run cap 50\)$/m);
    assert.match(text, /^ {9}queued 1 {2}running 2 {2}finished 5 {2}failed 1 {2}stopped 2$/m);
    assert.match(text, /^Best {5}val_loss=0\.12346 \(run #4 at step 30\)$/m);
    assert.match(text, /^ {9}batch=64 lr=0\.00031 optimizer=adam$/m);
    assert.match(text, /Agents join with: harrow agent k3x9q2ab/);

    const json = await run(statusCommand, ['k3x9q2ab', '--json'], server);
    assert.deepEqual(JSON.parse(json.text), sweepDetail());
  });
});

test('status SWEEP on a terminal colors the state; NO_COLOR turns it off', async () => {
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() } }, async (server) => {
    const tty = await run(statusCommand, ['k3x9q2ab'], server, { tty: true, columns: 100 });
    assert.ok(tty.text.includes('State\x1b[0m    \x1b[36mrunning\x1b[0m'), JSON.stringify(tty.text));
    const noColor = await run(statusCommand, ['k3x9q2ab'], server, { tty: true, columns: 100, env: { NO_COLOR: '1' } });
    assert.ok(!noColor.text.includes('\x1b['));
  });
});

test('status: a sweep whose runs all failed never looks like a success, and says why it paused', async () => {
  const counts = { queued: 0, running: 0, finished: 0, failed: 3, crashed: 0, stopped: 0, canceled: 0, preempted: 0, total: 3 };
  const failing = sweepDetail({ id: 'ff', state: 'finished', health: 'failing', best: null, counts });
  const paused = sweepDetail({ id: 'pp', state: 'paused', health: 'failing', best: null, counts, stateReason: 'paused: the first 3 runs all failed or crashed' });
  await withServer({ 'GET /api/sweeps': { body: { sweeps: [failing, paused] } }, 'GET /api/sweeps/ff': { body: failing }, 'GET /api/sweeps/pp': { body: paused } }, async (server) => {
    const table = (await run(statusCommand, [], server)).text;
    assert.match(table, /^ff\s+mnist-lr\s+finished, all runs failed\s+bayes/m);
    assert.match(table, /^pp\s+mnist-lr\s+paused, all runs failed\s+bayes/m);
    const tty = await run(statusCommand, ['ff'], server, { tty: true, columns: 100 });
    assert.ok(tty.text.includes('\x1b[31mfinished, all runs failed\x1b[0m'), 'in red, not in the green of a finished sweep');
    assert.match((await run(statusCommand, ['pp'], server)).text, /^State {4}paused, all runs failed \(paused: the first 3 runs all failed or crashed\)$/m);
  });
});

const RUNS = [
  runSummary({ number: 3, state: 'stopped', value: 0.61, valueStep: 9, stopInfo: { rule: 'hyperband', band: 9, at: 9, threshold: 0.45, value: 0.61, message: 'Run: k3x9q2ab-3 Step: 9 (Band: 9 Metric: 0.61 Threshold: 0.45) STOP' } }),
  runSummary({ number: 2, state: 'failed', value: null, valueStep: null, exitCode: 1, reason: 'CUDA out of memory', params: { lr: 0.1, batch: 512, optimizer: 'sgd-with-a-very-long-name-indeed', schedule: 'cosine-with-warm-restarts' } }),
  runSummary({ number: 1, state: 'running', attempt: 2, value: 0.42, valueStep: 4, endedAt: null }),
];

test('runs: the table shows the metric, duration, params and why runs stopped or failed', async () => {
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/runs': { body: { runs: RUNS, total: 12 } } }, async (server) => {
    ListRunsResponseSchema.parse({ runs: RUNS, total: 12 });
    const { code, text } = await run(runsCommand, ['k3x9q2ab', '--state', 'stopped,failed,running', '--sort', '-number', '--limit', '3', '--offset', '3'], server);
    assert.equal(code, 0);
    const q = server.requests.find((r) => r.path.endsWith('/runs'))!.query;
    assert.deepEqual([q.get('state'), q.get('sort'), q.get('limit'), q.get('offset')], ['stopped,failed,running', '-number', '3', '3']);
    const lines = text.split('\n');
    // One column per parameter that varies (a parameter a run lacks shows as -).
    assert.match(lines[0]!, /^#\s+RUN\s+STATE\s+val_loss\s+STEP\s+TIME\s+batch\s+lr\s+optimizer\s+schedule\s+NOTE$/);
    assert.match(text, /^3\s+k3x9q2ab-3\s+stopped\s+0\.61\s+9\s+1m 05s\s+32\s+0\.001\s+-\s+-\s+hyperband at band 9: 0\.61 vs threshold 0\.45$/m);
    assert.match(text, /^2\s+k3x9q2ab-2\s+failed\s+-\s+-\s+1m 05s\s+512\s+0\.1\s+sgd-with-a-very-long-name-indeed\s+cosine-with-warm-restarts\s+exit 1: CUDA out of memory$/m);
    // Still running: the time so far, and the attempt number.
    assert.match(text, /^1\s+k3x9q2ab-1\s+running \(2\)\s+0\.42\s+4\s+5m 00s\s+32\s+0\.001\s+-\s+-\s+on gpu-box-1 gpu 0$/m);
    assert.match(text, /^Runs 4-6 of 12, sorted by -number; next page: --offset 6\.$/m);
  });
});

test('runs: sorted by number, the next page is asked with the cursor the server gave; --cursor is sent as is', async () => {
  const page = { runs: RUNS, total: 12, nextCursor: 'eyJzIjoiLW51bWJlciIsIm4iOjF9' };
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/runs': { body: page } }, async (server) => {
    const first = await run(runsCommand, ['k3x9q2ab', '--sort', '-number', '--limit', '3'], server);
    assert.match(first.text, /^Runs 1-3 of 12, sorted by -number; next page: --cursor eyJzIjoiLW51bWJlciIsIm4iOjF9\.$/m);
    const next = await run(runsCommand, ['k3x9q2ab', '--sort', '-number', '--limit', '3', '--cursor', 'eyJzIjoiLW51bWJlciIsIm4iOjR9'], server);
    assert.equal(next.code, 0);
    const q = server.requests.filter((r) => r.path.endsWith('/runs')).at(-1)!.query;
    assert.deepEqual([q.get('cursor'), q.get('offset')], ['eyJzIjoiLW51bWJlciIsIm4iOjR9', null]);
    assert.match(next.text, /^3 runs of 12, sorted by -number; next page: --cursor eyJzIjoiLW51bWJlciIsIm4iOjF9\.$/m);
    await rejectsWith(run(runsCommand, ['k3x9q2ab', '--offset', '3', '--cursor', 'x'], server), UsageError, /--offset and --cursor/);
  });
});

test('runs: a run with refused points or data loss says so in its note and in full under Warnings', async () => {
  const warned = runSummary({
    number: 4,
    state: 'finished',
    warnings: [
      { kind: 'points_refused', attempt: 1, count: 2, message: "2 metric points could not be stored and were refused alone (the other points were kept); first: 'loss' step 2147483648 (step: Too big)" },
      { kind: 'data_loss', attempt: 1, count: 3, message: 'data loss: 3 of the 20 metric points the agent sent never reached the controller (Redis lost them?); 17 stored' },
    ],
  });
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/runs': { body: { runs: [warned], total: 1 } } }, async (server) => {
    ListRunsResponseSchema.parse({ runs: [warned], total: 1 });
    const { text } = await run(runsCommand, ['k3x9q2ab'], server);
    assert.match(text, /^4\s+k3x9q2ab-4\s+finished\s+.*⚠ 2 points refused, data loss: 3 points missing$/m);
    assert.match(text, /^Warnings:\n {2}#4 \(attempt 1\): 2 metric points could not be stored .*\n {2}#4 \(attempt 1\): data loss: 3 of the 20 metric points/m);
  });
});

test('runs: --csv has every parameter and metric as columns, quoted where needed', async () => {
  const runs = [
    runSummary({ number: 2, state: 'finished', value: 0.5, valueStep: 3, params: { lr: 0.1, opt: { name: 'adam, fast' } }, summary: { val_loss: { last: 0.5, min: 0.5, max: 0.9, count: 4, step: 3 }, acc: { last: 0.8, min: 0.1, max: 0.8, count: 4, step: 3 } } }),
    runSummary({ number: 1, state: 'failed', value: null, valueStep: null, exitCode: 1, reason: 'boom "quoted"', params: { lr: 0.01, opt: { name: 'sgd' } }, summary: {} }),
  ];
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/runs': { body: { runs, total: 2 } } }, async (server) => {
    const { code, text } = await run(runsCommand, ['k3x9q2ab', '--csv'], server);
    assert.equal(code, 0);
    const lines = text.trimEnd().split('\n');
    assert.equal(lines[0], 'number,id,state,attempt,val_loss,step,seconds,lr,opt.name,acc,note');
    assert.match(lines[1]!, /^2,k3x9q2ab-2,finished,1,0\.5,3,[\d.]+,0\.1,"adam, fast",0\.8,$/);
    assert.match(lines[2]!, /^1,k3x9q2ab-1,failed,1,,,[\d.]+,0\.01,sgd,,"exit 1: boom ""quoted"""$/);
    await rejectsWith(run(runsCommand, ['k3x9q2ab', '--csv', '--json'], server), UsageError, /choose one/);
  });
});

test('runs: on a narrow terminal the parameters share one column, cut to fit', async () => {
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/runs': { body: { runs: RUNS, total: 3 } } }, async (server) => {
    const { text } = await run(runsCommand, ['k3x9q2ab'], server, { tty: true, columns: 110, env: { NO_COLOR: '1' } });
    const table = text.split('\n\n')[0]!.split('\n');
    assert.ok(table.every((l) => [...l].length <= 110), table.join('\n'));
    // The two long columns share the room left; a short cell in them stays whole.
    assert.match(table.find((l) => l.startsWith('2 '))!, /batch=512 lr=0\.1 optimizer=\S*… {2}exit 1: CUDA out of memory$/);
    assert.match(table.find((l) => l.startsWith('3 '))!, /batch=32 lr=0\.001\s+hyperband at band 9: 0\.61 [^…]*…$/);
    assert.match(table.find((l) => l.startsWith('1 '))!, /batch=32 lr=0\.001\s+on gpu-box-1 gpu 0$/);
  });
});

test('runs: --json prints the response; bad options are usage errors', async () => {
  const page = { runs: RUNS, total: 3 };
  await withServer({ 'GET /api/sweeps/s/runs': { body: page } }, async (server) => {
    const { text } = await run(runsCommand, ['s', '--json'], server);
    assert.deepEqual(JSON.parse(text), page);
    assert.equal(server.requests.length, 1, '--json needs no second request');
    await rejectsWith(run(runsCommand, ['s', '--limit', '0'], server), UsageError, /--limit must be between 1 and 1000 \(got 0\)/);
    await rejectsWith(run(runsCommand, ['s', '--limit', 'ten'], server), UsageError, /--limit must be a whole number/);
    await rejectsWith(run(runsCommand, ['s', '--sort', 'value'], server), UsageError, /--sort must be one of number, -number, metric, -metric, started, -started/);
    await rejectsWith(run(runsCommand, ['s', '--state', 'done'], server), UsageError, /unknown run state 'done'/);
    await rejectsWith(run(runsCommand, [], server), UsageError, /missing SWEEP: give the sweep id/);
    await rejectsWith(run(runsCommand, ['a', 'b'], server), UsageError, /unexpected argument 'b'/);
  });
});

test('best: params, value, step, the sparkline and each improvement', async () => {
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/best': { body: bestResponse() } }, async (server) => {
    const { code, text } = await run(bestCommand, ['k3x9q2ab'], server);
    assert.equal(code, 0);
    assert.match(text, /^Best {2}val_loss=0\.12 \(run #4 at step 30\), minimize$/m);
    assert.match(text, /^Run {3}k3x9q2ab-4$/m);
    assert.match(text, /^ {2}batch {2}64$/m);
    assert.match(text, /^ {2}lr {5}0\.00031$/m);
    // Five finished runs, improvements at 1, 2 and 4: 0.9, 0.5, 0.5, 0.12, 0.12.
    assert.match(text, /^ {2}█▄▄▁▁ {2}0\.9 → 0\.12$/m);
    assert.match(text, /^ {2}ENDED\s+RUN\s+val_loss\s+WHEN$/m);
    assert.match(text, /^ {2}\s*4\s+#4\s+0\.12\s+1m 00s ago$/m);
  });
});

test('best: the recommended run beside the best observed one, when the model picks another', async () => {
  const rec = {
    metric: 'val_loss',
    runs: 5,
    bestObserved: { runId: 'k3x9q2ab-4', number: 4, params: { lr: 0.00031, batch: 64 }, value: 0.12 },
    recommended: { runId: 'k3x9q2ab-2', number: 2, params: { lr: 0.0002, batch: 32 }, value: 0.13, predicted: 0.125 },
    source: 'posterior-mean',
    noise: 0.1,
    method: 'm',
    warnings: [],
  };
  const routes = { 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() }, 'GET /api/sweeps/k3x9q2ab/best': { body: bestResponse() } };
  await withServer({ ...routes, 'GET /api/sweeps/k3x9q2ab/recommendation': { body: rec } }, async (server) => {
    const { text } = await run(bestCommand, ['k3x9q2ab'], server);
    assert.match(text, /^Recommended {2}run #2 \(k3x9q2ab-2; model mean 0\.125, observed 0\.13\): the best by the GP's posterior mean over 5 finished runs\.$/m);
    assert.match(text, /best observed value \(run #4, 0\.12\) is partly a lucky noise draw/);
    assert.match(text, /^ {13}batch=32 lr=0\.0002$/m);
  });
  const same = { ...rec, recommended: { ...rec.bestObserved, predicted: 0.121 } };
  await withServer({ ...routes, 'GET /api/sweeps/k3x9q2ab/recommendation': { body: same } }, async (server) => {
    const { text } = await run(bestCommand, ['k3x9q2ab'], server);
    assert.match(text, /^Recommended {2}run #4 \(model mean 0\.121, observed 0\.12\): the GP over 5 finished runs agrees with the best observed one$/m);
  });
});

test('best: none yet, and --json', async () => {
  const empty = bestResponse({ best: null, counted: 0, curve: [] });
  await withServer({ 'GET /api/sweeps/k3x9q2ab': { body: sweepDetail({ best: null }) }, 'GET /api/sweeps/k3x9q2ab/best': { body: empty } }, async (server) => {
    const { text } = await run(bestCommand, ['k3x9q2ab'], server);
    assert.equal(text, 'Best  none yet (no run has reported val_loss); 0 finished or stopped runs with a value.\n');
    assert.deepEqual(JSON.parse((await run(bestCommand, ['k3x9q2ab', '--json'], server)).text), empty);
  });
});

test('pause, stop, cancel: one POST each and the outcome in words', async () => {
  const paused = sweepDetail({ state: 'paused' });
  const stopped = sweepDetail({ state: 'finished', stateReason: 'stopped by user', counts: { ...sweepDetail().counts, queued: 0, running: 1 } });
  const canceled = sweepDetail({ state: 'canceled', counts: { ...sweepDetail().counts, queued: 0 } });
  await withServer(
    {
      'POST /api/sweeps/k3x9q2ab/pause': { body: paused },
      'POST /api/sweeps/k3x9q2ab/stop': { body: stopped },
      'POST /api/sweeps/k3x9q2ab/cancel': { body: canceled },
    },
    async (server) => {
      const p = await run(pauseCommand, ['k3x9q2ab'], server);
      assert.match(p.text, /^Sweep k3x9q2ab is paused: no new runs will start; 2 running runs go on\. `harrow resume k3x9q2ab` continues it\.$/m);
      const s = await run(stopCommand, ['k3x9q2ab'], server);
      assert.match(s.text, /^Sweep k3x9q2ab is finished: no new runs will start; its 1 running run will finish\.$/m);
      const c = await run(cancelCommand, ['k3x9q2ab', '--json'], server);
      assert.deepEqual(JSON.parse(c.text), canceled);
      assert.deepEqual(
        server.requests.map((r) => `${r.method} ${r.path}`),
        ['POST /api/sweeps/k3x9q2ab/pause', 'POST /api/sweeps/k3x9q2ab/stop', 'POST /api/sweeps/k3x9q2ab/cancel'],
      );
    },
  );
});

test("pause of a finished sweep: the server's 409 message", async () => {
  await withServer({ 'POST /api/sweeps/done/pause': { status: 409, body: { code: 'INVALID_STATE_TRANSITION', message: 'cannot pause sweep done: it is finished' } } }, async (server) => {
    await rejectsWith(run(pauseCommand, ['done'], server), HarrowError, /^cannot pause sweep done: it is finished$/);
  });
});

test('stop-run: sends the reason, says what happens next', async () => {
  const detail: RunDetail = { ...runSummary({ number: 7, state: 'running', stopInfo: { rule: 'user', message: 'diverged' }, endedAt: null }), outputTail: null, proposal: null, heartbeatAt: null, events: [], metrics: {} };
  RunDetailSchema.parse(detail);
  await withServer({ 'POST /api/runs/k3x9q2ab-7/stop': { body: detail } }, async (server) => {
    const { code, text } = await run(stopRunCommand, ['k3x9q2ab-7', '--reason', 'diverged'], server, { env: { HARROW_TOKEN: 't' } });
    assert.equal(code, 0);
    assert.deepEqual(JSON.parse(server.requests[0]!.body), { reason: 'diverged' });
    assert.equal(server.requests[0]!.headers.authorization, 'Bearer t');
    assert.equal(text, 'Run #7 (k3x9q2ab-7) of sweep k3x9q2ab: stop requested (diverged); its agent terminates it within seconds and it ends stopped.\n');
    await rejectsWith(run(stopRunCommand, ['x', '--reason', ' '], server), UsageError, /--reason must be 1 to 500 characters/);
  });
});

test('401 and a refused connection reach the user as instructions', async () => {
  await withServer({ 'POST /api/sweeps/s/cancel': { status: 401, body: { code: 'UNAUTHORIZED', message: 'token required' } } }, async (server) => {
    await rejectsWith(run(cancelCommand, ['s'], server), HarrowError, /needs an API token: set HARROW_TOKEN/);
  });
  const url = `http://127.0.0.1:${await closedPort()}`;
  await rejectsWith(run(statusCommand, [], url), HarrowError, /^cannot reach the Harrow server at http:\/\/127\.0\.0\.1:\d+ \(ECONNREFUSED\): is `harrow server` running\? \(set HARROW_URL\)$/);
});

// The whole CLI in a child process: exit codes and what lands on stdout and stderr.
const MAIN = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));

function harrow(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [MAIN, ...args], { env: { ...process.env, NO_COLOR: '1', HARROW_TOKEN: '', ...env } }, (err, stdout, stderr) => {
      resolve({ code: err ? Number(err.code ?? 1) : 0, stdout, stderr });
    });
  });
}

test('exit codes through bin: 0 on success, 1 with the message on server errors, 2 with usage on bad arguments', async () => {
  await withServer(
    {
      'GET /api/sweeps/k3x9q2ab': { body: sweepDetail() },
      'GET /api/sweeps/nope': { status: 404, body: { code: 'SWEEP_NOT_FOUND', message: "sweep 'nope' not found; `harrow status` lists the sweeps" } },
    },
    async (server) => {
      const ok = await harrow(['status', 'k3x9q2ab'], { HARROW_URL: server.url });
      assert.equal(ok.code, 0, ok.stderr);
      assert.match(ok.stdout, /^State {4}running$/m);
      const missing = await harrow(['status', 'nope'], { HARROW_URL: server.url });
      assert.equal(missing.code, 1);
      assert.equal(missing.stderr, "harrow status: sweep 'nope' not found; `harrow status` lists the sweeps\n");
      const usage = await harrow(['runs'], { HARROW_URL: server.url });
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /^harrow runs: missing SWEEP: give the sweep id/);
      assert.match(usage.stderr, /Usage: harrow runs SWEEP/);
      const help = await harrow(['watch', '--help'], {});
      assert.equal(help.code, 0);
      assert.match(help.stdout, /^Usage: harrow watch SWEEP/);
    },
  );
  const url = `http://127.0.0.1:${await closedPort()}`;
  const down = await harrow(['best', 'k3x9q2ab'], { HARROW_URL: url });
  assert.equal(down.code, 1);
  assert.equal(down.stderr, `harrow best: cannot reach the Harrow server at ${url} (ECONNREFUSED): is \`harrow server\` running? (set HARROW_URL)\n`);
  const badEnv = await harrow(['status'], { HARROW_URL: 'ftp://x' });
  assert.equal(badEnv.code, 1);
  assert.match(badEnv.stderr, /^harrow status: invalid environment: HARROW_URL="ftp:\/\/x": must be an http/);
});
