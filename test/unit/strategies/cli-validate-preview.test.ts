import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { previewCommand } from '../../../cli/commands/preview.js';
import { validateCommand } from '../../../cli/commands/validate.js';
import { verbs } from '../../../cli/commands/index.js';
import { UsageError } from '../../../cli/command.js';
import { pyStr } from '../../../strategies/index.js';

const dir = mkdtempSync(join(tmpdir(), 'harrow-cli-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
}

async function run(verb: typeof validateCommand, argv: string[], env: Record<string, string> = {}): Promise<{ code: number; out: string }> {
  let out = '';
  const code = await verb.runWith(argv, { stdout: { write: (t: string) => (out += t) }, env });
  return { code, out };
}

const GRID = file(
  'grid.yaml',
  `method: grid
program: train.py
command: ["\${env}", "\${interpreter}", "\${program}", "\${args}", "--data=\${envvar:DATA}"]
parameters:
  lr: {values: [0.001, 0.01]}
  layers: {min: 1, max: 3}
  q: {distribution: q_uniform, min: 0, max: 1, q: 0.5}
  epochs: {value: 5}
`,
);
const BAD = file('bad.yaml', 'method: grid\nmetric: {name: acc, goal: maximise}\nparameters:\n  lr: {min: 0.1, max: 0.01}\n');

describe('harrow validate', () => {
  it('is registered as a CLI verb, with preview', async () => {
    assert.equal(await verbs.find((v) => v.name === 'validate')?.load(), validateCommand);
    assert.equal(await verbs.find((v) => v.name === 'preview')?.load(), previewCommand);
  });

  it('prints the resolved parameters and the grid size, exit 0', async () => {
    const { code, out } = await run(validateCommand, [GRID]);
    assert.equal(code, 0);
    assert.match(out, /valid grid sweep, 18 runs/);
    assert.match(out, /layers +int_uniform +1 \.\. 3 \(3 values\)/);
    assert.match(out, /q +q_uniform +0 \.\. 1 step 0\.5 \(3 values\)/);
    assert.match(out, /epochs +constant +5/);
    assert.ok(out.indexOf('epochs') < out.indexOf('layers') && out.indexOf('layers') < out.indexOf('lr'), 'W&B order');
  });

  it('prints the harrow.bayes tuning the file sets', async () => {
    const tuned = file(
      'tuned.yaml',
      'method: bayes\nprogram: train.py\nmetric: {name: loss}\nparameters:\n  lr: {min: 0.0001, max: 0.1}\nharrow:\n  bayes: {prior: hvarfner, deterministic: true, initial_design: 8, trust_region: false}\n',
    );
    const { code, out } = await run(validateCommand, [tuned]);
    assert.equal(code, 0);
    assert.match(out, /\n {2}bayes: prior hvarfner, deterministic, initial design 8 runs, no trust region \(whole space\)\n/);
    const plain = file('plain-bayes.yaml', 'method: bayes\nprogram: train.py\nmetric: {name: loss}\nparameters:\n  lr: {min: 0.0001, max: 0.1}\n');
    assert.doesNotMatch((await run(validateCommand, [plain])).out, /bayes:/);
  });

  it('prints every problem as PATH: message, exit 1, no stack trace', async () => {
    const { code, out } = await run(validateCommand, [BAD]);
    assert.equal(code, 1);
    assert.match(out, /bad\.yaml: 2 problems/);
    assert.match(out, /\n {2}metric\.goal: must be minimize or maximize \(got "maximise"\); did you mean maximize\?/);
    assert.match(out, /\n {2}parameters\.lr\.min: must be less than max/);
    // No program: a warning (only a function agent can run it), not a problem.
    assert.match(out, /program: is missing, so only a function agent can run this sweep/);
    assert.doesNotMatch(out, /at .*\.js:\d+/);
  });

  it('--json prints { valid, errors, warnings, spec }', async () => {
    const ok = await run(validateCommand, ['--json', GRID]);
    const good = JSON.parse(ok.out) as { valid: boolean; errors: unknown[]; warnings: unknown[]; spec: { method: string } };
    assert.deepEqual(Object.keys(good), ['valid', 'errors', 'warnings', 'spec']);
    assert.equal(good.valid, true);
    assert.equal(good.spec.method, 'grid');
    const bad = await run(validateCommand, [BAD, '--json']);
    assert.equal(bad.code, 1);
    const parsed = JSON.parse(bad.out) as { valid: boolean; errors: Array<{ path: string }>; spec: null };
    assert.equal(parsed.valid, false);
    assert.equal(parsed.spec, null);
    assert.deepEqual(parsed.errors.map((e) => e.path), ['metric.goal', 'parameters.lr.min']);
  });

  it('reports a missing file or a directory as a problem, not a crash', async () => {
    const missing = await run(validateCommand, [join(dir, 'nope.yaml')]);
    assert.equal(missing.code, 1);
    assert.match(missing.out, /cannot read .*nope\.yaml: no such file/);
    const directory = await run(validateCommand, [dir, '--json']);
    assert.equal(directory.code, 1);
    assert.match(directory.out, /it is a directory/);
  });

  it('refuses bad arguments as usage errors', async () => {
    await assert.rejects(run(validateCommand, []), UsageError);
    await assert.rejects(run(validateCommand, [GRID, 'extra']), UsageError);
    await assert.rejects(run(validateCommand, [GRID, '--nope']), UsageError);
  });
});

describe('harrow preview', () => {
  it('prints the first grid cells and the rendered command of the first', async () => {
    const { code, out } = await run(previewCommand, [GRID, '-n', '4'], { DATA: '/mnt/data' });
    assert.equal(code, 0);
    assert.match(out, /grid sweep, 18 runs, seed 0/);
    const rows = out.split('\n').filter((l) => /^ {2}\d+ /.test(l));
    assert.deepEqual(rows.map((r) => r.trim().split(/\s+/)), [
      ['1', '1', '0.001', '0'],
      ['2', '1', '0.001', '0.5'],
      ['3', '1', '0.001', '1'],
      ['4', '1', '0.01', '0'],
    ]);
    assert.match(out, /constants: epochs = 5/);
    assert.match(out, /\n {2}\/usr\/bin\/env python train\.py --epochs=5 --layers=1 --lr=0\.001 --q=0 --data=\/mnt\/data\n/);
  });

  it('says when a grid has fewer runs than asked', async () => {
    const { out } = await run(previewCommand, [GRID, '-n', '50']);
    assert.match(out, /The grid has only 18 runs\./);
  });

  it('--json gives exact configurations, reproducible by seed; the file seed is the default', async () => {
    const random = file('random.yaml', 'method: random\nprogram: t.py\nharrow: {seed: 5}\nparameters:\n  lr: {distribution: log_uniform_values, min: 1.0e-5, max: 0.1}\n');
    const a = JSON.parse((await run(previewCommand, [random, '--json', '-n', '3'])).out) as { seed: number; configurations: Array<{ lr: number }>; command: string[] };
    const b = JSON.parse((await run(previewCommand, [random, '--json', '-n', '3', '--seed', '5'])).out) as typeof a;
    const c = JSON.parse((await run(previewCommand, [random, '--json', '-n', '3', '--seed', '6'])).out) as typeof a;
    assert.equal(a.seed, 5);
    assert.deepEqual(b, a);
    assert.notDeepEqual(c.configurations, a.configurations);
    assert.equal(a.configurations.length, 3);
    assert.deepEqual(a.command.slice(0, 3), ['/usr/bin/env', 'python', 't.py']);
    assert.equal(a.command[3], `--lr=${pyStr(a.configurations[0]!.lr)}`);
  });

  it('prints the problems of an invalid file and exits 1', async () => {
    const { code, out } = await run(previewCommand, [BAD]);
    assert.equal(code, 1);
    assert.match(out, /2 problems/);
  });

  it('refuses a bad count or seed as usage errors', async () => {
    await assert.rejects(run(previewCommand, [GRID, '-n', '0']), UsageError);
    await assert.rejects(run(previewCommand, [GRID, '-n', 'ten']), UsageError);
    await assert.rejects(run(previewCommand, [GRID, '--seed', '1.5']), UsageError);
  });
});
