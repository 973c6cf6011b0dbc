/** `paramsIssues`: where an explicit configuration leaves the sweep's space, by the encoder's own rules. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { encodeSpace, paramsIssues, parseSweepConfig } from '../../../strategies/index.js';

const spec = parseSweepConfig(`method: random
program: train.py
parameters:
  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}
  layers: {values: [2, 4, 8]}
  dropout: {value: 0.1}
  epochs: {distribution: int_uniform, min: 1, max: 10}
  optimizer:
    parameters:
      name: {values: [adam, sgd]}
      beta: {min: 0.8, max: 0.99}
`);
const ok = { lr: 0.01, layers: 4, dropout: 0.1, epochs: 3, optimizer: { name: 'adam', beta: 0.9 } };
const paths = (p: Record<string, unknown>) => paramsIssues(spec, p as never).map((i) => `${i.path.join('.')}: ${i.message}`);

describe('paramsIssues', () => {
  it('accepts a configuration the encoder accepts', () => {
    assert.deepEqual(paths(ok), []);
    assert.doesNotThrow(() => encodeSpace(spec).encode(ok));
  });

  it('names the path of every offending value, nested ones included', () => {
    assert.deepEqual(paths({ ...ok, lr: 0.5, optimizer: { name: 'rmsprop', beta: 0.9 } }), [
      'lr: 0.5 is outside [0.0001, 0.1]',
      'optimizer.name: "rmsprop" is not one of its values',
    ]);
    assert.deepEqual(paths({ ...ok, epochs: 2.5 }), ['epochs: 2.5 is not one of its values']);
    assert.deepEqual(paths({ ...ok, dropout: 0.2 }), ['dropout: must be 0.1 (got 0.2)']);
    assert.deepEqual(paths({ ...ok, layers: '4' }), ['layers: "4" is not one of its values']);
  });

  it('names missing parameters and keys the space does not have', () => {
    const { epochs: _e, ...missing } = ok;
    assert.deepEqual(paths(missing), ['epochs: is missing: every parameter of the sweep needs a value']);
    assert.deepEqual(paths({ ...ok, momentum: 0.9, optimizer: { ...ok.optimizer, eps: 1e-8 } }), [
      'momentum: is not a parameter of this sweep; its parameters here are dropout, epochs, layers, lr, optimizer',
      'optimizer.eps: is not a parameter of this sweep; its parameters here are beta, name',
    ]);
    // Each refusal the checker makes, the encoder makes too: the two never disagree.
    assert.throws(() => encodeSpace(spec).encode({ ...ok, lr: 0.5 }), /do not fit/);
  });
});
