/**
 * Checkpoints, drain and preemption with real processes (controller, agents, a Python program
 * that checkpoints and resumes: test/fixtures/scripts/epochs.py, which logs every epoch it
 * completes, with its attempt, so the test counts the epochs trained across attempts):
 * - a retry resumes from the run's checkpoint directory (the same for every attempt);
 * - a drained agent (SIGUSR2) and a spot agent's SIGTERM (--preemptible) checkpoint their runs
 *   and hand them back: another agent finishes them with no epoch trained twice, they are not
 *   failures and spend no retry (`max_attempts: 1`).
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { api, startHarrow, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { controller, createSweep, setUp, tearDown, waitFinished, type Env } from '../helpers/harness.js';
import { needServices } from '../helpers/services.js';
import type { ListRunsResponse, RunDetail, SweepDetail } from '../../protocol/api.js';

const sweepYaml = (o: { epochs: number; every: number; epochS: number; failAt: number; retry: string }) => `
method: grid
metric: {name: loss, goal: minimize}
program: test/fixtures/scripts/epochs.py
command: [python3, "\${program}", "\${args}"]
parameters:
  epochs: {value: ${o.epochs}}
  every: {value: ${o.every}}
  epoch_s: {value: ${o.epochS}}
  fail_at: {value: ${o.failAt}}
  seed: {values: [1, 2]}
harrow:
  retry: ${o.retry}
`;

interface Dirs {
  epochs: string;
  checkpoints: string;
  /** HARROW_AGENTS_DIR of this test's agents: `harrow agent --drain` must not see another test's. */
  agents: string;
}

function agentEnv(env: Env, dirs: Dirs): Record<string, string> {
  return {
    ...env.agentEnv,
    HARROW_LOG_LEVEL: 'info',
    HARROW_CHECKPOINT_ROOT: dirs.checkpoints,
    HARROW_CHECKPOINT_GRACE_MS: '5000',
    HARROW_TEST_EPOCH_DIR: dirs.epochs,
    HARROW_AGENTS_DIR: dirs.agents,
  };
}

/** `harrow agent SWEEP ...`, or with `sweepId` null the sweeps given in `args` (--sweeps). */
function startAgent(env: Env, dirs: Dirs, sweepId: string | null, args: string[]): Proc {
  const p = startHarrow(['agent', ...(sweepId === null ? [] : [sweepId]), '--quiet', ...args], agentEnv(env, dirs));
  env.procs.push(p);
  return p;
}

/** [attempt, epoch] of every epoch the run completed, in order. */
function epochsOf(dirs: Dirs, runId: string): Array<[number, number]> {
  const file = join(dirs.epochs, runId);
  if (!existsSync(file)) return [];
  return readFileSync(file, 'utf8')
    .split('\n')
    .filter((l) => l !== '')
    .map((l) => l.split(' ').map(Number) as [number, number]);
}

async function runsOf(env: Env, sweepId: string): Promise<RunDetail[]> {
  const { runs } = await api<ListRunsResponse>(env.url, `/api/sweeps/${sweepId}/runs?limit=100`);
  return Promise.all(runs.map((r) => api<RunDetail>(env.url, `/api/runs/${r.id}`)));
}

async function withInstallation(tag: string, fn: (env: Env, dirs: Dirs) => Promise<void>): Promise<void> {
  const env = await setUp(tag);
  const root = mkdtempSync(join(tmpdir(), 'harrow-ckpt-'));
  const dirs = { epochs: join(root, 'epochs'), checkpoints: join(root, 'checkpoints'), agents: join(root, 'agents') };
  // The epoch log dir must exist; the checkpoint root is made by the agent.
  mkdirSync(dirs.epochs);
  try {
    controller(env);
    await waitForHttp(env.url);
    await fn(env, dirs);
  } finally {
    await tearDown(env);
    rmSync(root, { recursive: true, force: true });
  }
}

void describe('checkpoints, drain and preemption', await needServices(), () => {
  void test('a retry resumes from its checkpoint: epochs trained in all = epochs + those since the last checkpoint', async () => {
    await withInstallation('ckpt_retry', async (env, dirs) => {
      const EPOCHS = 8;
      const EVERY = 3;
      const FAIL_AT = 5;
      const sweep: SweepDetail = await createSweep(env, sweepYaml({ epochs: EPOCHS, every: EVERY, epochS: 0.05, failAt: FAIL_AT, retry: '{max_attempts: 3, on: [failed]}' }));
      startAgent(env, dirs, sweep.id, ['--concurrency', '2']);
      await waitFinished(env, sweep.id);
      const runs = await runsOf(env, sweep.id);
      assert.equal(runs.length, 2);
      for (const run of runs) {
        assert.equal(run.state, 'finished', `run ${run.number}: ${run.reason}`);
        assert.equal(run.attempt, 2, 'one retry after the failure');
        const trained = epochsOf(dirs, run.id);
        const first = trained.filter(([a]) => a === 1).map(([, e]) => e);
        const second = trained.filter(([a]) => a === 2).map(([, e]) => e);
        assert.deepEqual(first, [0, 1, 2, 3, 4], 'attempt 1 trained until it failed');
        // The last checkpoint before the failure was after epoch 3 (every 3): the retry starts there.
        assert.deepEqual(second, [3, 4, 5, 6, 7], 'attempt 2 resumed from the checkpoint, not from scratch');
        const sinceCheckpoint = FAIL_AT - Math.floor(FAIL_AT / EVERY) * EVERY;
        assert.equal(trained.length, EPOCHS + sinceCheckpoint);
        assert.ok(trained.length <= EPOCHS + EVERY - 1);
        assert.ok(existsSync(join(dirs.checkpoints, sweep.id, run.id, 'ckpt.json')), 'the checkpoint is under HARROW_CHECKPOINT_ROOT/<sweep>/<run>');
      }
    });
  });

  void test('drained (SIGUSR2) and preempted (SIGTERM with --preemptible) agents hand their runs back; another agent finishes them, no epoch trained twice, no failure', async () => {
    await withInstallation('ckpt_drain', async (env, dirs) => {
      const EPOCHS = 20;
      // max_attempts 1: a preemption that spent a retry would leave the run unresumed.
      const sweep: SweepDetail = await createSweep(env, sweepYaml({ epochs: EPOCHS, every: 5, epochS: 0.15, failAt: 0, retry: '{max_attempts: 1, on: [crashed, failed]}' }));
      const drained = startAgent(env, dirs, sweep.id, ['--concurrency', '1']);
      const spot = startAgent(env, dirs, sweep.id, ['--concurrency', '1', '--preemptible']);
      const runIds = await waitFor('both runs to have trained a few epochs', async () => {
        const runs = await runsOf(env, sweep.id);
        return runs.length === 2 && runs.every((r) => epochsOf(dirs, r.id).length >= 3) ? runs.map((r) => r.id) : undefined;
      });
      drained.child.kill('SIGUSR2');
      spot.child.kill('SIGTERM');
      assert.equal(await drained.exited, 0, drained.output());
      assert.equal(await spot.exited, 0, spot.output());
      assert.match(drained.output(), /SIGUSR2: draining/);
      assert.match(spot.output(), /SIGTERM: draining/);
      const before = new Map(runIds.map((id) => [id, epochsOf(dirs, id).length]));
      for (const [id, n] of before) assert.ok(n < EPOCHS, `run ${id} was still training when drained (${n} epochs)`);

      startAgent(env, dirs, sweep.id, ['--concurrency', '2']);
      await waitFinished(env, sweep.id);
      const runs = await runsOf(env, sweep.id);
      for (const run of runs) {
        assert.equal(run.state, 'finished', `run ${run.number}: ${run.reason}`);
        assert.equal(run.attempt, 2, 'resumed as a second attempt');
        const trained = epochsOf(dirs, run.id);
        assert.deepEqual(
          trained.map(([, e]) => e),
          Array.from({ length: EPOCHS }, (_, i) => i),
          `every epoch trained exactly once across attempts (got ${JSON.stringify(trained)})`,
        );
        assert.ok(trained.some(([a]) => a === 2), 'the second attempt trained the rest');
        const moves = run.events.map((e) => `${e.from ?? ''}>${e.to}`);
        assert.deepEqual(moves, ['>queued', 'queued>running', 'running>preempted', 'preempted>queued', 'queued>running', 'running>finished']);
        const preempted = run.events.find((e) => e.to === 'preempted')!;
        assert.match(preempted.reason, /^preempted: (agent drained \(SIGUSR2\)|box preempted \(SIGTERM on a --preemptible agent\))$/);
        const requeued = run.events.find((e) => e.from === 'preempted')!;
        assert.match(requeued.reason, /resume after preemption .*not counted as a retry/);
      }
      const detail = await api<SweepDetail>(env.url, `/api/sweeps/${sweep.id}`);
      assert.equal(detail.counts.failed + detail.counts.crashed, 0, 'preemptions are not failures');
      assert.equal(detail.health, 'ok');
    });
  });

  void test('harrow agent --drain drains every agent on the box (Redis, HTTP, several sweeps); their runs resume elsewhere as new attempts, no epoch trained twice', async () => {
    await withInstallation('ckpt_cli_drain', async (env, dirs) => {
      const EPOCHS = 20;
      const EVERY = 5;
      const yaml = sweepYaml({ epochs: EPOCHS, every: EVERY, epochS: 0.15, failAt: 0, retry: '{max_attempts: 1, on: [crashed, failed]}' });
      const a: SweepDetail = await createSweep(env, yaml);
      const b: SweepDetail = await createSweep(env, yaml);
      const overRedis = startAgent(env, dirs, a.id, ['--concurrency', '1']);
      const overHttp = startAgent(env, dirs, a.id, ['--concurrency', '1', '--server', env.url]);
      const several = startAgent(env, dirs, null, ['--sweeps', b.id, '--concurrency', '2']);
      const drained = [overRedis, overHttp, several];
      const runIds = await waitFor('the four runs to have trained a few epochs', async () => {
        const runs = [...(await runsOf(env, a.id)), ...(await runsOf(env, b.id))];
        return runs.length === 4 && runs.every((r) => r.state === 'running' && epochsOf(dirs, r.id).length >= 2) ? runs.map((r) => r.id) : undefined;
      });

      const drain = startHarrow(['agent', '--drain', '--json'], agentEnv(env, dirs));
      env.procs.push(drain);
      assert.equal(await drain.exited, 0, drain.output());
      // It waited: every agent it drained has exited by the time it returns.
      for (const p of drained) assert.notEqual(p.child.exitCode, null, `an agent still runs after the drain returned: ${p.output().slice(-2000)}`);
      const answer = JSON.parse(drain.output()) as { agents: Array<{ pid: number; transport: string; sweeps: string[]; all: boolean; exited: boolean }> };
      assert.deepEqual(
        answer.agents.map((x) => [x.pid, x.transport, x.sweeps, x.exited]).sort((x, y) => Number(x[0]) - Number(y[0])),
        [
          [overRedis.child.pid, 'redis', [a.id], true],
          [overHttp.child.pid, 'http', [a.id], true],
          [several.child.pid, 'redis', [b.id], true],
        ].sort((x, y) => Number(x[0]) - Number(y[0])),
      );
      for (const p of drained) {
        assert.equal(await p.exited, 0, p.output());
        assert.match(p.output(), /SIGUSR2: draining/);
      }
      const before = new Map(runIds.map((id) => [id, epochsOf(dirs, id).length]));
      for (const [id, n] of before) assert.ok(n < EPOCHS, `run ${id} was still training when drained (${n} epochs)`);
      // Handed back: preempted, then queued again as the next attempt; neither failed nor crashed.
      // (The agents' end reports may still be on their way to Postgres when they have exited.)
      const handedBack = await waitFor('the drained runs to be queued again', async () => {
        const runs = [...(await runsOf(env, a.id)), ...(await runsOf(env, b.id))];
        return runs.every((r) => r.state === 'queued') ? runs : undefined;
      });
      for (const run of handedBack) {
        assert.equal(run.attempt, 1);
        assert.deepEqual(run.events.map((e) => `${e.from ?? ''}>${e.to}`), ['>queued', 'queued>running', 'running>preempted', 'preempted>queued']);
      }
      // Nothing is left to drain; the drained agents removed their registration.
      const again = startHarrow(['agent', '--drain'], agentEnv(env, dirs));
      env.procs.push(again);
      assert.equal(await again.exited, 1);
      assert.match(again.output(), /no agent is running on this box to drain/);

      startAgent(env, dirs, null, ['--sweeps', `${a.id},${b.id}`, '--concurrency', '4']);
      await waitFinished(env, a.id);
      await waitFinished(env, b.id);
      for (const run of [...(await runsOf(env, a.id)), ...(await runsOf(env, b.id))]) {
        assert.equal(run.state, 'finished', `run ${run.number}: ${run.reason}`);
        assert.equal(run.attempt, 2, 'resumed as a second attempt');
        const trained = epochsOf(dirs, run.id);
        // The drain's SIGUSR1 made each run checkpoint its last epoch: the second attempt starts right after it.
        assert.deepEqual(trained.map(([, e]) => e), Array.from({ length: EPOCHS }, (_, i) => i), `every epoch trained exactly once across attempts (got ${JSON.stringify(trained)})`);
        const second = trained.filter(([att]) => att === 2).map(([, e]) => e);
        assert.ok(second.length > 0 && second[0] === before.get(run.id), 'the second attempt resumed from the checkpoint the drain made');
        const preempted = run.events.find((e) => e.to === 'preempted')!;
        assert.equal(preempted.reason, 'preempted: agent drained (SIGUSR2)');
      }
      for (const id of [a.id, b.id]) {
        const detail = await api<SweepDetail>(env.url, `/api/sweeps/${id}`);
        assert.equal(detail.counts.failed + detail.counts.crashed, 0, 'preemptions are not failures');
      }
    });
  });
});
