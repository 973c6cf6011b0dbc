/**
 * Agents that reach only the controller's HTTP port, as real processes against a real controller
 * started with HARROW_TOKEN: `harrow agent --server` with a dead REDIS_URL, and W&B's function
 * agent in Python (`wandb.agent(sweep_id, function=train)` through the wandb module, which is
 * `harrow.agent`). Parameters reach train() through wandb.config, metrics are stored once, an
 * exception fails its run with the traceback kept, a heartbeat keeps a long train() alive, a stop
 * from the API reaches the run through the poll, a command agent refuses a sweep without program,
 * and Ctrl-C lets the current run finish. The fault suite (faults.test.ts) covers SIGKILL, SIGSTOP
 * and controller restarts for HTTP agents.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { needServices } from '../helpers/services.js';
import { ROOT, api, startHarrow, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { controller, setUp, tearDown, waitFinished, type Env } from '../helpers/harness.js';
import type { SweepDetail } from '../../protocol/api.js';

const opts = await needServices();
const hasPython = spawnSync('python3', ['--version']).status === 0;
const TOKEN = 'http-agent-test-token';
const SHIM = fileURLToPath(new URL('../../../sdk/python/wandb_shim', import.meta.url));

function authed(init: RequestInit = {}): RequestInit {
  return { ...init, headers: { authorization: `Bearer ${TOKEN}` } };
}

async function create(env: Env, yaml: string): Promise<SweepDetail> {
  return api<SweepDetail>(env.url, '/api/sweeps', authed({ method: 'POST', body: JSON.stringify({ config: yaml }) }));
}

/** `harrow agent --server` with nothing but the server's URL and token: REDIS_URL points nowhere. */
function httpAgent(env: Env, sweepId: string, extra: string[] = [], token = TOKEN): Proc {
  const p = startHarrow(['agent', sweepId, '--server', env.url, ...extra], {
    HARROW_LOG_LEVEL: 'info',
    REDIS_URL: 'redis://127.0.0.1:1',
    HARROW_PREFIX: 'nothing-here',
    HARROW_TOKEN: token,
    HARROW_HEARTBEAT_MS: '300',
    HARROW_CONTROL_POLL_MS: '200',
  });
  env.procs.push(p);
  return p;
}

function python(env: Env, args: string[], extraEnv: Record<string, string> = {}): Proc {
  const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HARROW_') && k !== 'PYTHONPATH'));
  const child = spawn('python3', args, {
    cwd: ROOT,
    env: { ...base, PYTHONPATH: SHIM, PYTHONUNBUFFERED: '1', HARROW_URL: env.url, HARROW_TOKEN: TOKEN, HARROW_HEARTBEAT_MS: '300', HARROW_CONTROL_POLL_MS: '200', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const p = { child, output: () => out, exited };
  env.procs.push(p);
  return p;
}

interface RunRow {
  id: string;
  state: string;
  params: Record<string, unknown>;
  reason: string | null;
  output_tail: string | null;
  attempt: number;
}

async function runsOf(env: Env, sweepId: string): Promise<RunRow[]> {
  const { rows } = await env.db.query<RunRow>('SELECT id, state, params, reason, output_tail, attempt FROM runs WHERE sweep_id = $1 ORDER BY number', [sweepId]);
  return rows;
}

async function points(env: Env, runId: string): Promise<Array<{ name: string; step: number; value: number }>> {
  const { rows } = await env.db.query<{ name: string; step: number; value: number }>(
    'SELECT name, step::int AS step, value FROM metrics WHERE run_id = $1 ORDER BY name, step',
    [runId],
  );
  return rows.map((r) => ({ ...r, value: Number(r.value) }));
}

describe('agents over HTTP', { ...opts, timeout: 240_000 }, () => {
  test('harrow agent --server: runs, metrics once each, stop through the poll, no Redis, token required', async () => {
    const env = await setUp('e2e_http_agent');
    env.controllerEnv.HARROW_TOKEN = TOKEN;
    try {
      controller(env);
      await waitForHttp(env.url);
      const sweep = await create(
        env,
        [
          'name: http',
          'method: grid',
          'metric: {name: loss, goal: minimize}',
          'program: test/fixtures/scripts/trainer.py',
          'command: [python3, "${program}", "${args}"]',
          'parameters:',
          '  x: {values: [0.1, 0.2, 0.3, 0.4]}',
          '  steps: {value: 4}',
          '  sleep: {value: 0.05}',
        ].join('\n'),
      );
      // A wrong token: the agent says so and exits, having run nothing.
      const refused = httpAgent(env, sweep.id, [], 'wrong-token');
      assert.notEqual(await refused.exited, 0);
      assert.match(refused.output(), /HARROW_TOKEN/);

      const a = httpAgent(env, sweep.id, ['--quiet', '--concurrency', '2']);
      await waitFinished(env, sweep.id);
      assert.equal(await Promise.race([a.exited, new Promise((r) => setTimeout(() => r('running'), 15_000))]), 0, a.output());
      const runs = await runsOf(env, sweep.id);
      assert.equal(runs.length, 4);
      for (const run of runs) {
        assert.equal(run.state, 'finished', `${run.reason} ${run.output_tail}`);
        const p = await points(env, run.id);
        // trainer.py: `loss` every step on stdout, `acc` every other step in the metrics file.
        assert.deepEqual(p.filter((x) => x.name === 'loss').map((x) => x.step), [0, 1, 2, 3]);
        assert.deepEqual(p.filter((x) => x.name === 'acc').length, 2);
      }

      // Stop a long run from the API: the agent learns it from its poll and ends it `stopped`.
      const long = await create(
        env,
        ['name: http-stop', 'method: grid', 'program: test/fixtures/scripts/trainer.py', 'command: [python3, "${program}", "${args}"]', 'parameters:', '  steps: {value: 200}', '  sleep: {value: 0.1}'].join('\n'),
      );
      const b = httpAgent(env, long.id, ['--quiet', '--count', '1']);
      const running = await waitFor('the run to be running', async () => (await runsOf(env, long.id)).find((r) => r.state === 'running'), 30_000);
      await api(env.url, `/api/runs/${running.id}/stop`, authed({ method: 'POST', body: '{}' }));
      await waitFor('the run to be stopped', async () => (await runsOf(env, long.id))[0]?.state === 'stopped', 20_000);
      assert.equal(await b.exited, 0, b.output());
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${env.procs.map((p, i) => `--- ${i} ---\n${p.output().slice(-2500)}`).join('\n')}`, { cause: err });
    } finally {
      await tearDown(env);
    }
  });

  test('W&B function agent (wandb.agent(function=train)): config, metrics, failed with traceback, heartbeat, Ctrl-C', { skip: hasPython ? false : 'python3 is not on PATH' }, async () => {
    const env = await setUp('e2e_function_agent');
    env.controllerEnv.HARROW_TOKEN = TOKEN;
    try {
      controller(env);
      await waitForHttp(env.url);
      // No program: accepted, for function agents only.
      const sweep = await create(env, ['name: notebook', 'method: grid', 'metric: {name: loss, goal: minimize}', 'parameters:', '  lr: {values: [0.25, 0.5, 2.0]}', '  epochs: {value: 3}', '  sleep: {value: 1.2}'].join('\n'));
      assert.ok(sweep.warnings.some((w) => w.path === 'program'), JSON.stringify(sweep.warnings));

      // A command agent refuses it, with the way out in the message.
      const cmd = httpAgent(env, sweep.id);
      assert.notEqual(await cmd.exited, 0);
      assert.match(cmd.output(), /has no program, so only a function agent can run it.*harrow\.agent/s);

      // 3 epochs of 1.2 s: 3.6 s per run, beyond the 2.5 s crash timeout without heartbeats.
      // No count: the agent returns once the sweep is finished.
      const py = python(env, ['test/fixtures/scripts/function-agent/notebook.py', sweep.id, '0']);
      assert.equal(await py.exited, 0, py.output());
      assert.match(py.output(), /AGENT RETURNED/);
      const runs = await runsOf(env, sweep.id);
      assert.equal(runs.length, 3);
      for (const run of runs) {
        assert.equal(run.attempt, 1, `run ${run.id} was retried: ${run.reason}`);
        const lr = run.params.lr as number;
        const config = JSON.parse((run.output_tail ?? '').split('\n').find((l) => l.startsWith('CONFIG '))!.slice(7)) as Record<string, unknown>;
        assert.deepEqual(config, { epochs: 3, lr, sleep: 1.2 });
        if (lr === 0.5) {
          assert.equal(run.state, 'failed');
          assert.match(run.reason ?? '', /ValueError: lr 0\.5 diverges/);
          assert.match(run.output_tail ?? '', /Traceback \(most recent call last\)[\s\S]*raise ValueError\("lr 0\.5 diverges"\)/);
        } else {
          assert.equal(run.state, 'finished', `${run.reason}\n${run.output_tail}`);
          assert.deepEqual((await points(env, run.id)).filter((p) => p.name === 'loss'), [0, 1, 2].map((s) => ({ name: 'loss', step: s, value: lr * (s + 1) })));
        }
      }
      assert.equal((await api<{ state: string }>(env.url, `/api/sweeps/${sweep.id}`, authed())).state, 'finished');

      // A stop from the API interrupts train() (KeyboardInterrupt, not taken for a Ctrl-C): that
      // run ends stopped and the agent goes on with the next one.
      const stopping = await create(env, ['name: notebook-stop', 'method: grid', 'parameters:', '  lr: {values: [1.0, 3.0]}', '  epochs: {value: 8}', '  sleep: {value: 0.4}'].join('\n'));
      const py1 = python(env, ['test/fixtures/scripts/function-agent/notebook.py', stopping.id, '0']);
      const first = await waitFor('a run to be running', async () => (await runsOf(env, stopping.id)).find((r) => r.state === 'running'), 30_000);
      await api(env.url, `/api/runs/${first.id}/stop`, authed({ method: 'POST', body: '{}' }));
      assert.equal(await py1.exited, 0, py1.output());
      const stopped = await runsOf(env, stopping.id);
      assert.deepEqual(stopped.map((r) => [r.id === first.id, r.state]).sort(), [[false, 'finished'], [true, 'stopped']], py1.output());

      // Ctrl-C once during a run: that run finishes, then the agent returns.
      const second = await create(env, ['name: notebook-2', 'method: grid', 'parameters:', '  lr: {values: [1.0, 3.0]}', '  epochs: {value: 3}', '  sleep: {value: 0.7}'].join('\n'));
      const py2 = python(env, ['test/fixtures/scripts/function-agent/notebook.py', second.id, '2']);
      await waitFor('a run to be running', async () => (await runsOf(env, second.id)).some((r) => r.state === 'running'), 30_000);
      py2.child.kill('SIGINT');
      assert.equal(await py2.exited, 0, py2.output());
      const after = await runsOf(env, second.id);
      assert.deepEqual(after.map((r) => r.state).sort(), ['finished', 'queued'].sort(), py2.output());
    } catch (err) {
      throw new Error(`${(err as Error).message}\n${env.procs.map((p, i) => `--- ${i} ---\n${p.output().slice(-2500)}`).join('\n')}`, { cause: err });
    } finally {
      await tearDown(env);
    }
  });
});
