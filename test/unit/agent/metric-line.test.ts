import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MAX_METRIC_NAME, parseJsonAllowingNonFinite, parseMetricLine, parseNumber } from '../../../agent/metric-line.js';

void test('name=value pairs: every pair a metric, step= gives the step', () => {
  assert.deepEqual(parseMetricLine('loss=0.25 acc=0.9 step=12'), {
    step: 12,
    values: [
      { name: 'loss', value: 0.25 },
      { name: 'acc', value: 0.9 },
    ],
    warnings: [],
  });
  assert.deepEqual(parseMetricLine('  val/loss=1e-3\tlr=5E+2  '), {
    step: null,
    values: [
      { name: 'val/loss', value: 0.001 },
      { name: 'lr', value: 500 },
    ],
    warnings: [],
  });
  // _step is accepted too, and `step=3.0` is the whole number 3.
  assert.deepEqual(parseMetricLine('_step=3.0 x=-.5')?.step, 3);
  assert.deepEqual(parseMetricLine('_step=3.0 x=-.5')?.values, [{ name: 'x', value: -0.5 }]);
});

void test('name=value: nan and inf in any case are non-finite values', () => {
  const parsed = parseMetricLine('a=nan b=-inf c=Infinity d=+INF e=NaN');
  assert.ok(parsed);
  const values = Object.fromEntries(parsed.values.map((v) => [v.name, v.value]));
  assert.ok(Number.isNaN(values.a));
  assert.equal(values.b, -Infinity);
  assert.equal(values.c, Infinity);
  assert.equal(values.d, Infinity);
  assert.ok(Number.isNaN(values.e));
});

void test('anything that is not only numeric pairs is plain output', () => {
  for (const line of [
    '',
    '   ',
    'Epoch 1: loss=0.5',
    'loss=0.5 done',
    'loss=abc',
    'loss=',
    '=0.5',
    'loss=0x10',
    'loss=1,',
    '--lr=0.1 --batch=32', // an echoed command line is not metrics
    '1x=2',
    'step=4', // a step alone carries no metric
    'a==1',
    'loss=1.2.3',
  ]) {
    assert.equal(parseMetricLine(line), null, JSON.stringify(line));
  }
});

void test('JSON objects: numeric fields are metrics, step/_step gives the step, others ignored', () => {
  assert.deepEqual(parseMetricLine('{"loss": 0.5, "epoch": 3, "step": 7, "tag": "x", "ok": true, "nested": {"a": 1}}'), {
    step: 7,
    values: [
      { name: 'loss', value: 0.5 },
      { name: 'epoch', value: 3 },
    ],
    warnings: [],
  });
  assert.equal(parseMetricLine('{"_step": 2, "a": 1}')?.step, 2);
});

void test('JSON: Python NaN / Infinity / -Infinity tokens are accepted, strings untouched', () => {
  const parsed = parseMetricLine('{"loss": NaN, "g": Infinity, "h": -Infinity, "note": "NaN Infinity", "step": 1}');
  assert.ok(parsed);
  assert.equal(parsed.step, 1);
  assert.equal(parsed.values.length, 3);
  assert.ok(Number.isNaN(parsed.values[0]!.value));
  assert.equal(parsed.values[1]!.value, Infinity);
  assert.equal(parsed.values[2]!.value, -Infinity);
  const obj = parseJsonAllowingNonFinite('{"s": "a \\" NaN", "x": NaN}') as { s: string; x: number };
  assert.equal(obj.s, 'a " NaN');
  assert.ok(Number.isNaN(obj.x));
});

void test('JSON that is not an object of numbers is plain output', () => {
  for (const line of [
    '{"msg": "starting", "level": "info"}',
    '{"step": 3}',
    '{not json}',
    '{"a": 1',
    '[1, 2]',
    '{"a": NaNa}',
    '{}',
  ]) {
    assert.equal(parseMetricLine(line), null, line);
  }
});

void test('a bad step keeps the line out of the metrics, with a warning', () => {
  for (const line of ['loss=1 step=-1', 'loss=1 step=1.5', '{"loss": 1, "step": "x1", "_step": -2}']) {
    const parsed = parseMetricLine(line);
    assert.ok(parsed, line);
    assert.deepEqual(parsed.values, [], line);
    assert.equal(parsed.warnings.length, 1, line);
    assert.match(parsed.warnings[0]!, /step must be a whole number/);
  }
});

void test('a metric name over the wire limit is dropped with a warning; the rest is kept', () => {
  const long = 'x'.repeat(MAX_METRIC_NAME + 1);
  const parsed = parseMetricLine(`${long}=1 ok=2`);
  assert.ok(parsed);
  assert.deepEqual(parsed.values, [{ name: 'ok', value: 2 }]);
  assert.equal(parsed.warnings.length, 1);
  const exact = 'y'.repeat(MAX_METRIC_NAME);
  assert.deepEqual(parseMetricLine(`${exact}=1`)?.values, [{ name: exact, value: 1 }]);
});

void test('a name repeated on one line: the last value wins', () => {
  assert.deepEqual(parseMetricLine('a=1 a=2')?.values, [{ name: 'a', value: 2 }]);
});

void test('parseNumber accepts decimals and non-finite words only', () => {
  assert.equal(parseNumber('42'), 42);
  assert.equal(parseNumber('-0.5e-2'), -0.005);
  assert.equal(parseNumber('.5'), 0.5);
  assert.equal(parseNumber('5.'), 5);
  assert.equal(parseNumber('1e400'), Infinity);
  assert.equal(parseNumber(''), null);
  assert.equal(parseNumber('1_000'), null);
  assert.equal(parseNumber('0b11'), null);
  assert.equal(parseNumber('nanx'), null);
  assert.equal(parseNumber('infinit'), null);
});

void test('a step the controller cannot store (above 2^31-1) drops its line with a warning; 2^31-1 itself is fine', () => {
  const over = parseMetricLine('loss=1 step=2147483648');
  assert.ok(over);
  assert.deepEqual(over.values, []);
  assert.match(over.warnings[0]!, /step must be a whole number from 0 to 2147483647 \(got 2147483648\)/);
  assert.deepEqual(parseMetricLine('loss=1 step=2147483647'), { step: 2147483647, values: [{ name: 'loss', value: 1 }], warnings: [] });
});

void test('JSON names the controller cannot store (empty, NUL, lone surrogate) are dropped alone with a warning', () => {
  const parsed = parseMetricLine('{"": 1, "a\\u0000b": 2, "c\\ud800": 3, "loss": 0.5}');
  assert.ok(parsed);
  assert.deepEqual(parsed.values, [{ name: 'loss', value: 0.5 }], 'the good metric of the line is kept');
  assert.equal(parsed.warnings.length, 3);
  assert.match(parsed.warnings.join('\n'), /empty/);
  assert.match(parsed.warnings.join('\n'), /NUL/);
  assert.match(parsed.warnings.join('\n'), /surrogate/);
});
