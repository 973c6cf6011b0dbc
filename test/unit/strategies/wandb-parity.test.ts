/**
 * W&B parity leftovers from issue 13: each case does what W&B's own client and agent do
 * (`wandb/sdk/launch/sweeps/utils.py`, `wandb/wandb_agent.py`, `wandb/sdk/internal/internal_api.py`,
 * `sweeps/config/schema.py`), or is refused with a message that says why.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SweepConfigError, createBayesStrategy, parseSweepConfig, renderCommand } from '../../../strategies/index.js';
import type { Observation, SweepSpec } from '../../../strategies/types.js';

function parse(text: string): SweepSpec {
  return parseSweepConfig(text);
}

function refusal(text: string): string {
  try {
    parseSweepConfig(text);
  } catch (e) {
    assert.ok(e instanceof SweepConfigError, String(e));
    return e.message;
  }
  assert.fail('the config was accepted');
}

describe('W&B parity: ${envvar:NAME}', () => {
  const render = (element: string, env: Record<string, string>): string[] => {
    const spec = parse(`method: random\nprogram: t.py\ncommand: ["${element}"]\nparameters:\n  a: {value: 1}\n`);
    return renderCommand(spec.command, { a: 1 }, { env });
  };

  it('expands names of capitals, digits and _ (W&B\'s [A-Z0-9_]*), inside longer elements too, and the literal name when unset', () => {
    assert.deepEqual(render('--data=${envvar:DATA_DIR}/x', { DATA_DIR: '/d' }), ['--data=/d/x']);
    assert.deepEqual(render('${envvar:2FA}', { '2FA': 'on' }), ['on']);
    assert.deepEqual(render('--data=${envvar:MISSING}', {}), ['--data=MISSING']);
    // An empty name is os.environ.get('', '') in W&B: the empty string.
    assert.deepEqual(render('a${envvar:}b', {}), ['ab']);
  });

  it('refuses a name W&B\'s agent would leave unexpanded, saying so and suggesting a name it expands', () => {
    const message = refusal('method: random\nprogram: t.py\ncommand: ["--home=${envvar:home}"]\nparameters:\n  a: {value: 1}\n');
    assert.match(message, /command\.0/);
    assert.match(message, /does not expand/);
    assert.match(message, /\$\{envvar:HOME\}/);
    assert.match(refusal('method: random\nprogram: t.py\ncommand: ["${envvar:Data-Dir}"]\nparameters:\n  a: {value: 1}\n'), /\$\{envvar:DATA_DIR\}/);
  });
});

describe('W&B parity: non-string command elements', () => {
  it('passes a boolean element as True/False, as W&B\'s str(element) does, with a warning', () => {
    const spec = parse('method: random\nprogram: t.py\ncommand: [python, t.py, --flag, true, --other, false]\nparameters:\n  a: {value: 1}\n');
    assert.deepEqual(renderCommand(spec.command, { a: 1 }, { env: {} }), ['python', 't.py', '--flag', 'True', '--other', 'False']);
    assert.deepEqual(spec.warnings.map((w) => w.path), ['command.3', 'command.5']);
    assert.match(spec.warnings[0]!.message, /True/);
  });

  it('still refuses null, lists and mappings as elements', () => {
    assert.match(refusal('method: random\nprogram: t.py\ncommand: [python, null]\nparameters:\n  a: {value: 1}\n'), /command\.1/);
    assert.match(refusal('method: random\nprogram: t.py\ncommand: [python, [a, b]]\nparameters:\n  a: {value: 1}\n'), /command\.1/);
  });
});

describe('W&B parity: mixed integer and float bounds', () => {
  it('at the top level are refused as ambiguous, as W&B\'s client does', () => {
    assert.match(refusal('method: random\nprogram: t.py\nparameters:\n  lr: {min: 0, max: 1.0}\n'), /ambiguous/);
  });

  it('inside a nested block are read as uniform, as W&B\'s schema and agent do, with a warning', () => {
    const spec = parse('method: random\nprogram: t.py\nparameters:\n  opt:\n    parameters:\n      lr: {min: 0, max: 1.5}\n      m: {min: 0.5, max: 2}\n');
    const opt = spec.parameters.opt;
    assert.ok(opt?.distribution === 'nested');
    assert.deepEqual(opt.parameters.lr, { distribution: 'uniform', min: 0, max: 1.5 });
    assert.deepEqual(opt.parameters.m, { distribution: 'uniform', min: 0.5, max: 2 });
    assert.deepEqual(spec.warnings.map((w) => w.path).sort(), ['parameters.opt.parameters.lr', 'parameters.opt.parameters.m']);
  });
});

describe('W&B parity: method bayes over single-value parameters only', () => {
  const text = 'method: bayes\nprogram: t.py\nmetric: {name: loss}\nparameters:\n  a: {value: 1}\n  b: {values: [x]}\n';

  it('is accepted with a warning, and reruns the one configuration as W&B does', () => {
    const spec = parse(text);
    assert.ok(spec.warnings.some((w) => w.path === 'parameters' && /one configuration/.test(w.message)), JSON.stringify(spec.warnings));
    const strategy = createBayesStrategy(spec, { seed: 1 });
    const observations: Observation[] = [];
    for (let i = 0; i < 3; i++) {
      const [p] = strategy.propose({ observations, pending: [], count: 1 });
      assert.ok(p, `no proposal at step ${i}`);
      assert.deepEqual(p.params, { a: 1, b: 'x' });
      observations.push({ params: p.params, state: 'finished', value: i });
    }
  });

  it('over value: constants only is refused, as W&B refuses it (no searchable parameter)', () => {
    assert.match(refusal('method: bayes\nprogram: t.py\nmetric: {name: loss}\nparameters:\n  a: {value: 1}\n'), /nothing to search/);
  });
});
