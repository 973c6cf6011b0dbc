/**
 * Scripts written the W&B way (`import wandb`, no Harrow code) run unchanged by real `harrow
 * agent` processes against a real controller: argparse plus wandb.log, wandb.config only, nested
 * config, define_metric with a W&B summary metric name (`val_loss.min`), and a script that raises.
 * Each script prints the config it saw; it must equal the run's parameters.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished, type Env } from '../helpers/harness.js';

const opts = await needServices();

const DIR = 'test/fixtures/scripts/wandb';

interface Case {
  script: string;
  metric: string;
  command?: string;
  parameters: string;
}

const CASES: Case[] = [
  {
    script: 'argparse_log.py',
    metric: 'loss',
    parameters: '  lr: {values: [0.1, 0.01]}\n  batch_size: {values: [16]}\n  epochs: {value: 2}\n',
  },
  {
    // No ${args}: the script reads only wandb.config.
    script: 'config_only.py',
    metric: 'loss',
    command: '[python3, "${program}"]',
    parameters: '  lr: {values: [0.25, 0.75]}\n  layers: {value: 2}\n',
  },
  {
    script: 'nested_config.py',
    metric: 'train.loss',
    parameters: '  optimizer:\n    parameters:\n      lr: {values: [0.5, 2.0]}\n      momentum: {value: 0.5}\n',
  },
  {
    script: 'define_metric.py',
    metric: 'val_loss.min',
    parameters: '  x: {values: [0.0, 10.0]}\n',
  },
  {
    script: 'raises.py',
    metric: 'loss',
    parameters: '  lr: {values: [0.3]}\n',
  },
];

function sweepYaml(c: Case): string {
  return [
    `name: wandb-${c.script}`,
    'method: grid',
    `metric: {name: ${c.metric}, goal: minimize}`,
    `program: ${DIR}/${c.script}`,
    `command: ${c.command ?? '[python3, "${program}", "${args}"]'}`,
    'parameters:',
    c.parameters,
  ].join('\n');
}

interface RunRow {
  id: string;
  state: string;
  params: Record<string, unknown>;
  reason: string | null;
  output_tail: string | null;
}

async function runsOf(env: Env, sweepId: string): Promise<RunRow[]> {
  const { rows } = await env.db.query<RunRow>('SELECT id, state, params, reason, output_tail FROM runs WHERE sweep_id = $1 ORDER BY number', [sweepId]);
  return rows;
}

async function metricsOf(env: Env, runId: string): Promise<Map<string, Array<[number, number]>>> {
  const { rows } = await env.db.query<{ name: string; step: number; value: number }>(
    'SELECT m.name, m.step::int AS step, m.value FROM metrics m JOIN runs r ON r.id = m.run_id AND m.attempt = r.attempt WHERE r.id = $1 ORDER BY m.name, m.step',
    [runId],
  );
  const out = new Map<string, Array<[number, number]>>();
  for (const r of rows) out.set(r.name, [...(out.get(r.name) ?? []), [r.step, Number(r.value)]]);
  return out;
}

/** The config the script printed (`CONFIG {...}`), from the run's output tail. */
function printedConfig(run: RunRow): Record<string, unknown> {
  const line = (run.output_tail ?? '').split('\n').find((l) => l.includes('CONFIG {'));
  assert.ok(line, `run ${run.id} printed no CONFIG line; output:\n${run.output_tail}`);
  return JSON.parse(line.slice(line.indexOf('CONFIG ') + 'CONFIG '.length)) as Record<string, unknown>;
}

describe('W&B scripts under harrow agent', { ...opts, timeout: 180_000 }, () => {
  test('run unchanged: parameters equal the run\'s, metrics stored, states right', async () => {
    const env = await setUp('e2e_wandb');
    try {
      controller(env);
      await waitForHttp(env.url);
      const sweeps = [];
      for (const c of CASES) sweeps.push({ c, sweep: await createSweep(env, sweepYaml(c)) });
      for (const { sweep } of sweeps) agent(env, sweep.id);
      for (const { sweep } of sweeps) await waitFinished(env, sweep.id);

      const byScript = new Map<string, RunRow[]>();
      for (const { c, sweep } of sweeps) byScript.set(c.script, await runsOf(env, sweep.id));

      // argparse + wandb.log: the config is the run's params; one loss point per epoch, step 0 and 1.
      for (const run of byScript.get('argparse_log.py')!) {
        assert.equal(run.state, 'finished', run.output_tail ?? '');
        assert.deepEqual(printedConfig(run), run.params);
        const lr = run.params.lr as number;
        const m = await metricsOf(env, run.id);
        assert.deepEqual(m.get('loss'), [[0, lr * 16], [1, (lr * 16) / 2]]);
        assert.deepEqual(m.get('epoch'), [[0, 0], [1, 1]]);
      }
      assert.deepEqual(byScript.get('argparse_log.py')!.map((r) => r.params.lr).sort(), [0.01, 0.1]);

      // wandb.config only: the sweep's values over the script's defaults; unswept defaults stay.
      for (const run of byScript.get('config_only.py')!) {
        assert.equal(run.state, 'finished', run.output_tail ?? '');
        assert.deepEqual(printedConfig(run), { activation: 'relu', epochs: 3, ...run.params });
        const m = await metricsOf(env, run.id);
        const lr = run.params.lr as number;
        assert.deepEqual(m.get('loss'), [[0, lr * 2], [1, lr * 2 + 1], [2, lr * 2 + 2]]);
        assert.deepEqual(m.get('seen_layers'), [[0, 2], [1, 2], [2, 2]]);
      }

      // Nested: swept keys replace the defaults' inside the dict, the others (eps) stay; nested
      // logged dicts become dotted names, which the sweep metric names.
      for (const run of byScript.get('nested_config.py')!) {
        assert.equal(run.state, 'finished', run.output_tail ?? '');
        const opt = run.params.optimizer as { lr: number; momentum: number };
        assert.deepEqual(printedConfig(run), { epochs: 2, optimizer: { ...opt, eps: 1e-8 } });
        const m = await metricsOf(env, run.id);
        assert.deepEqual(m.get('train.loss'), [[0, opt.lr * 0.5], [1, opt.lr * 0.5 + 1]]);
      }

      // define_metric: the history as logged, plus val_loss.min once at the end (what a W&B sweep
      // file names as its metric); an image is skipped with one warning; the summary's test_acc kept.
      for (const run of byScript.get('define_metric.py')!) {
        assert.equal(run.state, 'finished', run.output_tail ?? '');
        assert.deepEqual(printedConfig(run), run.params);
        const x = run.params.x as number;
        const m = await metricsOf(env, run.id);
        assert.deepEqual(m.get('val_loss'), [[0, 3 + x], [1, 1 + x], [2, 2 + x]]);
        assert.deepEqual(m.get('val_loss.min'), [[2, 1 + x]]);
        assert.deepEqual(m.get('test_acc'), [[2, 0.5]]);
        assert.equal((run.output_tail ?? '').split('media passed to wandb.log are skipped').length - 1, 1);
      }

      // A script that raises: failed, its point stored, the traceback in the output tail.
      const [failed] = byScript.get('raises.py')!;
      assert.equal(failed?.state, 'failed');
      assert.match(failed.reason ?? '', /exit code 1/);
      assert.match(failed.output_tail ?? '', /Traceback \(most recent call last\)/);
      assert.match(failed.output_tail ?? '', /ValueError: loss diverged at lr=0\.3/);
      assert.deepEqual((await metricsOf(env, failed.id)).get('loss'), [[0, 0.3]]);
    } finally {
      await tearDown(env);
    }
  });
});
