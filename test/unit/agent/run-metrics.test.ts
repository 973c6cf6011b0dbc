import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RunMetrics } from '../../../agent/run-metrics.js';
import { parseMetricLine } from '../../../agent/metric-line.js';
import type { MetricPoint } from '../../../protocol/wire.js';

function collector(): { batches: MetricPoint[][]; metrics: RunMetrics } {
  const batches: MetricPoint[][] = [];
  let t = 1000;
  const metrics = new RunMetrics({
    send: (points) => {
      batches.push(points);
      return Promise.resolve();
    },
    // A long timer: these tests flush explicitly, so timing never decides an assertion.
    flushMs: 60_000,
    maxBatch: 4,
    now: () => t++,
  });
  return { batches, metrics };
}

function add(metrics: RunMetrics, line: string): void {
  const parsed = parseMetricLine(line);
  assert.ok(parsed, line);
  metrics.add(parsed);
}

void test('steps: given steps are kept; a point without one gets the step after the last seen', async () => {
  const { batches, metrics } = collector();
  add(metrics, 'a=1'); // no step yet: 0
  add(metrics, 'a=2'); // 1
  add(metrics, 'a=3 step=10');
  add(metrics, '{"a": 4}'); // 11
  add(metrics, 'a=5 step=4'); // steps may go back
  add(metrics, 'a=6 b=7'); // 5, both points
  await metrics.flush();
  const points = batches.flat();
  assert.deepEqual(
    points.map((p) => [p.seq, p.step, p.name, p.value]),
    [
      [1, 0, 'a', 1],
      [2, 1, 'a', 2],
      [3, 10, 'a', 3],
      [4, 11, 'a', 4],
      [5, 4, 'a', 5],
      [6, 5, 'a', 6],
      [7, 5, 'b', 7],
    ],
  );
  assert.equal(metrics.lastSeq, 7);
});

void test('batches: a full batch is sent at once, in order; flush sends the rest', async () => {
  const { batches, metrics } = collector();
  add(metrics, 'a=1 b=2 c=3');
  assert.equal(batches.length, 0, 'below maxBatch nothing is sent before the timer');
  add(metrics, 'd=4 e=5');
  await new Promise((resolve) => setImmediate(resolve));
  assert.deepEqual(
    batches.map((b) => b.map((p) => p.seq)),
    [[1, 2, 3, 4]],
  );
  assert.equal(metrics.count, 5);
  await metrics.flush();
  assert.deepEqual(
    batches.map((b) => b.map((p) => p.seq)),
    [[1, 2, 3, 4], [5]],
  );
  assert.equal(metrics.lastSeq, 5);
  await metrics.flush();
  assert.equal(batches.length, 2, 'an empty flush sends nothing');
});

void test('non-finite values travel as the wire strings', async () => {
  const { batches, metrics } = collector();
  add(metrics, 'a=nan b=inf c=-inf d=0.5');
  await metrics.flush();
  assert.deepEqual(
    batches.flat().map((p) => p.value),
    ['nan', 'inf', '-inf', 0.5],
  );
});

void test('a failed send is reported and does not stop later batches; lastSeq counts sent points only', async () => {
  const errors: unknown[] = [];
  const sent: number[][] = [];
  let calls = 0;
  const metrics = new RunMetrics({
    send: (points) => {
      calls++;
      if (calls === 1) return Promise.reject(new Error('redis said no'));
      sent.push(points.map((p) => p.seq));
      return Promise.resolve();
    },
    onError: (e) => errors.push(e),
    flushMs: 60_000,
  });
  add(metrics, 'a=1');
  await metrics.flush();
  assert.equal(metrics.lastSeq, 0);
  add(metrics, 'a=2');
  await metrics.flush();
  assert.equal(errors.length, 1);
  assert.deepEqual(sent, [[2]]);
  assert.equal(metrics.lastSeq, 2);
});

void test('the timer sends waiting points without an explicit flush', async () => {
  const batches: MetricPoint[][] = [];
  let resolveSent: () => void = () => {};
  const sent = new Promise<void>((resolve) => (resolveSent = resolve));
  const metrics = new RunMetrics({
    send: (points) => {
      batches.push(points);
      resolveSent();
      return Promise.resolve();
    },
    flushMs: 1,
  });
  add(metrics, 'a=1');
  await sent;
  assert.deepEqual(
    batches.map((b) => b.map((p) => p.name)),
    [['a']],
  );
});

void test('discard: nothing more is sent after an abort', async () => {
  const { batches, metrics } = collector();
  add(metrics, 'a=1');
  metrics.discard();
  add(metrics, 'b=2');
  await metrics.flush();
  assert.deepEqual(batches, []);
});

void test('sent points are kept for sending again, the failed ones too, until forgotten', async () => {
  let calls = 0;
  const metrics = new RunMetrics({
    send: () => (++calls === 2 ? Promise.reject(new Error('redis said no')) : Promise.resolve()),
    onError: () => undefined,
    flushMs: 60_000,
    maxBatch: 3,
  });
  for (let i = 0; i < 8; i++) add(metrics, `a=${i} step=${i}`);
  await metrics.flush();
  // Batches [1-3] (sent), [4-6] (failed), [7-8] (sent): asked for 2..4 and 7..9, 9 was never numbered.
  const { points, unavailable } = metrics.pointsIn([
    [2, 4],
    [7, 9],
  ]);
  assert.deepEqual(
    points.map((p) => [p.seq, p.step, p.value]),
    [
      [2, 1, 1],
      [3, 2, 2],
      [4, 3, 3],
      [7, 6, 6],
      [8, 7, 7],
    ],
  );
  assert.equal(unavailable, 1);
  metrics.forget();
  assert.deepEqual(metrics.pointsIn([[1, 8]]), { points: [], unavailable: 8 });
});

void test('only the most recent `keep` points are kept, cutting the oldest batch when needed', async () => {
  const metrics = new RunMetrics({ send: () => Promise.resolve(), flushMs: 60_000, maxBatch: 4, keep: 6 });
  for (let i = 0; i < 10; i++) add(metrics, `a=${i}`);
  await metrics.flush();
  const { points, unavailable } = metrics.pointsIn([[1, 10]]);
  assert.deepEqual(
    points.map((p) => p.seq),
    [5, 6, 7, 8, 9, 10],
  );
  assert.equal(unavailable, 4);
});
