/**
 * `harrow.bayes`: the Bayesian optimizer's tuning in the sweep file, read into
 * `spec.harrow.bayes` (only the keys the file sets) and refused strictly otherwise. One fixture
 * per refusal lives in test/fixtures/sweeps/invalid/harrow-bayes-*.yaml; this covers the rest.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FAIL_ON, DEFAULT_PAUSE_ON_FAILURES, parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';
import type { Issue, SweepSpec } from '../../../strategies/types.js';

const HEAD = 'program: train.py\nmetric: {name: loss}\nparameters:\n  lr: {values: [0.1, 0.01, 0.001]}\n';

function parse(harrow: string, method = 'bayes'): SweepSpec {
  return parseSweepConfig(`method: ${method}\n${HEAD}harrow:\n${harrow}`);
}

function errors(harrow: string, method = 'bayes'): Issue[] {
  return validateSweepConfig(`method: ${method}\n${HEAD}harrow:\n${harrow}`).errors;
}

describe('harrow.bayes', () => {
  it('parses prior, deterministic and initial_design into spec.harrow.bayes', () => {
    const spec = parse('  seed: 3\n  bayes:\n    prior: hvarfner\n    deterministic: true\n    initial_design: 8\n');
    assert.deepEqual(spec.harrow, {
      seed: 3,
      retry: { maxAttempts: 3, on: ['crashed'] },
      pauseOnFailures: DEFAULT_PAUSE_ON_FAILURES,
      failOn: DEFAULT_FAIL_ON,
      bayes: { prior: 'hvarfner', deterministic: true, initialDesign: 8 },
    });
    assert.deepEqual(spec.warnings, []);
  });

  it('warns when initial_design leaves the GP no run under run_cap', () => {
    const spec = parseSweepConfig(`method: bayes\nrun_cap: 8\n${HEAD}harrow:\n  bayes: {initial_design: 8}\n`);
    assert.deepEqual(
      spec.warnings.map((w) => w.path),
      ['harrow.bayes.initial_design'],
    );
    assert.match(spec.warnings[0]!.message, /run_cap is 8: .*GP never proposes/);
    const fine = parseSweepConfig(`method: bayes\nrun_cap: 9\n${HEAD}harrow:\n  bayes: {initial_design: 8}\n`);
    assert.deepEqual(fine.warnings, []);
  });

  it('keeps only the keys the file sets, and no bayes field without the block', () => {
    assert.deepEqual(parse('  bayes: {deterministic: false}\n').harrow.bayes, { deterministic: false });
    assert.deepEqual(parse('  bayes: {prior: optuna}\n').harrow.bayes, { prior: 'optuna' });
    assert.deepEqual(parse('  bayes: {}\n').harrow.bayes, {});
    const without = parse('  seed: 1\n');
    assert.equal(without.harrow.bayes, undefined);
    assert.ok(!('bayes' in without.harrow), 'no bayes key, so stored specs stay as they were');
  });

  it('reads a numeric string for initial_design with the usual warning', () => {
    const spec = parse('  bayes: {initial_design: "6"}\n');
    assert.equal(spec.harrow.bayes?.initialDesign, 6);
    assert.deepEqual(
      spec.warnings.map((w) => w.path),
      ['harrow.bayes.initial_design'],
    );
  });

  it('refuses an initial_design that is not a whole number ≥ 1, saying what the default is', () => {
    for (const bad of ['2.5', '8.0', '-3', '0']) {
      const [e, ...rest] = errors(`  bayes: {initial_design: ${bad}}\n`);
      assert.equal(rest.length, 0, bad);
      assert.equal(e?.path, 'harrow.bayes.initial_design', bad);
      assert.match(e.message, /must be an integer ≥ 1/, bad);
      assert.match(e.message, /clamp\(2d, 5, 10\)/, bad);
    }
    assert.match(errors('  bayes: {initial_design: 8.0}\n')[0]!.message, /without a decimal point, initial_design: 8/);
    assert.match(errors('  bayes: {initial_design: many}\n')[0]!.message, /must be a number/);
  });

  it('reads failures (model, avoid, classifier-only, impute) and refuses another value, naming the choices', () => {
    assert.deepEqual(parse('  bayes: {failures: impute}\n').harrow?.bayes, { failures: 'impute' });
    assert.deepEqual(parse('  bayes: {failures: avoid}\n').harrow?.bayes, { failures: 'avoid' });
    assert.deepEqual(parse('  bayes: {failures: classifier-only}\n').harrow?.bayes, { failures: 'classifier-only' });
    const [e] = errors('  bayes: {failures: worst}\n');
    assert.equal(e?.path, 'harrow.bayes.failures');
    assert.match(e.message, /model/);
    assert.match(e.message, /avoid/);
  });

  it('refuses a harrow.bayes that is not a mapping', () => {
    const [e] = errors('  bayes: hvarfner\n');
    assert.equal(e?.path, 'harrow.bayes');
    assert.match(e.message, /must be a mapping/);
  });

  it('reports every problem in the block at once', () => {
    assert.deepEqual(
      errors('  bayes: {prior: botorch, deterministic: 1, initial_design: 0, restarts: 20}\n').map((e) => e.path),
      ['harrow.bayes.restarts', 'harrow.bayes.prior', 'harrow.bayes.deterministic', 'harrow.bayes.initial_design'],
    );
  });

  it('is refused with grid and random, after checking its contents', () => {
    for (const method of ['grid', 'random']) {
      const found = errors('  bayes: {prior: hvarfner}\n', method);
      assert.deepEqual(
        found.map((e) => e.path),
        ['harrow.bayes'],
        method,
      );
      assert.match(found[0]!.message, new RegExp(`only applies to method: bayes \\(this sweep is method: ${method}\\)`));
    }
    assert.deepEqual(
      errors('  bayes: {prior: hvarfnr}\n', 'random').map((e) => e.path),
      ['harrow.bayes.prior', 'harrow.bayes'],
    );
  });

  it('does not add a method error when the method itself is missing or wrong', () => {
    const result = validateSweepConfig(`method: bayse\n${HEAD}harrow:\n  bayes: {prior: hvarfner}\n`);
    assert.deepEqual(
      result.errors.map((e) => e.path),
      ['method'],
    );
  });
});
