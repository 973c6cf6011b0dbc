/**
 * Editing a sweep's spec (strategies/spec/spec-edit.ts, space/fit-params.ts): supported edits are
 * described, edits the runs so far cannot support are refused with the reason, and earlier runs
 * are seen through the new space (added parameters take their default, dropped ones are left out,
 * runs outside a narrowed range are excluded, never clipped).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { checkSpecEdit, extractDefaults, fitAll, fitParams, parseSweepConfig, SpecEditError, validateSweepConfig } from '../../../strategies/index.js';
import type { SweepSpec } from '../../../strategies/types.js';

const base = {
  method: 'bayes',
  metric: { name: 'loss', goal: 'minimize' },
  program: 'train.py',
  run_cap: 20,
  parameters: { lr: { min: 0.0, max: 0.1 }, optimizer: { values: ['adam', 'sgd'] }, momentum: { min: 0.5, max: 0.99 } },
};
type Config = Record<string, unknown>;
const specOf = (c: Config): SweepSpec => parseSweepConfig(c);
const edit = (next: Config, made = 5) => {
  const { config, defaults } = extractDefaults(next);
  return checkSpecEdit(specOf(base), specOf(config), defaults, made);
};
const refusedWith = (next: Config, pattern: RegExp, made = 5) =>
  assert.throws(
    () => edit(next, made),
    (err: unknown) => err instanceof SpecEditError && pattern.test(err.message),
  );

describe('checkSpecEdit', () => {
  it('widens a range, adds a parameter with its default, drops one, changes run_cap and the target', () => {
    const r = edit({
      ...base,
      run_cap: 40,
      metric: { ...base.metric, target: 0.05 },
      parameters: { lr: { min: 0.0, max: 0.3 }, optimizer: base.parameters.optimizer, dropout: { min: 0.0, max: 0.5, default: 0 } },
    });
    assert.deepEqual(r.changes, [
      'metric.target: none → 0.05',
      'parameters.dropout: added (uniform [0, 0.5]), earlier runs taken as 0',
      'parameters.lr: uniform [0, 0.1] → uniform [0, 0.3]',
      'parameters.momentum: dropped (was uniform [0.5, 0.99])',
      'run_cap: 20 → 40',
    ]);
    assert.deepEqual(r.spec.harrow.paramDefaults, { dropout: 0 });
  });

  it('refuses a new parameter without a default, naming how to give one', () =>
    refusedWith({ ...base, parameters: { ...base.parameters, dropout: { min: 0.0, max: 0.5 } } }, /parameters\.dropout is new: give it a default .*the 5 runs made so far ran with/));
  it('refuses a method change', () => refusedWith({ ...base, method: 'random' }, /^method cannot change \(bayes → random\)/));
  it('refuses a metric name or goal change', () => {
    refusedWith({ ...base, metric: { name: 'acc', goal: 'minimize' } }, /metric\.name cannot change \(loss → acc\)/);
    refusedWith({ ...base, metric: { name: 'loss', goal: 'maximize' } }, /metric\.goal cannot change/);
  });
  it('refuses a type change old values cannot map, allows one they can', () => {
    refusedWith({ ...base, parameters: { ...base.parameters, optimizer: { min: 0, max: 1 } } }, /parameters\.optimizer: values \["adam","sgd"\] → int_uniform \[0, 1\] changes its type \(string → number\)/);
    const ok = edit({ ...base, parameters: { ...base.parameters, momentum: { values: [0.9, 0.95] } } });
    assert.deepEqual(ok.changes, ['parameters.momentum: uniform [0.5, 0.99] → values [0.9,0.95]']);
  });
  it('refuses run_cap below the runs made, a default of the wrong type, and an edit that changes nothing', () => {
    refusedWith({ ...base, run_cap: 3 }, /run_cap 3 is below the 5 runs made already/);
    refusedWith({ ...base, parameters: { ...base.parameters, act: { values: ['relu', 'gelu'], default: 1 } } }, /parameters\.act\.default: 1 is a number, but act takes string values/);
    refusedWith({ ...base, name: 'renamed' }, /changes nothing/);
  });
});

describe('earlier runs seen through the edited space', () => {
  const next = edit({ ...base, parameters: { lr: { min: 0.0, max: 0.05 }, optimizer: base.parameters.optimizer, dropout: { min: 0.0, max: 0.5, default: 0.1 } } }).spec;
  it('fills the default, leaves the dropped parameter out, excludes a run outside the narrowed range', () => {
    assert.deepEqual(fitParams(next, { lr: 0.01, optimizer: 'adam', momentum: 0.9 }), { ok: true, params: { lr: 0.01, optimizer: 'adam', dropout: 0.1 } });
    const out = fitParams(next, { lr: 0.08, optimizer: 'adam', momentum: 0.9 });
    assert.equal(out.ok, false);
    assert.match(out.ok ? '' : out.reason, /^lr 0\.08 is outside \[0, 0\.05\]/);
    const all = fitAll(next, [{ params: { lr: 0.01, optimizer: 'sgd' } }, { params: { lr: 0.07, optimizer: 'sgd' } }, { params: { lr: 0.09, optimizer: 'adam' } }]);
    assert.equal(all.fit.length, 1);
    assert.equal(all.excluded, 2);
    assert.deepEqual([...all.reasons], [['lr … is outside [0, 0.05]', 2]]);
  });
});

describe('default: in a file read on its own (harrow validate, harrow create)', () => {
  const edited = [
    'method: bayes',
    'metric: {name: loss, goal: minimize}',
    'program: train.py',
    'parameters:',
    '  lr: {min: 0.0001, max: 0.3, distribution: log_uniform_values}',
    '  dropout: {min: 0.0, max: 0.5, default: 0.0}',
    '  opt:',
    '    parameters:',
    '      beta: {values: [0.9, 0.99], default: 0.9}',
    '',
  ].join('\n');

  it('is a known key: the file is valid, with a warning that only harrow edit reads it, and the spec is as without it', () => {
    const result = validateSweepConfig(edited);
    assert.deepEqual(result.errors, []);
    assert.equal(result.valid, true);
    const warned = result.warnings.filter((w) => /harrow edit/.test(w.message)).map((w) => w.path);
    assert.deepEqual(warned.sort(), ['parameters.dropout.default', 'parameters.opt.parameters.beta.default']);
    const without = parseSweepConfig(edited.replace(', default: 0.0}', '}').replace(', default: 0.9}', '}'));
    assert.deepEqual(parseSweepConfig(edited).parameters, without.parameters);
  });

  it('still refuses what is wrong beside it, and a default alone is an empty parameter', () => {
    const bad = validateSweepConfig(edited.replace('max: 0.5, default', 'mx: 0.5, default'));
    assert.ok(bad.errors.some((e) => e.path === 'parameters.dropout.max' && /is missing/.test(e.message)), JSON.stringify(bad.errors));
    assert.equal(bad.valid, false);
    const alone = validateSweepConfig(edited.replace('{min: 0.0, max: 0.5, default: 0.0}', '{default: 0.0}'));
    assert.ok(alone.errors.some((e) => e.path === 'parameters.dropout' && /is empty/.test(e.message)), JSON.stringify(alone.errors));
  });
});
