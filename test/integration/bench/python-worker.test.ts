/**
 * The Python side of `npm run bench:real` on a tiny budget: the JSON-lines protocol of
 * bench/real/evaluate.py, that an evaluation really trains (a good and a hopeless SVM differ),
 * that each search space parses as a Harrow sweep, and that tpe.py prints one line per trial.
 * Needs Debian's python3-sklearn and python3-optuna: skipped loudly without them locally,
 * failed in CI.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { PYTHON, PYTHON_DIR, PythonWorker, pythonHasSklearn } from '../../../bench/real/python-worker.js';
import { sweepFor } from '../../../bench/real/spaces.js';
import { createStrategy } from '../../../strategies/index.js';

const check = await pythonHasSklearn();
function needSklearn(): { skip?: string } {
  if (check.ok) return {};
  const message = `bench:real's Python evaluator needs scikit-learn and Optuna under ${PYTHON} (${check.detail}).\n  apt-get install -y python3-sklearn python3-optuna`;
  if (process.env.CI) throw new Error(message);
  console.error(`\n*** SKIPPED the bench:real evaluator test: ${message}\n`);
  return { skip: message };
}

describe('bench:real Python evaluation worker', needSklearn(), () => {
  let worker: PythonWorker;
  before(() => {
    worker = new PythonWorker();
  });
  after(async () => {
    await worker.close();
  });

  it('lists the three search spaces, each a valid bayes sweep with the documented parameter counts', async () => {
    const spaces = await worker.spaces();
    assert.deepEqual(Object.keys(spaces).sort(), ['gbt', 'mlp', 'svm']);
    assert.equal(Object.keys(spaces.svm!).length, 2);
    assert.equal(Object.keys(spaces.gbt!).length, 6);
    assert.equal(Object.keys(spaces.mlp!).length, 7);
    for (const parameters of Object.values(spaces)) {
      const strategy = createStrategy(sweepFor('bayes', parameters, 20), { seed: 1 });
      const [p] = strategy.propose({ observations: [], pending: [], count: 1 });
      assert.ok(p !== undefined);
    }
  });

  it('trains for real: a sensible SVM beats a hopeless one, and the same configuration scores the same', async () => {
    const good = await worker.evaluate('svm', { C: 10, gamma: 0.01 });
    const bad = await worker.evaluate('svm', { C: 0.01, gamma: 1e-5 });
    const again = await worker.evaluate('svm', { C: 10, gamma: 0.01 });
    assert.ok(good.error > 0 && good.error < 0.05, `good SVM error ${good.error}`);
    assert.ok(bad.error > 0.5, `hopeless SVM error ${bad.error}`);
    assert.equal(again.error, good.error);
    assert.ok(good.seconds > 0);
  });

  it('scores under the 3x2 protocol on a finer grid (3-fold CV twice) and refuses an unknown protocol', async () => {
    const params = { layers: 1, width: 16, activation: 'relu', solver: 'adam', alpha: 1e-4, learning_rate_init: 1e-3, batch_size: 64 };
    const single = await worker.evaluate('mlp', params);
    const explicit = await worker.evaluate('mlp', params, '3fold');
    const twice = await worker.evaluate('mlp', params, '3x2');
    assert.equal(explicit.error, single.error, 'the default protocol is 3fold');
    // 569 samples: one mistake is 1/569 under 3fold, 1/1138 under 3x2.
    const steps = (e: number, n: number): number => Math.abs(e * n - Math.round(e * n));
    assert.ok(steps(single.error, 569) < 0.02, `3fold error ${single.error} is a count of mistakes out of 569`);
    assert.ok(steps(twice.error, 1138) < 0.02, `3x2 error ${twice.error} is a count of mistakes out of 1138`);
    assert.ok(twice.seconds > 0 && twice.error < 0.2);
    await assert.rejects(worker.evaluate('mlp', params, '5fold'), /unknown cv protocol '5fold'/);
  });

  it('answers a bad request with Python\'s message and keeps serving', async () => {
    await assert.rejects(worker.evaluate('nope', {}), /unknown model 'nope'/);
    await assert.rejects(worker.evaluate('svm', { C: 1 }), /lack gamma/);
    const ok = await worker.evaluate('svm', { C: 1, gamma: 0.01 });
    assert.ok(ok.error < 0.1);
  });

  it('tpe.py prints one JSON line per trial with a non-increasing best', async () => {
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn(PYTHON, [PYTHON_DIR + 'tpe.py', '--model', 'svm', '--seed', '3', '--evals', '3'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let text = '';
      let err = '';
      child.stdout.on('data', (b: Buffer) => (text += b.toString()));
      child.stderr.on('data', (b: Buffer) => (err += b.toString()));
      child.on('close', (code) => (code === 0 ? resolve(text) : reject(new Error(`tpe.py exited ${code}: ${err}`))));
    });
    const lines = out.trim().split('\n').map((l) => JSON.parse(l) as { trial: number; error: number; elapsed: number });
    assert.deepEqual(lines.map((l) => l.trial), [0, 1, 2]);
    for (const l of lines) assert.ok(l.error >= 0 && l.error <= 1 && l.elapsed > 0);
  });
});
