/**
 * `harrow agent --slurm` against a real single-node Slurm (slurmctld and slurmd from Debian's
 * slurm-wlm, started by the test): every run is a Slurm job. A sweep completes with every metric
 * point the jobs printed stored once; a user's stop cancels the run's job (scancel --signal=TERM);
 * a job Slurm itself ends (an admin's scancel) ends its run `crashed`, and the retry policy runs
 * it again as a new job.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { needServices } from '../helpers/services.js';
import { api, startHarrow, waitFor, waitForHttp } from '../helpers/processes.js';
import { controller, createSweep, setUp, tearDown, waitFinished } from '../helpers/harness.js';
import { PrivateSlurm, slurmProblem } from '../helpers/private-slurm.js';

const opts = await needServices();
const problem = slurmProblem();
if (problem && process.env.CI) throw new Error(`the Slurm test needs slurm-wlm in CI: ${problem}`);
if (problem) console.error(`\n*** SKIPPED Slurm test: ${problem}\n`);

const RUN_CAP = 6;
const STEPS = 12;
const POINTS_PER_RUN = STEPS + Math.ceil(STEPS / 2);

const YAML = `
name: slurm
method: random
metric: {name: loss, goal: minimize}
run_cap: ${RUN_CAP}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: ${STEPS}}
  sleep: {value: 0.25}
harrow:
  retry: {max_attempts: 3, on: [crashed]}
`;

void test('harrow agent --slurm: a sweep completes, a stop cancels a job, a job Slurm kills is crashed and retried', { skip: problem ?? opts.skip, timeout: 180_000 }, async () => {
  const env = await setUp('e2e_slurm');
  const slurm = await PrivateSlurm.start(2);
  const execDir = mkdtempSync(join(tmpdir(), 'harrow-exec-'));
  try {
    controller(env);
    await waitForHttp(env.url);
    const sweep = await createSweep(env, YAML);
    const agent = startHarrow(['agent', sweep.id, '--quiet', '--concurrency', '2', '--slurm=--time=10 --cpus-per-task=1'], {
      ...env.agentEnv,
      ...slurm.env,
      HARROW_CONTROL_POLL_MS: '200',
      HARROW_TEST_EXEC_DIR: execDir,
      HARROW_LOG_LEVEL: 'info',
      HARROW_LOG_FORMAT: 'json',
    });
    env.procs.push(agent);

    /** A running run whose Slurm job is RUNNING (and not one of `skip`), with the job's id. */
    const runningJob = (skip: string[]): Promise<{ runId: string; jobId: string }> =>
      waitFor(
        'a run whose Slurm job is running',
        () => {
          if (agent.child.exitCode !== null) throw new Error(`the agent exited (${agent.child.exitCode})`);
          const lines = slurm.cmd('squeue', ['--noheader', '--states=RUNNING', '--format=%i %j']).trim().split('\n');
          for (const line of lines) {
            const [jobId, name] = line.trim().split(/\s+/);
            const runId = name?.replace(/^harrow-/, '');
            if (jobId && runId && !skip.includes(runId) && readExecutions(execDir, runId).steps > 0) return Promise.resolve({ runId, jobId });
          }
          return Promise.resolve(undefined);
        },
        60_000,
        200,
      ).catch((err: Error) => {
        if (agent.child.exitCode !== null) throw new Error(`the agent exited (${agent.child.exitCode})`);
        throw err;
      });
    const runState = async (runId: string): Promise<string> => {
      const { rows } = await env.db.query<{ state: string }>(`SELECT state FROM runs WHERE id = $1`, [runId]);
      return rows[0]!.state;
    };
    const jobState = (jobId: string): string => /JobState=(\S+)/.exec(slurm.cmd('scontrol', ['show', 'job', '--oneliner', jobId]))?.[1] ?? '?';

    // A user's stop: the agent asks Slurm to end the job (SIGTERM to the batch script, scancel after the grace).
    const stopped = await runningJob([]);
    await api(env.url, `/api/runs/${stopped.runId}/stop`, { method: 'POST', body: JSON.stringify({ reason: 'enough' }) });
    await waitFor('the stopped run to end', async () => (await runState(stopped.runId)) !== 'running', 30_000, 100);
    assert.equal(await runState(stopped.runId), 'stopped');
    const stoppedJobState = await waitFor('the stopped job to end in Slurm', () => {
      const s = jobState(stopped.jobId);
      return Promise.resolve(['CANCELLED', 'FAILED'].includes(s) ? s : undefined);
    }, 15_000);
    const stoppedSteps = readExecutions(execDir, stopped.runId).steps;
    assert.ok(stoppedSteps < STEPS, `the stopped job was cut short (${stoppedSteps} of ${STEPS} steps)`);

    // Slurm ends a job itself (an admin's scancel): the run is crashed and retried as a new job.
    const killed = await runningJob([stopped.runId]);
    slurm.cmd('scancel', [killed.jobId]);
    await waitFor('the killed run to be retried', async () => {
      const { rows } = await env.db.query<{ attempt: number }>(`SELECT attempt FROM runs WHERE id = $1`, [killed.runId]);
      return rows[0]!.attempt >= 2;
    }, 30_000, 100);
    const { rows: crashes } = await env.db.query<{ reason: string }>(`SELECT reason FROM run_events WHERE run_id = $1 AND to_state = 'crashed'`, [killed.runId]);
    assert.equal(crashes.length, 1, 'the killed job ended its run crashed once');
    assert.match(crashes[0]!.reason, new RegExp(`Slurm ended job ${killed.jobId} as CANCELLED`));

    await waitFinished(env, sweep.id, 120_000);
    await waitFor('the agent to exit', () => Promise.resolve(agent.child.exitCode !== null), 30_000);
    assert.equal(agent.child.exitCode, 0, agent.output().slice(-2000));

    const { rows: runs } = await env.db.query<{ id: string; state: string; attempt: number; stored: number; dup: number }>(
      `SELECT r.id, r.state, r.attempt,
              (SELECT count(*)::int FROM metrics m WHERE m.run_id = r.id AND m.attempt = r.attempt) AS stored,
              (SELECT (count(*) - count(DISTINCT (m.name, m.step)))::int FROM metrics m WHERE m.run_id = r.id AND m.attempt = r.attempt) AS dup
       FROM runs r WHERE r.sweep_id = $1`,
      [sweep.id],
    );
    const finished = runs.filter((r) => r.state === 'finished');
    const jobs = (agent.output().match(/run submitted to Slurm/g) ?? []).length;
    console.log(
      `Slurm: ${runs.length} runs (${finished.length} finished), ${jobs} jobs submitted; stopped job ended ${stoppedJobState} after ${stoppedSteps} of ${STEPS} steps; ` +
        `killed job ${killed.jobId} → run crashed and retried (attempt ${runs.find((r) => r.id === killed.runId)?.attempt}); points stored ${finished.reduce((s, r) => s + r.stored, 0)} of ${finished.length * POINTS_PER_RUN}`,
    );
    assert.equal(runs.length, RUN_CAP, 'run_cap exactly');
    assert.equal(finished.length, RUN_CAP - 1, 'every run but the stopped one finished');
    assert.equal(runs.find((r) => r.id === killed.runId)?.state, 'finished', 'the killed run finished on its retry');
    assert.equal(jobs, RUN_CAP + 1, 'one Slurm job per attempt');
    for (const r of finished) {
      assert.equal(r.stored, POINTS_PER_RUN, `run ${r.id}: every point printed by its job stored`);
      assert.equal(r.dup, 0, `run ${r.id}: no point stored twice`);
      const ex = readExecutions(execDir, r.id);
      assert.equal(ex.startsOf(String(r.attempt)), 1, `run ${r.id}: its last attempt executed once`);
    }
    assert.equal(readExecutions(execDir, killed.runId).starts, 2, 'the killed run executed once per attempt');
  } catch (err) {
    const logs = env.procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-4000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}\n--- slurm ---\n${slurm.log()}`, { cause: err });
  } finally {
    await tearDown(env);
    await slurm.destroy();
    rmSync(execDir, { recursive: true, force: true });
  }
});

/** What the training fixture recorded for a run: `<attempt> start|step <time>` lines. */
function readExecutions(dir: string, runId: string): { starts: number; steps: number; startsOf: (attempt: string) => number } {
  const file = readdirSync(dir).includes(runId) ? readFileSync(join(dir, runId), 'utf8').trim().split('\n').map((l) => l.split(' ')) : [];
  return {
    starts: file.filter((l) => l[1] === 'start').length,
    steps: file.filter((l) => l[1] === 'step').length,
    startsOf: (attempt) => file.filter((l) => l[0] === attempt && l[1] === 'start').length,
  };
}
