/** `harrow.run_timeout` and `harrow.budget` in the sweep file: read with their units, refused strictly with the path. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';
import { parseDuration } from '../../../strategies/spec/budget-limits.js';

const HEAD = 'method: random\nprogram: train.py\nparameters:\n  lr: {values: [0.1, 0.01]}\n';
const parse = (harrow: string) => parseSweepConfig(`${HEAD}harrow: ${harrow}\n`);
const errors = (harrow: string) => validateSweepConfig(`${HEAD}harrow: ${harrow}\n`).errors.map((e) => `${e.path}: ${e.message}`);

describe('harrow.run_timeout', () => {
  it('reads s, m and h', () => {
    assert.deepEqual(parse('{run_timeout: 2h}').harrow.runTimeout, { ms: 7_200_000, text: '2h' });
    assert.deepEqual(parse('{run_timeout: 90m}').harrow.runTimeout, { ms: 5_400_000, text: '90m' });
    assert.deepEqual(parse('{run_timeout: 45s}').harrow.runTimeout, { ms: 45_000, text: '45s' });
    assert.deepEqual(parse('{run_timeout: 1.5h}').harrow.runTimeout, { ms: 5_400_000, text: '1.5h' });
    assert.equal(parse('{}').harrow.runTimeout, undefined, 'no limit unless set');
  });

  it('refuses a bare number, another unit, zero and non-strings, naming the path', () => {
    assert.match(errors('{run_timeout: 7200}')[0]!, /^harrow\.run_timeout: needs a unit \(got 7200\)/);
    assert.match(errors('{run_timeout: 2d}')[0]!, /^harrow\.run_timeout: must be a duration .* the units are s, m and h/);
    assert.match(errors('{run_timeout: 0h}')[0]!, /^harrow\.run_timeout: must be a duration/);
    assert.match(errors('{run_timeout: [2h]}')[0]!, /^harrow\.run_timeout: must be a duration/);
    assert.equal(parseDuration('-1h'), null);
    assert.equal(parseDuration('2 h'), 7_200_000);
  });
});

describe('harrow.budget', () => {
  it('reads run_hours or gpu_hours', () => {
    assert.deepEqual(parse('{budget: {run_hours: 10}}').harrow.budget, { unit: 'run_hours', limit: 10 });
    assert.deepEqual(parse('{budget: {gpu_hours: 0.5}}').harrow.budget, { unit: 'gpu_hours', limit: 0.5 });
  });

  it('refuses both units, none, an unknown one (with a guess) and a non-positive limit', () => {
    assert.match(errors('{budget: {run_hours: 1, gpu_hours: 2}}')[0]!, /^harrow\.budget: give one unit/);
    assert.match(errors('{budget: {}}')[0]!, /^harrow\.budget: is empty/);
    assert.match(errors('{budget: {gpu_hour: 8}}')[0]!, /^harrow\.budget\.gpu_hour: unknown budget unit \(did you mean gpu_hours\?\)/);
    assert.match(errors('{budget: {run_hours: 0}}')[0]!, /^harrow\.budget\.run_hours: must be a number of hours > 0 \(got 0\)/);
    assert.match(errors('{budget: {run_hours: ten}}')[0]!, /^harrow\.budget\.run_hours: must be a number of hours > 0/);
    assert.match(errors('{budget: 10}')[0]!, /^harrow\.budget: must be a mapping such as \{run_hours: 10\}/);
  });
});
