import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AgentReportSchema, MAX_INT32, MetricPointSchema, metricNameProblem, parseMetricPoint, WIRE_VERSION } from '../../../protocol/wire.js';

const good = { seq: 1, step: 0, name: 'loss', value: 0.5, t: 1_700_000_000_000 };

void test('parseMetricPoint accepts a storable point and refuses each kind of unstorable one, saying why', () => {
  assert.deepEqual(parseMetricPoint(good), { ok: true, point: good });
  assert.deepEqual(parseMetricPoint({ ...good, step: MAX_INT32, seq: MAX_INT32, value: 'nan' }).ok, true);
  const cases: Array<[unknown, RegExp]> = [
    [{ ...good, step: MAX_INT32 + 1 }, /^step: /],
    [{ ...good, step: -1 }, /^step: /],
    [{ ...good, step: 1.5 }, /^step: /],
    [{ ...good, seq: 0 }, /^seq: /],
    [{ ...good, name: 'a\u0000b' }, /^name: the metric name contains a NUL character$/],
    [{ ...good, name: '' }, /^name: the metric name is empty$/],
    [{ ...good, name: 'x'.repeat(257) }, /^name: the metric name is longer than 256 characters$/],
    [{ ...good, name: 'bad\uDC00' }, /surrogate/],
    [{ ...good, value: 'NaN' }, /^value: /],
    [{ ...good, t: 1e300 }, /^t: /],
    ['not a point', /^point: /],
  ];
  for (const [raw, why] of cases) {
    const r = parseMetricPoint(raw);
    assert.equal(r.ok, false, JSON.stringify(raw));
    if (!r.ok) assert.match(r.refused.reason, why, JSON.stringify(raw));
  }
  // What is kept of a refused point for the record: a valid seq, a storable name, the step as text.
  const r = parseMetricPoint({ ...good, seq: 7, step: 2 ** 31, name: 'a\u0000b' });
  assert.ok(!r.ok);
  assert.deepEqual({ seq: r.refused.seq, name: r.refused.name, step: r.refused.step }, { seq: 7, name: 'a\uFFFDb', step: '2147483648' });
  assert.equal(parseMetricPoint({ ...good, seq: -3, name: 'x' }).ok, false);
  const bad = parseMetricPoint({ ...good, seq: -3, step: 1.5 });
  assert.ok(!bad.ok && bad.refused.seq === null, 'an invalid seq is not kept as a key');
});

void test('a metrics report with bad points still passes the envelope: its points are judged one by one', () => {
  const report = { v: WIRE_VERSION, type: 'metrics', sweepId: 's', agentId: 'a', runId: 'r', token: 't', points: [good, { ...good, seq: 2, step: -1 }] };
  assert.equal(AgentReportSchema.safeParse(report).success, true);
});

void test('metricNameProblem: surrogate pairs (emoji) are fine; lone halves are not', () => {
  assert.equal(metricNameProblem('loss/😀'), null);
  assert.match(metricNameProblem('\uD83D')!, /surrogate/);
});

void test('parseMetricPoint accepts exactly what MetricPointSchema accepts (its fast path included)', () => {
  const variants: unknown[] = [
    good,
    { ...good, extra: 1 },
    { ...good, value: 'nan' },
    { ...good, value: 'inf' },
    { ...good, value: '-inf' },
    { ...good, value: 'NaN' },
    { ...good, value: Number.NaN },
    { ...good, value: Number.POSITIVE_INFINITY },
    { ...good, value: '1' },
    { ...good, seq: 0 },
    { ...good, seq: 1.5 },
    { ...good, seq: 2 ** 31 - 1 },
    { ...good, seq: 2 ** 31 },
    { ...good, step: -1 },
    { ...good, step: 2 ** 31 - 1 },
    { ...good, step: 2 ** 31 },
    { ...good, step: '3' },
    { ...good, name: '' },
    { ...good, name: 'a'.repeat(256) },
    { ...good, name: 'a'.repeat(257) },
    { ...good, name: 'a\u0000b' },
    { ...good, name: 'a\uD800' },
    { ...good, name: '\uD83D\uDE00' },
    { ...good, t: 8.64e15 },
    { ...good, t: 8.64e15 + 1 },
    { ...good, t: Number.NaN },
    { ...good, t: undefined },
    null,
    'loss=1',
    [good],
  ];
  for (const v of variants) {
    const zod = MetricPointSchema.safeParse(v);
    const ours = parseMetricPoint(v);
    assert.equal(ours.ok, zod.success, JSON.stringify(v));
    if (ours.ok && zod.success) assert.deepEqual(ours.point, zod.data);
  }
});
