/** `harrow.pause_on_failures` and `harrow.fail_on`: defaults, parsing, strict refusals, matching. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FAIL_ON, failOnOf, matchFailOn, parseSweepConfig, pauseOnFailuresOf, validateSweepConfig } from '../../../strategies/index.js';

const HEAD = 'method: random\nprogram: train.py\nparameters:\n  lr: {values: [0.1, 0.01]}\n';
const parse = (harrow: string) => parseSweepConfig(`${HEAD}harrow:\n${harrow}`);
const errors = (harrow: string) => validateSweepConfig(`${HEAD}harrow:\n${harrow}`).errors.map((e) => `${e.path}: ${e.message}`);

describe('harrow.pause_on_failures', () => {
  it('defaults to the first 3 or 5 in a row; specs stored before the setting get the same', () => {
    assert.deepEqual(parseSweepConfig(HEAD).harrow.pauseOnFailures, { first: 3, consecutive: 5 });
    assert.deepEqual(pauseOnFailuresOf({ harrow: { retry: { maxAttempts: 3, on: ['crashed'] } } }), { first: 3, consecutive: 5 });
  });

  it('takes a mapping, false per rule, or false for both', () => {
    assert.deepEqual(parse('  pause_on_failures: {first: 2}\n').harrow.pauseOnFailures, { first: 2, consecutive: 5 });
    assert.deepEqual(parse('  pause_on_failures: {first: false, consecutive: 10}\n').harrow.pauseOnFailures, { first: null, consecutive: 10 });
    assert.deepEqual(parse('  pause_on_failures: false\n').harrow.pauseOnFailures, { first: null, consecutive: null });
  });

  it('refuses anything else with the path and an example', () => {
    assert.deepEqual(errors('  pause_on_failures: true\n'), ['harrow.pause_on_failures: must be a mapping such as {first: 3, consecutive: 5}, or false to never pause on failures (got true)']);
    assert.match(errors('  pause_on_failures: {first: 0}\n')[0] ?? '', /^harrow\.pause_on_failures\.first: must be an integer ≥ 1 or false \(got 0\)/);
    assert.match(errors('  pause_on_failures: {consecutive: 2.5}\n')[0] ?? '', /^harrow\.pause_on_failures\.consecutive: must be an integer ≥ 1 or false/);
    assert.match(errors('  pause_on_failures: {firts: 2}\n')[0] ?? '', /^harrow\.pause_on_failures\.firts: .*first/);
  });
});

describe('harrow.fail_on', () => {
  it('defaults to out-of-memory messages; a list replaces them; [] turns it off', () => {
    assert.deepEqual(parseSweepConfig(HEAD).harrow.failOn, DEFAULT_FAIL_ON);
    assert.deepEqual(parse("  fail_on: ['NCCL error', {pattern: 'Segmentation fault', name: segfault}]\n").harrow.failOn, [
      { pattern: 'NCCL error', name: 'output matched fail_on' },
      { pattern: 'Segmentation fault', name: 'segfault' },
    ]);
    assert.deepEqual(parse('  fail_on: []\n').harrow.failOn, []);
    assert.deepEqual(failOnOf({ harrow: { retry: { maxAttempts: 1, on: [] } } }), DEFAULT_FAIL_ON);
  });

  it('refuses invalid regular expressions, empty patterns and other shapes', () => {
    assert.match(errors("  fail_on: ['(unclosed']\n")[0] ?? '', /^harrow\.fail_on\.0: is not a valid regular expression/);
    assert.match(errors("  fail_on: ['']\n")[0] ?? '', /^harrow\.fail_on\.0: must not be empty/);
    assert.match(errors('  fail_on: CUDA\n')[0] ?? '', /^harrow\.fail_on: must be a list of regular expressions/);
    assert.match(errors('  fail_on: [{name: x}]\n')[0] ?? '', /^harrow\.fail_on\.0\.pattern: is missing/);
    assert.match(errors('  fail_on: [3]\n')[0] ?? '', /^harrow\.fail_on\.0: must be a regular expression/);
  });

  it('matches the first line of the output that a rule finds, rule by rule', () => {
    const tail = [
      'epoch 1 loss=0.9',
      'Traceback (most recent call last):',
      'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)',
      '',
    ].join('\n');
    const hit = matchFailOn(DEFAULT_FAIL_ON, tail);
    assert.equal(hit?.rule.name, 'out of memory');
    assert.equal(hit?.line, 'torch.OutOfMemoryError: CUDA out of memory. Tried to allocate 2.00 GiB (GPU 0; 15.78 GiB total capacity)');
    assert.equal(matchFailOn(DEFAULT_FAIL_ON, 'RuntimeError: CUDA error: out of memory\r\n')?.line, 'RuntimeError: CUDA error: out of memory');
    assert.equal(matchFailOn(DEFAULT_FAIL_ON, 'ValueError: bad lr'), null);
    assert.equal(matchFailOn([], tail), null);
  });
});
