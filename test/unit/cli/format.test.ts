import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  bestSoFarSeries,
  describeStop,
  detectStyle,
  fitLine,
  formatDuration,
  formatNumber,
  formatParams,
  renderTable,
  runNote,
  sparkline,
  truncate,
} from '../../../cli/format.js';
import { runSummary } from './fixtures.js';

const plain = { color: false };
const colored = { color: true };

test('numbers: integers whole, others to 5 significant digits without trailing zeros', () => {
  assert.equal(formatNumber(42), '42');
  assert.equal(formatNumber(-3), '-3');
  assert.equal(formatNumber(0), '0');
  assert.equal(formatNumber(-0), '0');
  assert.equal(formatNumber(0.5), '0.5');
  assert.equal(formatNumber(0.123456789), '0.12346');
  assert.equal(formatNumber(123.456789), '123.46');
  assert.equal(formatNumber(1.0000001), '1');
  assert.equal(formatNumber(0.0001), '0.0001');
  assert.equal(formatNumber(123456.7), '123457');
  assert.equal(formatNumber(0.12345678, 3), '0.123');
});

test('numbers: exponent form for learning-rate-small and huge values, specials spelled out', () => {
  assert.equal(formatNumber(3.2e-5), '3.2e-5');
  assert.equal(formatNumber(1.23456789e-7), '1.2346e-7');
  assert.equal(formatNumber(2.5e12 + 0.5), '2.5e12');
  assert.equal(formatNumber(null), '-');
  assert.equal(formatNumber(undefined), '-');
  assert.equal(formatNumber(NaN), 'NaN');
  assert.equal(formatNumber(Infinity), 'inf');
  assert.equal(formatNumber(-Infinity), '-inf');
});

test('durations: two units at most, the second zero-padded', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(999), '0s');
  assert.equal(formatDuration(42_000), '42s');
  assert.equal(formatDuration(65_000), '1m 05s');
  assert.equal(formatDuration(59 * 60_000 + 59_999), '59m 59s');
  assert.equal(formatDuration(2 * 3_600_000 + 3 * 60_000 + 30_000), '2h 03m');
  assert.equal(formatDuration(3 * 86_400_000 + 4 * 3_600_000), '3d 04h');
  assert.equal(formatDuration(-5), '-');
});

test('params: sorted keys, numbers to 4 digits, strings quoted only when they need it, cut with an ellipsis', () => {
  assert.equal(formatParams({ lr: 0.000312345, batch: 64, opt: 'adam', note: 'two words', layers: [64, 32] }), 'batch=64 layers=[64,32] lr=0.0003123 note="two words" opt=adam');
  const cut = formatParams({ a: 'x'.repeat(50) }, 20);
  assert.equal([...cut].length, 20);
  assert.ok(cut.endsWith('…'));
  assert.equal(truncate('abc', 3), 'abc');
  assert.equal(truncate('abcd', 3), 'ab…');
});

test('tables: columns aligned under their headers, numbers right-aligned, no trailing spaces', () => {
  const lines = renderTable(
    [{ header: 'ID' }, { header: 'STATE' }, { header: 'VALUE', align: 'right' }, { header: 'NOTE' }],
    [
      ['a', 'running', '0.5', ''],
      ['longer-id', 'finished', '12.25', 'ok'],
    ],
    { style: plain },
  );
  assert.deepEqual(lines, ['ID         STATE     VALUE  NOTE', 'a          running     0.5', 'longer-id  finished  12.25  ok']);
});

test('tables: a shrinkable column gives up width to fit the terminal, with an ellipsis', () => {
  const lines = renderTable([{ header: 'ID' }, { header: 'PARAMS', shrink: true, minWidth: 8 }], [['r1', 'lr=0.001 batch=32 optimizer=adam']], { style: plain, width: 20 });
  assert.ok(lines.every((l) => [...l].length <= 20), lines.join('\n'));
  assert.equal(lines[1], 'r1  lr=0.001 batch=…');
});

test('tables: colors wrap the text only, so colored and plain tables align the same', () => {
  const rows = [[{ text: 'running', color: 'cyan' as const }, 'x']];
  const [, line] = renderTable([{ header: 'STATE' }, { header: 'N' }], rows, { style: colored });
  assert.equal(line, '\x1b[36mrunning\x1b[0m  x');
  const [, flat] = renderTable([{ header: 'STATE' }, { header: 'N' }], rows, { style: plain });
  assert.equal(flat, 'running  x');
});

test('color only on a terminal and never with NO_COLOR or TERM=dumb', () => {
  assert.equal(detectStyle({ isTTY: true }, {}).color, true);
  assert.equal(detectStyle({ isTTY: false }, {}).color, false);
  assert.equal(detectStyle({}, {}).color, false);
  assert.equal(detectStyle({ isTTY: true }, { NO_COLOR: '1' }).color, false);
  assert.equal(detectStyle({ isTTY: true }, { NO_COLOR: '' }).color, true, 'an empty NO_COLOR does not count (no-color.org)');
  assert.equal(detectStyle({ isTTY: true }, { TERM: 'dumb' }).color, false);
});

test('sparkline: lowest to highest block, gaps for missing values, resampled to the width', () => {
  assert.equal(sparkline([0, 7, 3.5]), '▁█▅');
  assert.equal(sparkline([null, 2, 2]), ' ▄▄');
  assert.equal(sparkline([]), '');
  // 100 values into 10 columns: each column is its bucket's last value (9, 19, ..., 99).
  const line = sparkline(Array.from({ length: 100 }, (_, i) => i), 10);
  assert.equal(line.length, 10);
  assert.equal(line[0], '▁');
  assert.equal(line[9], '█');
});

test('best-so-far series: one value per finished run from the 1-based improvement points', () => {
  const series = bestSoFarSeries({
    counted: 6,
    curve: [
      { index: 2, runId: 'a', number: 3, value: 0.9, at: '' },
      { index: 5, runId: 'b', number: 7, value: 0.4, at: '' },
    ],
  });
  assert.deepEqual(series, [null, 0.9, 0.9, 0.9, 0.4, 0.4]);
});

test('stop reasons: rule, band or rung, value and threshold; a user stop shows its message', () => {
  assert.equal(describeStop({ rule: 'hyperband', band: 9, at: 9, threshold: 0.45, value: 0.61234567, message: 'Run: x Step: 9 ...' }), 'hyperband at band 9: 0.61235 vs threshold 0.45');
  assert.equal(
    describeStop({ rule: 'model', at: 5, threshold: 0.15, value: 0.31234567, optimistic: 0.27, message: 'model after 5 values: ...' }),
    'model after 5 values: predicted final 0.31235 (optimistic 0.27) vs best 0.15',
  );
  assert.equal(describeStop({ rule: 'asha', rung: 3, threshold: 0.2, value: 0.3, message: 'm' }), 'asha at rung 3: 0.3 vs threshold 0.2');
  assert.equal(describeStop({ rule: 'median', at: 12, threshold: 0.5, value: 0.7, message: 'm' }), 'median after 12 values: 0.7 vs median 0.5');
  assert.equal(describeStop({ rule: 'user', message: 'looks diverged' }), 'looks diverged');
  assert.equal(describeStop({}), 'stopped');
});

test('run notes: why a run stopped, failed or crashed, and where a running one runs', () => {
  assert.equal(runNote(runSummary({ state: 'stopped', stopInfo: { rule: 'asha', rung: 1, threshold: 1, value: 2, message: 'x' } })), 'asha at rung 1: 2 vs threshold 1');
  assert.equal(runNote(runSummary({ state: 'failed', exitCode: 3, reason: 'CUDA out of memory' })), 'exit 3: CUDA out of memory');
  assert.equal(runNote(runSummary({ state: 'failed', exitCode: 3, reason: 'exited with code 3' })), 'exited with code 3');
  assert.equal(runNote(runSummary({ state: 'crashed', reason: 'no heartbeat for 60 s (agent lost)' })), 'no heartbeat for 60 s (agent lost)');
  assert.equal(runNote(runSummary({ state: 'running', host: 'box', gpu: '1' })), 'on box gpu 1');
  assert.equal(runNote(runSummary({ state: 'running', stopInfo: { rule: 'user', message: 'enough' } })), 'stopping: enough');
  assert.equal(runNote(runSummary({ state: 'queued', attempt: 2, reason: 'retry after crash' })), 'attempt 2 (retry after crash)');
  assert.equal(runNote(runSummary({ state: 'finished' })), '');
});

test('run notes: refused points and data loss are never silent', () => {
  const refused = { kind: 'points_refused' as const, attempt: 1, count: 3, message: '3 metric points could not be stored ...' };
  const lost = { kind: 'data_loss' as const, attempt: 1, count: 1, message: 'data loss: 1 of the 20 metric points ...' };
  assert.equal(runNote(runSummary({ state: 'finished', warnings: [refused] })), '⚠ 3 points refused');
  assert.equal(runNote(runSummary({ state: 'finished', warnings: [refused, lost] })), '⚠ 3 points refused, data loss: 1 point missing');
  assert.equal(runNote(runSummary({ state: 'failed', exitCode: 3, reason: 'CUDA out of memory', warnings: [lost] })), 'exit 3: CUDA out of memory; ⚠ data loss: 1 point missing');
});

test('fitLine cuts to the visible width without breaking or counting color codes', () => {
  const line = `ab\x1b[32mcdef\x1b[0mgh`;
  assert.equal(fitLine(line, 8), line);
  assert.equal(fitLine(line, 5), 'ab\x1b[32mcd…\x1b[0m');
  assert.equal(fitLine('abcdef', 4), 'abc…');
});
