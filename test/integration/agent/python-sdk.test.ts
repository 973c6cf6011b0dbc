/**
 * sdk/python/harrow.py run by a real python3: params from HARROW_PARAMS_FILE over defaults, log()
 * appending JSON lines the agent's parser reads back, the stdout fallback outside a sweep, and
 * errors for bad input. Needs python3 on PATH (the example sweep needs it anyway).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseMetricLine } from '../../../agent/metric-line.js';

const SDK_DIR = fileURLToPath(new URL('../../../../sdk/python/', import.meta.url));

function python(code: string, env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HARROW_')));
  const r = spawnSync('python3', ['-c', code], { env: { ...base, PYTHONPATH: SDK_DIR, ...env }, encoding: 'utf8' });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

const hasPython = spawnSync('python3', ['--version']).status === 0;

void describe('python sdk', { skip: hasPython ? false : 'python3 is not on PATH' }, () => {
  void test('params(): the sweep file over the defaults; outside a sweep, the defaults', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-sdk-'));
    try {
      const paramsFile = join(dir, 'params.json');
      await writeFile(paramsFile, JSON.stringify({ lr: 0.1, nested: { a: 1 } }));
      const code = 'import harrow, json; print(json.dumps(harrow.params({"lr": 1, "epochs": 5}), sort_keys=True))';
      const inside = python(code, { HARROW_PARAMS_FILE: paramsFile });
      assert.equal(inside.status, 0, inside.stderr);
      assert.deepEqual(JSON.parse(inside.stdout), { epochs: 5, lr: 0.1, nested: { a: 1 } });
      const outside = python(code);
      assert.deepEqual(JSON.parse(outside.stdout), { epochs: 5, lr: 1 });
      assert.equal(python('import harrow; print(harrow.params())').stdout.trim(), '{}');
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('attempt(): HARROW_ATTEMPT as a number; 1 outside a sweep', () => {
    const code = 'import harrow; print(harrow.attempt())';
    assert.equal(python(code, { HARROW_ATTEMPT: '3' }).stdout.trim(), '3');
    assert.equal(python(code).stdout.trim(), '1');
  });

  void test('log(): one JSON line per call in HARROW_METRICS_FILE, read back by the agent\'s parser', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-sdk-'));
    try {
      const metricsFile = join(dir, 'metrics.jsonl');
      const r = python(
        [
          'import harrow',
          'class Scalar:',
          '    def __float__(self): return 0.75',
          'harrow.log({"loss": 0.5, "n": 3}, step=2)',
          'harrow.log({"acc": Scalar()})',
          'harrow.log({"loss": float("nan"), "g": float("-inf")}, step=4)',
          'print("stdout stays clean")',
        ].join('\n'),
        { HARROW_METRICS_FILE: metricsFile },
      );
      assert.equal(r.status, 0, r.stderr);
      assert.equal(r.stdout, 'stdout stays clean\n');
      const lines = (await readFile(metricsFile, 'utf8')).split('\n');
      assert.equal(lines.pop(), '', 'every line ends with a newline');
      const parsed = lines.map((l) => parseMetricLine(l));
      assert.deepEqual(parsed[0], { step: 2, values: [{ name: 'loss', value: 0.5 }, { name: 'n', value: 3 }], warnings: [] });
      assert.deepEqual(parsed[1], { step: null, values: [{ name: 'acc', value: 0.75 }], warnings: [] });
      assert.equal(parsed[2]?.step, 4);
      assert.ok(Number.isNaN(parsed[2]?.values[0]?.value));
      assert.equal(parsed[2]?.values[1]?.value, -Infinity);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('log() outside a sweep prints the JSON line on stdout', () => {
    const r = python('import harrow; harrow.log({"loss": 1.5}, step=0)');
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(parseMetricLine(r.stdout.trim()), { step: 0, values: [{ name: 'loss', value: 1.5 }], warnings: [] });
  });

  void test('log() refuses what is not a metric, saying what to do', () => {
    const cases: Array<[string, RegExp]> = [
      ['harrow.log([1, 2])', /TypeError: harrow.log takes a dict of metrics/],
      ['harrow.log({"loss": "low"})', /TypeError: harrow.log: metric 'loss' must be a number \(got str\)/],
      ['harrow.log({"ok": True})', /metric 'ok' is a bool; log 1 or 0 instead/],
      ['harrow.log({"loss": 1}, step=-1)', /step must be ≥ 0/],
      ['harrow.log({"loss": 1}, step=1.5)', /step must be a whole number/],
      ['harrow.log({"step": 1})', /pass the step as log\(..., step=N\)/],
    ];
    for (const [call, pattern] of cases) {
      const r = python(`import harrow; ${call}`);
      assert.notEqual(r.status, 0, call);
      assert.match(r.stderr, pattern, call);
    }
    // A whole-number float step is accepted as that integer.
    assert.match(python('import harrow; harrow.log({"a": 1}, step=3.0)').stdout, /"step": 3\}/);
  });
});
