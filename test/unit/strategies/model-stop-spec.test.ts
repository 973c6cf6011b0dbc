import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';

const BASE = 'program: train.py\nmetric: {name: loss}\nparameters:\n  x: {min: 0.0, max: 1.0}\n';

function errors(yaml: string): Array<{ path: string; message: string }> {
  const r = validateSweepConfig(yaml);
  assert.equal(r.valid, false, `expected errors for:\n${yaml}`);
  return r.errors.map((e) => ({ path: e.path, message: e.message }));
}

describe('harrow.early_terminate: {type: model}', () => {
  it('reads z and at, with defaults, and turns multi_fidelity on', () => {
    const spec = parseSweepConfig(`method: bayes\n${BASE}harrow: {early_terminate: {type: model}}\n`);
    assert.deepEqual(spec.earlyTerminate, { type: 'model', z: 1.645, at: [3, 5, 8, 12, 18] });
    assert.equal(spec.harrow.bayes?.multiFidelity, true);
    const custom = parseSweepConfig(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, z: 0, at: [2, 10]}, bayes: {prior: optuna}}\n`);
    assert.deepEqual(custom.earlyTerminate, { type: 'model', z: 0, at: [2, 10] });
    assert.deepEqual(custom.harrow.bayes, { prior: 'optuna', multiFidelity: true });
  });

  it('needs method: bayes, saying what to use instead', () => {
    const [e, ...rest] = errors(`method: random\n${BASE}harrow: {early_terminate: {type: model}}\n`);
    assert.equal(rest.length, 0);
    assert.equal(e!.path, 'harrow.early_terminate.type');
    assert.match(e!.message, /needs method: bayes \(this sweep is method: random\); use method: bayes, or type: asha or median/);
  });

  it('refuses multi_fidelity: false beside it', () => {
    const [e] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model}, bayes: {multi_fidelity: false}}\n`);
    assert.equal(e!.path, 'harrow.bayes.multi_fidelity');
    assert.match(e!.message, /remove multi_fidelity: false/);
  });

  it('refuses a negative z, and a bad at list, by path', () => {
    const [z] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, z: -1}}\n`);
    assert.equal(z!.path, 'harrow.early_terminate.z');
    assert.match(z!.message, /must be ≥ 0 \(got -1\)/);
    assert.equal(errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, z: lots}}\n`)[0]!.path, 'harrow.early_terminate.z');

    const [empty] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, at: []}}\n`);
    assert.equal(empty!.path, 'harrow.early_terminate.at');
    assert.match(empty!.message, /non-empty list .* e\.g\. at: \[3, 5, 8, 12, 18\]/);
    const [scalar] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, at: 5}}\n`);
    assert.equal(scalar!.path, 'harrow.early_terminate.at');

    const bad = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, at: [3, 0, 2.5, x]}}\n`);
    assert.deepEqual(bad.map((e) => e.path), ['harrow.early_terminate.at.1', 'harrow.early_terminate.at.2', 'harrow.early_terminate.at.3']);
    assert.match(bad[0]!.message, /must be an integer ≥ 1 \(got 0\)/);

    const [order] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, at: [5, 3]}}\n`);
    assert.equal(order!.path, 'harrow.early_terminate.at.1');
    assert.match(order!.message, /greater than the entry before it \(5\)/);
  });

  it('refuses unknown keys with a suggestion, and names model among the types', () => {
    const [e] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: model, zz: 1}}\n`);
    assert.equal(e!.path, 'harrow.early_terminate.zz');
    assert.match(e!.message, /model takes type, z and at/);
    const [t] = errors(`method: bayes\n${BASE}harrow: {early_terminate: {type: modle}}\n`);
    assert.match(t!.message, /asha, median or model.*did you mean model/);
  });
});
