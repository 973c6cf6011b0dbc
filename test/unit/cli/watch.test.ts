import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerResponse } from 'node:http';
import { watchCommand } from '../../../cli/commands/watch.js';
import { UsageError } from '../../../cli/command.js';
import type { SweepDetail } from '../../../protocol/api.js';
import { captureOutput, startFakeServer, type FakeServer } from './fake-server.js';
import { NOW, bestResponse, runSummary, sweepDetail } from './fixtures.js';

/** A fake controller whose event stream the test drives, and whose GETs return `current`. */
async function liveServer(initial: SweepDetail) {
  let current = initial;
  let stream: ServerResponse | undefined;
  let connected!: () => void;
  const ready = new Promise<void>((resolve) => (connected = resolve));
  const server: FakeServer = await startFakeServer({
    [`GET /api/sweeps/${initial.id}`]: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(current));
    },
    [`GET /api/sweeps/${initial.id}/best`]: (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(bestResponse({ best: current.best })));
    },
    [`GET /api/sweeps/${initial.id}/events`]: (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      stream = res;
      const { spec: _s, config: _c, ...summary } = current;
      res.write(`event: sweep\ndata: ${JSON.stringify(summary)}\n\n`);
      connected();
    },
  });
  return {
    server,
    ready,
    set(next: SweepDetail) {
      current = next;
    },
    send(event: string, data: unknown) {
      stream!.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
  };
}

const ESC = '\x1b';

async function until(check: () => boolean): Promise<void> {
  while (!check()) await new Promise((r) => setTimeout(r, 5));
}

const finishedCounts = { queued: 0, running: 0, finished: 9, failed: 1, crashed: 0, stopped: 2, canceled: 0, preempted: 0, total: 12 };

test('piped: one line per change, then a summary when the sweep has ended and nothing runs', async () => {
  const live = await liveServer(sweepDetail({ best: null }));
  const out = captureOutput();
  try {
    const done = watchCommand.runWith(['k3x9q2ab'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW });
    await live.ready;
    const run5 = runSummary({ number: 5, state: 'running', value: null, valueStep: null, endedAt: null });
    live.send('run', run5);
    live.send('run', run5); // a repeat (a reconnect, a metric update) prints nothing new
    live.send('run', { ...run5, state: 'finished', value: 0.1, endedAt: '2025-01-01T10:04:00.000Z' });
    const best = { runId: run5.id, number: 5, params: run5.params, value: 0.1, step: 10 };
    live.send('best', best);
    const ended = sweepDetail({ state: 'finished', stateReason: 'run cap reached', counts: finishedCounts, best });
    live.set(ended);
    const { spec: _s, config: _c, ...summary } = ended;
    live.send('sweep', summary);
    assert.equal(await done, 0);
  } finally {
    await live.server.close();
  }
  const lines = out.text().trimEnd().split('\n').map((l) => l.replace(/^\d\d:\d\d:\d\d {2}/, ''));
  assert.deepEqual(lines, [
    "sweep k3x9q2ab 'mnist-lr' is running (bayes, minimize val_loss): 11 runs (run cap 50); queued 1  running 2  finished 5  failed 1  stopped 2",
    'run #5 running  on gpu-box-1 gpu 0',
    'run #5 finished val_loss=0.1',
    'new best: val_loss=0.1 (run #5 at step 10) batch=32 lr=0.001',
    'sweep is now finished (run cap reached)',
    'Sweep k3x9q2ab finished (run cap reached): 12 runs (run cap 50); finished 9  failed 1  stopped 2; best val_loss=0.1 (run #5 at step 10) batch=32 lr=0.001',
  ]);
});

test('--json: every event as one JSON line, then the end with the sweep; no text', async () => {
  const live = await liveServer(sweepDetail({ best: null }));
  const out = captureOutput();
  try {
    const done = watchCommand.runWith(['k3x9q2ab', '--json'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW });
    await live.ready;
    const run5 = runSummary({ number: 5, state: 'running', value: null, valueStep: null, endedAt: null });
    live.send('run', run5);
    const ended = sweepDetail({ state: 'finished', stateReason: 'run cap reached', counts: finishedCounts, best: null });
    live.set(ended);
    const { spec: _s, config: _c, ...summary } = ended;
    live.send('sweep', summary);
    assert.equal(await done, 0);
  } finally {
    await live.server.close();
  }
  const events = out
    .text()
    .trimEnd()
    .split('\n')
    .map((l) => JSON.parse(l) as { at: string; type: string; data?: { state?: string; number?: number } });
  assert.ok(events.every((e) => e.at === new Date(NOW).toISOString()));
  const types = events.map((e) => e.type);
  assert.equal(types[0], 'connected');
  assert.ok(types.includes('run') && events.find((e) => e.type === 'run')?.data?.number === 5);
  assert.equal(types.at(-1), 'end');
  assert.equal(events.at(-1)?.data?.state, 'finished');
});

test('a sweep that has already ended: the summary at once, exit 0', async () => {
  const live = await liveServer(sweepDetail({ state: 'canceled', stateReason: 'canceled by user', counts: finishedCounts }));
  const out = captureOutput();
  try {
    assert.equal(await watchCommand.runWith(['k3x9q2ab'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW }), 0);
  } finally {
    await live.server.close();
  }
  assert.match(out.text(), /Sweep k3x9q2ab canceled \(canceled by user\): 12 runs/);
});

test('a finished sweep with runs still active keeps watching until they end', async () => {
  const active = { ...finishedCounts, running: 1, finished: 8 };
  const live = await liveServer(sweepDetail({ state: 'finished', counts: active }));
  const out = captureOutput();
  let exited = false;
  try {
    const done = watchCommand.runWith(['k3x9q2ab'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW }).finally(() => (exited = true));
    await live.ready;
    // The run's end alone says nothing about counts: watch re-reads the sweep and sees it done.
    live.set(sweepDetail({ state: 'finished', counts: finishedCounts }));
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(exited, false, 'still watching while a run is active');
    live.send('run', runSummary({ number: 9, state: 'finished' }));
    assert.equal(await done, 0);
  } finally {
    await live.server.close();
  }
  assert.match(out.text(), /run #9 finished val_loss=0\.5/);
});

test('Ctrl-C stops watching with exit code 130; the sweep carries on', async () => {
  const live = await liveServer(sweepDetail());
  const out = captureOutput();
  const abort = new AbortController();
  try {
    const done = watchCommand.runWith(['k3x9q2ab'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW, signal: abort.signal });
    await live.ready;
    await until(() => out.text().includes('is running'));
    abort.abort();
    assert.equal(await done, 130);
  } finally {
    await live.server.close();
  }
  assert.match(out.text(), /stopped watching; the sweep carries on\n$/);
});

test('on a terminal: a frame redrawn in place, with counts, best, recent transitions and colors', async () => {
  const live = await liveServer(sweepDetail());
  const out = captureOutput({ tty: true, columns: 120, rows: 30 });
  try {
    const done = watchCommand.runWith(['k3x9q2ab'], { env: { HARROW_URL: live.server.url }, stdout: out, now: () => NOW });
    await live.ready;
    live.send('run', runSummary({ number: 6, state: 'stopped', stopInfo: { rule: 'asha', rung: 3, threshold: 0.4, value: 0.7, message: 'x' } }));
    await until(() => out.text().includes('Recent'));
    live.set(sweepDetail({ state: 'finished', counts: finishedCounts }));
    const { spec: _s, config: _c, ...summary } = sweepDetail({ state: 'finished', counts: finishedCounts });
    live.send('sweep', summary);
    assert.equal(await done, 0);
  } finally {
    await live.server.close();
  }
  const text = out.text();
  // Each redraw moves the cursor back to the frame's first line and clears below it.
  assert.match(text, new RegExp(`${ESC}\\[\\d+F${ESC}\\[J`));
  const last = text.slice(text.lastIndexOf('\x1b[J') + 3);
  const plain = last.replace(new RegExp(`${ESC}\\[[0-9;]*m`, 'g'), '');
  assert.match(plain, /^Sweep {3}k3x9q2ab 'mnist-lr' {2}finished {2}bayes, minimize val_loss$/m);
  assert.match(plain, /^ {8}queued 0 {2}running 0 {2}finished 9 {2}failed 1 {2}crashed 0 {2}stopped 2 {2}canceled 0 {2}preempted 0$/m);
  assert.match(plain, /^Best {4}val_loss=0\.12346 \(run #4 at step 30\)$/m);
  assert.match(plain, /^ {2}\d\d:\d\d:\d\d {2}run #6 stopped val_loss=0\.5 {2}asha at rung 3: 0\.7 vs threshold 0\.4$/m);
  assert.ok(last.includes('\x1b[32mfinished\x1b[0m'));
  // The frame fits the terminal (the summary printed under it may wrap).
  const frame = plain.slice(0, plain.indexOf('\nSweep k3x9q2ab finished'));
  assert.ok(frame.split('\n').every((l) => [...l].length < 120), frame);
});

test('watch needs exactly one SWEEP', async () => {
  const out = captureOutput();
  await assert.rejects(watchCommand.runWith([], { env: {}, stdout: out }), UsageError);
  await assert.rejects(watchCommand.runWith(['a', 'b'], { env: {}, stdout: out }), UsageError);
});
