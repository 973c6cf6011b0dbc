/**
 * sdk/python/wandb_shim (Harrow's `wandb` module) run by a real python3 with the PYTHONPATH the
 * agent gives a run (agent/python-path.ts): it shadows an installed wandb unless opted out, the
 * sweep's values win over init(config=...) defaults as under a W&B agent, wandb.log follows W&B's
 * step and commit rules and writes lines the agent's parser reads back, finish(exit_code=) sets
 * the exit status. Needs python3 on PATH.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseMetricLine, type ParsedMetrics } from '../../../agent/metric-line.js';
import { runPythonPath, WANDB_SHIM_DIR } from '../../../agent/python-path.js';

const hasPython = spawnSync('python3', ['--version']).status === 0;

interface Result {
  status: number | null;
  stdout: string;
  stderr: string;
  lines: ParsedMetrics[];
}

/** Runs `code` as a script in a fresh directory, as the agent would start a run. */
async function runScript(code: string, opts: { params?: unknown; env?: Record<string, string>; files?: Record<string, string> } = {}): Promise<Result> {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-wandb-'));
  try {
    const metricsFile = join(dir, 'metrics.jsonl');
    const paramsFile = join(dir, 'params.json');
    await writeFile(paramsFile, JSON.stringify(opts.params ?? {}));
    await writeFile(metricsFile, '');
    for (const [name, text] of Object.entries(opts.files ?? {})) {
      await mkdir(join(dir, name, '..'), { recursive: true });
      await writeFile(join(dir, name), text);
    }
    await writeFile(join(dir, 'train.py'), code);
    const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HARROW_') && k !== 'PYTHONPATH'));
    const runEnv: Record<string, string | undefined> = {
      ...base,
      HARROW_SWEEP_ID: 'sw1',
      HARROW_RUN_ID: 'run7',
      HARROW_PARAMS_FILE: paramsFile,
      HARROW_METRICS_FILE: metricsFile,
      ...opts.env,
    };
    runEnv.PYTHONPATH = runPythonPath(runEnv);
    const r = spawnSync('python3', ['train.py'], { cwd: dir, env: runEnv, encoding: 'utf8' });
    if (r.error) throw r.error;
    const lines = (await readFile(metricsFile, 'utf8'))
      .split('\n')
      .filter(Boolean)
      .map((l) => parseMetricLine(l)!);
    return { status: r.status, stdout: r.stdout, stderr: r.stderr, lines };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** `{step: {name: value}}` of the metric lines. */
function points(lines: ParsedMetrics[]): Array<[number | null, Record<string, number>]> {
  return lines.map((l) => [l.step, Object.fromEntries(l.values.map((v) => [v.name, v.value]))]);
}

const FAKE_WANDB = { 'site/wandb/__init__.py': 'REAL = True\n' };

void describe('the wandb module under harrow agent', { skip: hasPython ? false : 'python3 is not on PATH' }, () => {
  void test('is what `import wandb` finds with no opt-in, even where a wandb package is installed', async () => {
    const probe = 'import wandb\nprint(getattr(wandb, "HARROW_SHIM", False), getattr(wandb, "REAL", False))\n';
    assert.equal((await runScript(probe)).stdout.trim(), 'True False');
    // A "real" wandb installed further down the path (PYTHONPATH the user set, as site-packages would be).
    const site = (r: Result): string => r.stdout.trim();
    const installed = await runScript(`import sys, os\nsys.path.append(os.path.abspath("site"))\n${probe}`, { files: FAKE_WANDB });
    assert.equal(site(installed), 'True False');
    // W&B's own run folder ./wandb (no __init__.py) beside the script does not hide the module.
    const runDir = await runScript(probe, { files: { 'wandb/debug.log': 'old W&B run\n' } });
    assert.equal(site(runDir), 'True False');
  });

  void test('HARROW_WANDB_SHIM=0 leaves PYTHONPATH alone, so an installed wandb is imported', async () => {
    assert.equal(runPythonPath({ HARROW_WANDB_SHIM: '0', PYTHONPATH: '/x' }), '/x');
    assert.equal(runPythonPath({ HARROW_WANDB_SHIM: '0' }), undefined);
    assert.ok(runPythonPath({ PYTHONPATH: '/x' })!.startsWith(WANDB_SHIM_DIR));
    const probe = 'import sys, os\nsys.path.append(os.path.abspath("site"))\nimport wandb\nprint(getattr(wandb, "REAL", False))\n';
    assert.equal((await runScript(probe, { env: { HARROW_WANDB_SHIM: '0' }, files: FAKE_WANDB })).stdout.trim(), 'True');
  });

  void test('config: the sweep\'s values over init(config=...) defaults, nested dicts merged, swept keys locked', async () => {
    const r = await runScript(
      [
        'import argparse, json, wandb',
        'ns = argparse.Namespace(lr=0.1, epochs=3, opt={"beta": 0.9, "eps": 1e-8}, secret="s")',
        'run = wandb.init(config=ns, project="p", config_exclude_keys=["secret"])',
        'c = wandb.config',
        'print(json.dumps(dict(c.items()), sort_keys=True))',
        'print(c.lr, c["epochs"], "opt" in c, c.get("nope", 42))',
        'c.update({"lr": 5})',
        'c.batch = 8',
        'c.update({"epochs": 4}, allow_val_change=True)',
        'try:',
        '    c.batch = 16',
        'except Exception as e:',
        '    print(type(e).__name__)',
        'try:',
        '    c.missing',
        'except AttributeError:',
        '    print("AttributeError")',
        'print(c.lr, c.batch, c.epochs, run.config is c)',
        'print(run.id, run.name, run.sweep_id)',
      ].join('\n'),
      { params: { lr: 0.01, opt: { beta: 0.5 } } },
    );
    assert.equal(r.status, 0, r.stderr);
    const out = r.stdout.trim().split('\n');
    assert.deepEqual(JSON.parse(out[0]!), { epochs: 3, lr: 0.01, opt: { beta: 0.5, eps: 1e-8 } });
    assert.equal(out[1], '0.01 3 True 42');
    assert.equal(out[2], 'ConfigError');
    assert.equal(out[3], 'AttributeError');
    assert.equal(out[4], '0.01 8 4 True');
    assert.equal(out[5], 'run7 run7 sw1');
    assert.match(r.stderr, /Config item 'lr' was locked by 'sweep' \(ignored update\)/);
    assert.match(r.stderr, /Ignoring project 'p' when running a sweep/);
  });

  void test('log: W&B\'s step and commit rules, nested dicts as dotted names, numbers only', async () => {
    const r = await runScript(
      [
        'import wandb',
        'class Scalar:',
        '    def __float__(self): return 0.25',
        'wandb.init()',
        'wandb.log({"a": 1})',
        'wandb.log({"b": 2}, commit=False)',
        'wandb.log({"c": Scalar(), "nested": {"x": {"y": 3}}})',
        'wandb.log({"d": 4}, step=5)',
        'wandb.log({"e": 5})',
        'wandb.log({"f": 6}, step=3)',
        'wandb.log({"img": wandb.Image("x.png"), "tbl": wandb.Table(columns=["a"]), "h": wandb.Histogram([1, 2])})',
        'wandb.log({"plot": wandb.plot.line(None, "x", "y"), "note": "text", "flag": True, "step": 9, "g": float("nan")})',
        'print(wandb.run.step, wandb.summary["a"], wandb.summary["nested.x.y"])',
        'wandb.finish()',
      ].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.deepEqual(points(r.lines).slice(0, 3), [
      [0, { a: 1 }],
      [1, { b: 2, c: 0.25, 'nested.x.y': 3 }],
      [5, { d: 4, e: 5 }],
    ]);
    // The media line held nothing; the last one only g (NaN).
    assert.equal(r.lines.length, 4);
    assert.equal(r.lines[3]!.step, 7);
    assert.deepEqual(r.lines[3]!.values.map((v) => v.name), ['g']);
    assert.ok(Number.isNaN(r.lines[3]!.values[0]!.value));
    assert.equal(r.stdout.trim(), '8 1 3');
    assert.match(r.stderr, /less than the current step 6/);
    assert.equal(r.stderr.split('media passed to wandb.log are skipped').length - 1, 1, r.stderr);
    assert.match(r.stderr, /'note' is a str, not a number/);
    assert.match(r.stderr, /'flag' is a bool, not a number/);
    assert.match(r.stderr, /a value named 'step' is skipped/);
  });

  void test('define_metric summaries and summary values set by the script come back in one last line', async () => {
    const r = await runScript(
      [
        'import wandb',
        'run = wandb.init()',
        'run.define_metric("loss", summary="min,max")',
        'run.define_metric("val/*", summary="best", goal="maximize")',
        'for v in [3, 1, 2]:',
        '    run.log({"loss": v, "val/acc": v / 10})',
        'run.summary["test_acc"] = 0.9',
        'run.summary.update({"note": "ok"})',
        'print(run.summary["loss"], run.summary["val/acc"])',
        'wandb.alert(title="slow", text="epoch took long", level=wandb.AlertLevel.WARN)',
      ].join('\n'),
    );
    assert.equal(r.status, 0, r.stderr);
    assert.equal(r.stdout.trim(), "{'min': 1, 'max': 3} {'best': 0.3}");
    // Finished at exit, as W&B does for a script that never calls finish().
    assert.deepEqual(points(r.lines).at(-1), [2, { 'loss.min': 1, 'loss.max': 3, 'val/acc.best': 0.3, test_acc: 0.9 }]);
    assert.match(r.stderr, /ALERT \[WARN\] slow: epoch took long/);
  });

  void test('finish(exit_code=N) makes the run exit with N (failed); mode="disabled" records nothing', async () => {
    const failed = await runScript('import wandb\nwandb.init()\nwandb.log({"a": 1})\nwandb.finish(exit_code=3)\nprint("after finish")\n');
    assert.equal(failed.status, 3);
    assert.equal(failed.stdout, 'after finish\n');
    assert.deepEqual(points(failed.lines), [[0, { a: 1 }]]);
    const disabled = await runScript('import wandb\nwandb.init(mode="disabled")\nwandb.log({"a": 1})\n');
    assert.equal(disabled.status, 0, disabled.stderr);
    assert.deepEqual(disabled.lines, []);
  });

  void test('wandb.agent(function=...) calls the function once for this run; outside a run it is the function agent', async () => {
    const inside = await runScript(
      'import wandb\ndef train():\n    with wandb.init() as run:\n        run.log({"lr": run.config.lr})\nwandb.agent("abc", function=train, count=5)\n',
      { params: { lr: 0.2 } },
    );
    assert.equal(inside.status, 0, inside.stderr);
    assert.deepEqual(points(inside.lines), [[0, { lr: 0.2 }]]);
    assert.match(inside.stderr, /count=5 is ignored/);
    // Outside a run it is Harrow's function agent, which finds the controller through HARROW_URL.
    const outside = await runScript('import wandb\nwandb.agent("abc", function=print)\n', { env: { HARROW_RUN_ID: '', HARROW_URL: 'http://127.0.0.1:1' } });
    assert.notEqual(outside.status, 0);
    assert.match(outside.stderr, /harrow\.AgentError: cannot reach the Harrow server at http:\/\/127\.0\.0\.1:1 .*\(set HARROW_URL\)/);
    const sweep = await runScript('import wandb\nwandb.sweep({"method": "grid"})\n');
    assert.match(sweep.stderr, /harrow create sweep.yaml/);
    const early = await runScript('import wandb\nwandb.log({"a": 1})\n');
    assert.match(early.stderr, /You must call wandb.init\(\) before wandb.log\(\)/);
  });
});
