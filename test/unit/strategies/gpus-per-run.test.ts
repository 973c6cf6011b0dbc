/** `harrow.gpus_per_run` in the sweep file: a whole number of GPUs, refused with the path otherwise. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';

const HEAD = 'method: random\nprogram: train.py\nparameters:\n  lr: {values: [0.1, 0.01]}\n';
const parse = (harrow: string) => parseSweepConfig(`${HEAD}harrow: ${harrow}\n`);
const errors = (harrow: string) => validateSweepConfig(`${HEAD}harrow: ${harrow}\n`).errors.map((e) => `${e.path}: ${e.message}`);

describe('harrow.gpus_per_run', () => {
  it('reads a whole number; absent means 1 (left out of the spec)', () => {
    assert.equal(parse('{gpus_per_run: 2}').harrow.gpusPerRun, 2);
    assert.equal(parse('{}').harrow.gpusPerRun, undefined);
  });

  it('refuses zero, fractions, 2.0, huge counts and strings, naming the path', () => {
    for (const bad of ['0', '1.5', '2.0', '65', '"two"', '-1']) {
      const [first] = errors(`{gpus_per_run: ${bad}}`);
      assert.match(first ?? '', /^harrow\.gpus_per_run: must be/, `gpus_per_run: ${bad} → ${first}`);
    }
  });
});
