import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ERROR_TAIL_CHARS, MAX_ERROR_LINE, errorLineIndices, isErrorLine, lastErrorLine } from '../../../protocol/output-errors.js';

const TRACEBACK = [
  'epoch 1',
  'loss=0.52 val_error=0.31',
  '{"loss": 0.4, "error_rate": 0.2}',
  'Traceback (most recent call last):',
  '  File "train.py", line 12, in <module>',
  '    main()',
  'ValueError: learning rate must be positive',
  'cleaning up',
  '',
].join('\n');

test('a Python traceback: its exception line is the error line, not the output after it', () => {
  assert.equal(lastErrorLine(TRACEBACK), 'ValueError: learning rate must be positive');
  assert.deepEqual(errorLineIndices(TRACEBACK), [3, 6]);
});

test('metric lines that name an error are results, not failures', () => {
  assert.equal(isErrorLine('loss=0.52 val_error=0.31'), false);
  assert.equal(isErrorLine('{"loss": 0.4, "error_rate": 0.2}'), false);
  assert.equal(isErrorLine('CUDA error: out of memory'), true);
  assert.equal(isErrorLine('Killed'), true);
  assert.equal(isErrorLine('loss is NaN, giving up'), true);
  assert.equal(isErrorLine('finance data loaded'), false, 'nan inside a word is not NaN');
  assert.equal(isErrorLine('zoom 2x'), false, 'oom inside a word is not OOM');
});

test('no error-looking line: the last non-empty line; an empty tail: null', () => {
  assert.equal(lastErrorLine('step 1\nstep 2\n  done  \n\n'), 'done');
  assert.equal(lastErrorLine(''), null);
  assert.equal(lastErrorLine(null), null);
  assert.deepEqual(errorLineIndices(null), []);
});

test('only the end of a long tail is read, and a line cut by the window is not taken for a line', () => {
  const cut = `RuntimeError: ${'x'.repeat(ERROR_TAIL_CHARS)}`;
  assert.equal(lastErrorLine(`${cut}\nall good\n`), 'all good', 'the cut error line lies mostly outside the window');
  const whole = 'y'.repeat(100);
  const exact = `${whole}\nFatal: disk full\n${'z'.repeat(ERROR_TAIL_CHARS - 18)}\n`;
  assert.equal(exact.length - whole.length - 1, ERROR_TAIL_CHARS, 'the window starts exactly at a line start');
  assert.equal(lastErrorLine(exact), 'Fatal: disk full', 'a whole line at the start of the window counts');
  assert.equal(lastErrorLine(`y${exact.slice(whole.length)}`.slice(1)), 'Fatal: disk full');
  assert.match(lastErrorLine(`${whole}Fatal: disk full\n${'z'.repeat(ERROR_TAIL_CHARS - 18)}\n`)!, /^z+…$/, 'a line cut by the window does not');
  // What db/ reads (the last ERROR_TAIL_CHARS + 1 characters) gives the same answer as the whole tail.
  for (const tail of [`${cut}\nall good\n`, exact, `${'a'.repeat(5000)}error here\n${'b'.repeat(4090)}\n`]) {
    assert.equal(lastErrorLine(tail.slice(-(ERROR_TAIL_CHARS + 1))), lastErrorLine(tail));
  }
});

test('a very long error line is cut with an ellipsis', () => {
  const line = lastErrorLine(`Error: ${'e'.repeat(2000)}`)!;
  assert.equal(line.length, MAX_ERROR_LINE);
  assert.ok(line.endsWith('…'));
});
