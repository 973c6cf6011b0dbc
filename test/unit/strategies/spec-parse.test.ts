import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_FAIL_ON, DEFAULT_PAUSE_ON_FAILURES, SweepConfigError, parseSweepConfig, validateSweepConfig } from '../../../strategies/index.js';
import { MAX_SOURCE_CHARS } from '../../../strategies/spec/read-source.js';
import type { ParameterSpec, SweepSpec } from '../../../strategies/types.js';

function parse(body: string, head = 'method: random\nprogram: train.py\n'): SweepSpec {
  return parseSweepConfig(head + body);
}

function param(yaml: string): ParameterSpec {
  return parse(`parameters:\n  x: ${yaml}\n`).parameters.x!;
}

function warningPaths(spec: SweepSpec): string[] {
  return spec.warnings.map((w) => w.path);
}

describe('parseSweepConfig: the W&B format', () => {
  it('normalizes a typical W&B file, keeping labels and filling defaults', () => {
    const spec = parseSweepConfig(`
name: resnet lr sweep
description: tune the optimizer
entity: vision
project: resnet
program: train.py
method: bayes
metric:
  name: val/loss
  goal: minimize
run_cap: 50
parameters:
  lr: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}
  batch_size: {values: [32, 64, 128]}
  epochs: {value: 20}
`);
    assert.deepEqual(spec, {
      method: 'bayes',
      metric: { name: 'val/loss', goal: 'minimize', impute: 'worst', imputeWhileRunning: false },
      parameters: {
        lr: { distribution: 'log_uniform_values', min: 1e-5, max: 0.1 },
        batch_size: { distribution: 'categorical', values: [32, 64, 128] },
        epochs: { distribution: 'constant', value: 20 },
      },
      command: ['${env}', '${interpreter}', '${program}', '${args}'],
      harrow: { retry: { maxAttempts: 3, on: ['crashed'] }, pauseOnFailures: DEFAULT_PAUSE_ON_FAILURES, failOn: DEFAULT_FAIL_ON },
      warnings: [],
      runCap: 50,
      program: 'train.py',
      name: 'resnet lr sweep',
      description: 'tune the optimizer',
      entity: 'vision',
      project: 'resnet',
    });
  });

  it('infers the distribution as W&B does when it is omitted', () => {
    assert.deepEqual(param('{values: [a, b]}'), { distribution: 'categorical', values: ['a', 'b'] });
    assert.deepEqual(param('{values: [a, b], probabilities: [0.25, 0.75]}'), {
      distribution: 'categorical_w_probabilities',
      values: ['a', 'b'],
      probabilities: [0.25, 0.75],
    });
    assert.deepEqual(param('{value: [1, 2]}'), { distribution: 'constant', value: [1, 2] });
    assert.deepEqual(param('{value: null}'), { distribution: 'constant', value: null });
    assert.deepEqual(param('{min: 1, max: 10}'), { distribution: 'int_uniform', min: 1, max: 10 });
    assert.deepEqual(param('{min: 1.0, max: 10.0}'), { distribution: 'uniform', min: 1, max: 10 });
    assert.deepEqual(param('{min: 1e-5, max: 1e-1}'), { distribution: 'uniform', min: 1e-5, max: 0.1 });
    assert.deepEqual(param('{min: !!float 1, max: !!float 10}'), { distribution: 'uniform', min: 1, max: 10 });
    assert.deepEqual(param('{min: 0x10, max: 0x20}'), { distribution: 'int_uniform', min: 16, max: 32 });
  });

  it('accepts integer bounds with an explicit distribution: uniform', () => {
    assert.deepEqual(param('{distribution: uniform, min: 0, max: 1}'), { distribution: 'uniform', min: 0, max: 1 });
  });

  it('fills each distribution\'s defaults (mu 0, sigma 1, a = b = 1, q 1.0)', () => {
    assert.deepEqual(param('{distribution: normal}'), { distribution: 'normal', mu: 0, sigma: 1 });
    assert.deepEqual(param('{distribution: log_normal, mu: 2}'), { distribution: 'log_normal', mu: 2, sigma: 1 });
    assert.deepEqual(param('{distribution: beta}'), { distribution: 'beta', a: 1, b: 1 });
    assert.deepEqual(param('{distribution: q_beta, a: 2}'), { distribution: 'q_beta', a: 2, b: 1, q: 1, qIsInteger: false });
    assert.deepEqual(param('{distribution: q_normal, q: 2}'), { distribution: 'q_normal', mu: 0, sigma: 1, q: 2, qIsInteger: true });
    assert.deepEqual(param('{distribution: q_uniform, min: 0, max: 10}'), { distribution: 'q_uniform', min: 0, max: 10, q: 1, qIsInteger: false });
  });

  it('casts quantized values to int only when q is written as an integer (W&B)', () => {
    assert.equal((param('{distribution: q_uniform, min: 0, max: 10, q: 2}') as { qIsInteger: boolean }).qIsInteger, true);
    assert.equal((param('{distribution: q_uniform, min: 0, max: 10, q: 2.0}') as { qIsInteger: boolean }).qIsInteger, false);
    assert.equal((param('{distribution: q_log_normal, q: 0.5}') as { qIsInteger: boolean }).qIsInteger, false);
  });

  it('accepts all 18 distributions', () => {
    const forms = [
      '{distribution: constant, value: 1}',
      '{distribution: categorical, values: [1]}',
      '{distribution: categorical_w_probabilities, values: [1, 2], probabilities: [0.5, 0.5]}',
      '{distribution: int_uniform, min: 0, max: 3}',
      '{distribution: uniform, min: 0, max: 3}',
      '{distribution: q_uniform, min: 0, max: 3, q: 0.5}',
      '{distribution: log_uniform, min: -3, max: 0}',
      '{distribution: log_uniform_values, min: 0.001, max: 1}',
      '{distribution: q_log_uniform, min: 0, max: 3}',
      '{distribution: q_log_uniform_values, min: 1, max: 100, q: 1}',
      '{distribution: inv_log_uniform, min: 0, max: 3}',
      '{distribution: inv_log_uniform_values, min: 0.001, max: 1}',
      '{distribution: normal, mu: 1, sigma: 2}',
      '{distribution: q_normal, mu: 1, sigma: 2, q: 1}',
      '{distribution: log_normal, mu: 1, sigma: 2}',
      '{distribution: q_log_normal, mu: 1, sigma: 2, q: 1}',
      '{distribution: beta, a: 2, b: 3}',
      '{distribution: q_beta, a: 2, b: 3, q: 0.1}',
    ];
    const spec = parse(`parameters:\n${forms.map((f, i) => `  p${String(i).padStart(2, '0')}: ${f}`).join('\n')}\n`);
    assert.deepEqual(
      Object.values(spec.parameters).map((p) => p.distribution),
      ['constant', 'categorical', 'categorical_w_probabilities', 'int_uniform', 'uniform', 'q_uniform', 'log_uniform', 'log_uniform_values', 'q_log_uniform', 'q_log_uniform_values', 'inv_log_uniform', 'inv_log_uniform_values', 'normal', 'q_normal', 'log_normal', 'q_log_normal', 'beta', 'q_beta'],
    );
  });

  it('nests parameters blocks to any depth and accepts dots and hyphens in names', () => {
    const spec = parse(`parameters:
  model.encoder.depth: {values: [2, 4]}
  batch-size: {values: [16]}
  optimizer:
    parameters:
      lr: {min: 0.001, max: 0.1}
      nadam:
        parameters:
          beta: {value: 0.9}
`);
    assert.deepEqual(Object.keys(spec.parameters), ['model.encoder.depth', 'batch-size', 'optimizer']);
    assert.deepEqual(spec.parameters.optimizer, {
      distribution: 'nested',
      parameters: {
        lr: { distribution: 'uniform', min: 0.001, max: 0.1 },
        nadam: { distribution: 'nested', parameters: { beta: { distribution: 'constant', value: 0.9 } } },
      },
    });
  });

  it('warns about the deprecated exponent forms and says what they mean', () => {
    const spec = parse('parameters:\n  lr: {distribution: log_uniform, min: -9.21, max: -2.3}\n');
    assert.deepEqual(warningPaths(spec), ['parameters.lr.distribution']);
    assert.match(spec.warnings[0]!.message, /natural-log exponents.*\[0\.000100034, 0\.100259\].*log_uniform_values, min: 0\.000100034/);
    const inv = parse('parameters:\n  x: {distribution: inv_log_uniform, min: 1, max: 4}\n');
    assert.match(inv.warnings[0]!.message, /\[e\^-4, e\^-1\] = \[0\.0183156, 0\.367879\].*inv_log_uniform_values, min: 0\.0183156, max: 0\.367879/);
    const suspicious = parse('parameters:\n  lr: {distribution: log_uniform, min: 0.0001, max: 0.1}\n');
    assert.match(suspicious.warnings[0]!.message, /did you write raw bounds\?/);
  });

  it('coerces numeric strings in numeric fields, with a warning (PyYAML-era files)', () => {
    const spec = parse('run_cap: "20"\nparameters:\n  lr: {min: "1e-5", max: "0.1"}\n  n: {min: "1", max: "5"}\n');
    assert.deepEqual(spec.parameters.lr, { distribution: 'uniform', min: 1e-5, max: 0.1 });
    assert.deepEqual(spec.parameters.n, { distribution: 'int_uniform', min: 1, max: 5 });
    assert.equal(spec.runCap, 20);
    assert.deepEqual(warningPaths(spec), ['parameters.lr.min', 'parameters.lr.max', 'parameters.n.min', 'parameters.n.max', 'run_cap']);
    assert.match(spec.warnings[0]!.message, /the string "1e-5" was read as the number 0\.00001; remove the quotes/);
  });

  it('warns when quantized values leave the bounds, and when a value list was probably meant', () => {
    const spec = parse('parameters:\n  x: {distribution: q_uniform, min: 0.1, max: 1, q: 0.25}\n  layers: {value: [64, 128]}\n');
    assert.deepEqual(warningPaths(spec), ['parameters.x', 'parameters.layers.value']);
    assert.match(spec.warnings[0]!.message, /include 0 \(below 0\.1\)/);
    assert.match(spec.warnings[1]!.message, /write values: instead/);
  });

  it('parses early_terminate hyperband with W&B\'s bands and defaults', () => {
    const min = parse('metric: {name: loss}\nearly_terminate: {type: hyperband, min_iter: 3}\nparameters:\n  x: {values: [1]}\n');
    const et = min.earlyTerminate as { bands: number[] };
    assert.equal(et.bands.length, 100);
    assert.deepEqual(et.bands.slice(0, 4), [3, 9, 27, 81]);
    assert.deepEqual({ ...min.earlyTerminate, bands: [] }, { type: 'hyperband', bands: [], eta: 3, strict: true, minIter: 3 });
    const max = parse('metric: {name: loss}\nearly_terminate: {type: hyperband, max_iter: 27, s: 2, eta: 3, strict: false}\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(max.earlyTerminate, { type: 'hyperband', bands: [3, 9], eta: 3, strict: false, maxIter: 27, s: 2 });
  });

  it('lets max_iter and s win over min_iter, with a warning (W&B issue #1884)', () => {
    const spec = parse('metric: {name: loss}\nearly_terminate: {type: hyperband, min_iter: 1, max_iter: 81, s: 3}\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(spec.earlyTerminate, { type: 'hyperband', bands: [3, 9, 27], eta: 3, strict: true, maxIter: 81, s: 3 });
    assert.deepEqual(warningPaths(spec), ['early_terminate.min_iter']);
  });

  it('reads the harrow: block with its defaults', () => {
    const spec = parse(`metric: {name: loss, goal: maximize, target: 0.99, impute: latest, impute_while_running: best}
harrow:
  seed: 1234
  retry: {max_attempts: 5, on: [crashed, failed]}
  early_terminate: {type: asha}
parameters:
  x: {values: [1]}
`);
    assert.deepEqual(spec.harrow, { seed: 1234, retry: { maxAttempts: 5, on: ['crashed', 'failed'] }, pauseOnFailures: DEFAULT_PAUSE_ON_FAILURES, failOn: DEFAULT_FAIL_ON });
    assert.deepEqual(spec.earlyTerminate, { type: 'asha', gracePeriod: 1, eta: 3, minRunsPerRung: 3 });
    assert.deepEqual(spec.metric, { name: 'loss', goal: 'maximize', target: 0.99, impute: 'latest', imputeWhileRunning: 'best' });
    const median = parse('metric: {name: loss}\nharrow: {early_terminate: {type: median, min_runs: 8}}\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(median.earlyTerminate, { type: 'median', minSteps: 3, minRuns: 8 });
    const asha = parse('metric: {name: loss}\nharrow: {early_terminate: {type: asha, grace_period: 2, eta: 2, max_iter: 64, min_runs_per_rung: 4}}\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(asha.earlyTerminate, { type: 'asha', gracePeriod: 2, eta: 2, maxIter: 64, minRunsPerRung: 4 });
  });

  it('accepts impute_while_running: false as W&B writes it (boolean or string)', () => {
    for (const v of ['false', '"false"']) {
      assert.equal(parse(`metric: {name: l, impute_while_running: ${v}}\nparameters:\n  x: {values: [1]}\n`).metric!.imputeWhileRunning, false);
    }
  });

  it('keeps a custom command, turning numbers into strings as Python str() does', () => {
    const spec = parse('command: [torchrun, --nproc_per_node, 4, "${program}", --scale, 1.0e-5, "${args}"]\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(spec.command, ['torchrun', '--nproc_per_node', '4', '${program}', '--scale', '1e-05', '${args}']);
  });

  it('treats an empty command as the default, with a warning (W&B: `command or DEFAULT`)', () => {
    const spec = parse('command: []\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(spec.command, ['${env}', '${interpreter}', '${program}', '${args}']);
    assert.deepEqual(warningPaths(spec), ['command']);
  });

  it('accepts apiVersion, kind: sweep and controller: {type: cloud} (ignored, with a warning for controller)', () => {
    const spec = parse('apiVersion: v1\nkind: sweep\ncontroller: {type: cloud}\nparameters:\n  x: {values: [1]}\n');
    assert.deepEqual(warningPaths(spec), ['controller']);
  });

  it('honours YAML anchors and merge keys', () => {
    const spec = parse(`parameters:
  a: &lr {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}
  b: *lr
  c:
    <<: *lr
    max: 0.5
`);
    assert.deepEqual(spec.parameters.b, spec.parameters.a);
    assert.deepEqual(spec.parameters.c, { distribution: 'log_uniform_values', min: 1e-5, max: 0.5 });
  });

  it('reads JSON text, plain objects and UTF-8 bytes the same way as YAML', () => {
    const yaml = parse('parameters:\n  lr: {min: 0.001, max: 0.1}\n  n: {min: 1, max: 3}\n');
    const object = { method: 'random', program: 'train.py', parameters: { lr: { min: 0.001, max: 0.1 }, n: { min: 1, max: 3 } } };
    assert.deepEqual(parseSweepConfig(object), yaml);
    assert.deepEqual(parseSweepConfig(JSON.stringify(object)), yaml);
    assert.deepEqual(parseSweepConfig(new TextEncoder().encode(JSON.stringify(object))), yaml);
  });

  it('treats whole numbers in objects as integers (JSON cannot say 1.0)', () => {
    const spec = parseSweepConfig({ method: 'random', program: 't.py', parameters: { x: { min: 0, max: 1 }, y: { min: 0, max: 0.5 } } });
    assert.equal(spec.parameters.x!.distribution, 'int_uniform');
    assert.equal(spec.parameters.y!.distribution, 'uniform');
  });

  it('refuses huge input fast with one clear error', () => {
    const huge = `method: random\n# ${'x'.repeat(MAX_SOURCE_CHARS)}\n`;
    const result = validateSweepConfig(huge);
    assert.deepEqual(result.errors.map((e) => e.path), ['']);
    assert.match(result.errors[0]!.message, /too large/);
  });

  it('refuses input that is not a config at all', () => {
    for (const input of [undefined, null, 42, '', '   \n', 'just a string', '[1, 2]']) {
      const result = validateSweepConfig(input);
      assert.equal(result.valid, false);
      assert.equal(result.errors.length, 1);
      assert.equal(result.errors[0]!.path, '');
    }
    const cyclic: Record<string, unknown> = { method: 'random' };
    cyclic.self = cyclic;
    assert.match(validateSweepConfig(cyclic).errors[0]!.message, /cycle/);
  });

  it('refuses deeply nested input without overflowing the stack', () => {
    const deep = `method: random\nx: ${'['.repeat(5000)}${']'.repeat(5000)}\n`;
    const result = validateSweepConfig(deep);
    assert.equal(result.valid, false);
    assert.equal(result.errors.length, 1);
  });

  it('throws SweepConfigError with every issue and a message listing them', () => {
    try {
      parseSweepConfig('method: grid\nparameters:\n  lr: {min: 0.1, max: 0.01}\n  b: {values: 3}\n');
      assert.fail('should throw');
    } catch (err) {
      assert.ok(err instanceof SweepConfigError);
      assert.equal(err.name, 'SweepConfigError');
      assert.deepEqual(err.issues.map((i) => i.path), ['parameters.lr.min', 'parameters.b.values']);
      assert.equal(err.message.split('\n')[0], 'invalid sweep config (2 problems):');
      assert.match(err.message, /\n {2}parameters\.lr\.min: must be less than max/);
    }
  });
});

describe('parseSweepConfig: sweeps for W&B\'s function agent', () => {
  it('accepts a sweep without program, with a warning that only a function agent can run it', () => {
    const spec = parseSweepConfig('method: random\nparameters:\n  lr: {min: 0.0001, max: 0.1}\n');
    assert.equal(spec.program, undefined);
    assert.deepEqual(warningPaths(spec), ['program']);
    assert.match(spec.warnings[0]!.message, /only a function agent can run this sweep.*harrow agent` refuses it/);
  });

  it('still refuses an explicit command that names ${program} without program', () => {
    assert.throws(() => parseSweepConfig('command: [python3, "${program}"]\nparameters:\n  lr: {values: [1]}\n'), /command\.1: \$\{program\} needs the top-level program key/);
  });
});

describe('parseSweepConfig: YAML 1.1 habits', () => {
  it('warns that yes/no/on/off are strings in YAML 1.2 but booleans in PyYAML', () => {
    const spec = parse('parameters:\n  amp: {values: [yes, no]}\n  quoted: {values: ["yes", true]}\n');
    assert.deepEqual((spec.parameters.amp as { values: unknown[] }).values, ['yes', 'no']);
    assert.deepEqual(warningPaths(spec), ['parameters.amp.values.0', 'parameters.amp.values.1']);
    assert.match(spec.warnings[0]!.message, /boolean in PyYAML/);
  });
});
