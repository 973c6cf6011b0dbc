/**
 * When the agent starts, takes runs and exits: unknown and ended sweeps, --count, the sweep
 * finishing, graceful stop, GPU slots, presence and heartbeats, and (through the real CLI) an
 * agent killed with SIGKILL leaving no orphan behind.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarrowError } from '../../../protocol/errors.js';
import { MetricPointSchema, type ClaimReport, type HeartbeatReport } from '../../../protocol/wire.js';
import { AgentHarness, REDIS_URL, alive, eventually, needRedis, nodeCommand, sleep } from './agent-harness.js';

const CLI = fileURLToPath(new URL('../../../cli/main.js', import.meta.url));
const AGENT_VERB = `
const { agentCommand } = await import(${JSON.stringify(new URL('../../../cli/commands/agent.js', import.meta.url).href)});
process.exitCode = await agentCommand.run(process.argv.slice(1));
`;

/** Reports its GPU, then waits for the file named by the `go` param before exiting 0. */
const WAIT_FOR_GO = `
const fs = require('fs');
const { go } = JSON.parse(fs.readFileSync(process.env.HARROW_PARAMS_FILE, 'utf8'));
console.log('gpu=' + (process.env.CUDA_VISIBLE_DEVICES === undefined ? -1 : process.env.CUDA_VISIBLE_DEVICES) + ' leader=' + process.pid);
const timer = setInterval(() => { if (fs.existsSync(go)) { clearInterval(timer); } }, 20);
`;

async function withDir<T>(fn: (dir: string) => Promise<T>): Promise<T> {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-agent-life-'));
  try {
    return await fn(dir);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function claims(h: AgentHarness): Promise<ClaimReport[]> {
  return (await h.reports()).filter((r): r is ClaimReport => r.type === 'claim');
}

void describe('agent lifecycle', await needRedis(), () => {
  void test('an unknown sweep is a clear error; an ended sweep closes the agent at once', async () => {
    const h = await AgentHarness.create();
    try {
      await assert.rejects(
        h.startAgent({ sweepId: 'no-such-sweep' }),
        (err: unknown) =>
          err instanceof HarrowError &&
          err.code === 'SWEEP_NOT_FOUND' &&
          /sweep no-such-sweep not found .*is the controller running and the sweep id right\?/.test(err.message),
      );
      await h.setState('canceled');
      const agent = await h.startAgent();
      assert.deepEqual(await agent.closed, { reason: 'sweep-canceled', runs: 0 });
      await h.setState('finished');
      assert.deepEqual(await (await h.startAgent()).closed, { reason: 'sweep-finished', runs: 0 });
    } finally {
      await h.close();
    }
  });

  void test('--count N: N runs, then exit; the rest stay queued for other agents', async () => {
    const h = await AgentHarness.create();
    try {
      for (let i = 0; i < 3; i++) await h.enqueue(nodeCommand('console.log("x=1")'));
      const agent = await h.startAgent({ count: 2, concurrency: 2 });
      assert.deepEqual(await agent.closed, { reason: 'count-reached', runs: 2 });
      assert.equal((await claims(h)).length, 2);
      const counts = await h.queue.getJobCounts('completed', 'waiting', 'active');
      assert.deepEqual(counts, { completed: 2, waiting: 1, active: 0 });
    } finally {
      await h.close();
    }
  });

  void test('an idle agent exits when the sweep becomes finished or canceled', async () => {
    for (const state of ['finished', 'canceled'] as const) {
      const h = await AgentHarness.create();
      try {
        const agent = await h.startAgent({ concurrency: 2 });
        await eventually('presence', async () => (await h.presence()).find((p) => p.agentId === agent.agentId));
        await h.setState(state);
        assert.deepEqual(await agent.closed, { reason: `sweep-${state}`, runs: 0 });
        assert.deepEqual(await h.presence(), []);
      } finally {
        await h.close();
      }
    }
  });

  void test('a busy agent finishes its run when the sweep finishes, then exits', async () => {
    await withDir(async (dir) => {
      const h = await AgentHarness.create();
      try {
        const go = join(dir, 'go');
        const job = await h.enqueue(nodeCommand(WAIT_FOR_GO), { params: { go } });
        const agent = await h.startAgent();
        await h.metric(job.runId, 'leader');
        await h.setState('finished');
        await eventually('presence not accepting', async () =>
          (await h.presence()).find((p) => p.agentId === agent.agentId && !p.accepting),
        );
        const stillRunning = await Promise.race([agent.closed.then(() => false), sleep(300).then(() => true)]);
        assert.ok(stillRunning, 'the agent waits for its active run');
        await writeFile(go, '');
        assert.equal((await h.end(job.runId)).outcome, 'finished');
        assert.deepEqual(await agent.closed, { reason: 'sweep-finished', runs: 1 });
      } finally {
        await h.close();
      }
    });
  });

  void test('--gpus 0,1: two concurrent runs, one GPU each; presence and heartbeats show both', async () => {
    await withDir(async (dir) => {
      const h = await AgentHarness.create();
      try {
        const go = join(dir, 'go');
        const a = await h.enqueue(nodeCommand(WAIT_FOR_GO), { params: { go } });
        const b = await h.enqueue(nodeCommand(WAIT_FOR_GO), { params: { go } });
        const agent = await h.startAgent({ gpus: ['0', '1'], count: 2 });
        assert.equal(agent.slots, 2);
        // Both runs report before either may end: they run at the same time.
        const gpuA = await h.metric(a.runId, 'gpu');
        const gpuB = await h.metric(b.runId, 'gpu');
        assert.deepEqual([gpuA, gpuB].sort(), [0, 1]);
        const byRun = new Map((await claims(h)).map((c) => [c.runId, c]));
        assert.equal(byRun.get(a.runId)?.gpu, String(gpuA), 'the claim names the GPU the run sees');
        assert.equal(byRun.get(b.runId)?.gpu, String(gpuB));

        const presence = await eventually('presence with both slots busy', async () =>
          (await h.presence()).find((p) => p.agentId === agent.agentId && p.busy === 2),
        );
        assert.equal(presence.slots, 2);
        const heartbeat = await eventually('a heartbeat listing both runs', async () =>
          (await h.reports()).find((r): r is HeartbeatReport => r.type === 'heartbeat' && r.runs.length === 2),
        );
        assert.deepEqual(
          heartbeat.runs.map((r) => [r.runId, r.token]).sort(),
          [a.runId, b.runId].map((id) => [id, byRun.get(id)!.token]).sort(),
        );

        await writeFile(go, '');
        assert.deepEqual(await agent.closed, { reason: 'count-reached', runs: 2 });
        assert.equal((await h.end(a.runId)).outcome, 'finished');
        assert.deepEqual(await h.presence(), [], 'presence removed on exit');
      } finally {
        await h.close();
      }
    });
  });

  void test('stop() (first Ctrl-C): no more runs, the current one finishes, then exit', async () => {
    await withDir(async (dir) => {
      const h = await AgentHarness.create();
      try {
        const go = join(dir, 'go');
        const first = await h.enqueue(nodeCommand(WAIT_FOR_GO), { params: { go } });
        // Two slots: the free one is waiting for a job when stop() comes, and may still receive
        // the next one; the agent must hand it back untouched.
        const agent = await h.startAgent({ concurrency: 2 });
        await h.metric(first.runId, 'leader');
        const closed = agent.stop();
        const second = await h.enqueue(nodeCommand('console.log("x=1")'));
        await eventually('presence not accepting', async () =>
          (await h.presence()).find((p) => p.agentId === agent.agentId && !p.accepting && p.busy === 1),
        );
        await sleep(300); // let a blocked fetch, if any, wake up on the new job before the run ends
        await writeFile(go, '');
        assert.deepEqual(await closed, { reason: 'stopped', runs: 1 });
        assert.equal((await h.end(first.runId)).outcome, 'finished');
        assert.equal((await h.reportsOf(second.runId)).length, 0, 'the second run was not taken');
        assert.equal(await (await h.queue.getJob(second.runId))?.getState(), 'waiting');
      } finally {
        await h.close();
      }
    });
  });

  void test('an agent process killed with SIGKILL leaves no orphan: its run\'s group is terminated and its run directory removed', async () => {
    const h = await AgentHarness.create();
    const tmpRoot = await mkdtemp(join(tmpdir(), 'harrow-orphan-'));
    try {
      const job = await h.enqueue(
        nodeCommand(`console.log('leader=' + process.pid); setInterval(() => {}, 1000);`),
        { killGraceMs: 300 },
      );
      // The verb's own module, so that this test does not depend on every other verb loading.
      const agentProcess = spawn(
        process.execPath,
        ['--input-type=module', '-e', AGENT_VERB, '--', h.sweepId, '--quiet'],
        {
          env: { ...process.env, REDIS_URL, HARROW_PREFIX: h.prefix, HARROW_LOG_LEVEL: 'warn', TMPDIR: tmpRoot },
          stdio: ['ignore', 'ignore', 'inherit'],
        },
      );
      const exited = new Promise((resolve) => agentProcess.once('exit', resolve));
      const leader = await eventually('the run to start', async () => {
        if (agentProcess.exitCode !== null) throw new Error(`the agent exited early (${agentProcess.exitCode})`);
        const points = (await h.reportsOf(job.runId)).flatMap((r) => (r.type === 'metrics' ? r.points.map((p) => MetricPointSchema.parse(p)) : []));
        const value = points.find((p) => p.name === 'leader')?.value;
        return typeof value === 'number' ? value : undefined;
      });
      assert.ok(alive(leader));
      const runDirs = await readdir(tmpRoot);
      assert.equal(runDirs.length, 1, `the run's directory is in TMPDIR (${runDirs.join(', ')})`);
      agentProcess.kill('SIGKILL');
      await exited;
      await eventually('the orphaned run to be terminated', () => (alive(leader) ? undefined : true));
      await eventually('the run directory to be removed', async () => ((await readdir(tmpRoot)).length === 0 ? true : undefined));
    } finally {
      await h.close();
      await rm(tmpRoot, { recursive: true, force: true });
    }
  });

  void test('an agent frozen with SIGSTOP freezes its runs; thawed, it aborts an attempt declared crashed before that run goes on', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(`console.log('leader=' + process.pid); setInterval(() => {}, 50);`), { killGraceMs: 300 });
      const agentProcess = spawn(process.execPath, ['--input-type=module', '-e', AGENT_VERB, '--', h.sweepId, '--quiet'], {
        env: { ...process.env, REDIS_URL, HARROW_PREFIX: h.prefix, HARROW_LOG_LEVEL: 'warn', HARROW_CONTROL_POLL_MS: '100' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const exited = new Promise((resolve) => agentProcess.once('exit', resolve));
      try {
        const leader = await h.metric(job.runId, 'leader');
        const claim = (await h.reportsOf(job.runId)).find((r): r is ClaimReport => r.type === 'claim')!;
        // A short freeze: the run is frozen with its agent, and goes on when the agent does.
        agentProcess.kill('SIGSTOP');
        await eventually('the run to be frozen with its agent', () => (processState(leader) === 'T' ? true : undefined));
        agentProcess.kill('SIGCONT');
        await eventually('the run to go on', () => (processState(leader) !== 'T' ? true : undefined));
        assert.ok(alive(leader));
        // A long one: meanwhile the controller declared the attempt crashed and told it to abort.
        agentProcess.kill('SIGSTOP');
        await eventually('the run to be frozen again', () => (processState(leader) === 'T' ? true : undefined));
        await h.control(job.runId, { action: 'abort', token: claim.token, reason: 'attempt declared crashed (no heartbeat)' });
        agentProcess.kill('SIGCONT');
        await eventually('the aborted run to be gone', () => (alive(leader) ? undefined : true));
        await sleep(300);
        assert.ok(!(await h.reportsOf(job.runId)).some((r) => r.type === 'end'), 'nothing reported for an aborted attempt');
      } finally {
        agentProcess.kill('SIGCONT');
        agentProcess.kill('SIGKILL');
        await exited;
      }
    } finally {
      await h.close();
    }
  });

  void test('CLI: an unknown sweep prints what to check and exits 1; bad flags exit 2', async () => {
    const run = (args: string[]) =>
      new Promise<{ code: number | null; stderr: string }>((resolve) => {
        const p = spawn(process.execPath, [CLI, 'agent', ...args], {
          env: { ...process.env, REDIS_URL, HARROW_PREFIX: 'harrow-test-agent-none' },
          stdio: ['ignore', 'ignore', 'pipe'],
        });
        let stderr = '';
        p.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
        p.once('close', (code) => resolve({ code, stderr }));
      });
    const missing = await run(['nope']);
    assert.equal(missing.code, 1);
    assert.match(missing.stderr, /harrow agent: sweep nope not found .*is the controller running/);
    const bad = await run(['nope', '--count', 'lots']);
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /--count must be a whole number/);
    const conflict = await run(['nope', '--gpus', '0,1', '--concurrency', '3']);
    assert.equal(conflict.code, 2);
    assert.match(conflict.stderr, /leave out --concurrency/);
  });
});

/** The state letter of /proc/<pid>/stat (R, S, T for stopped, Z...), or null when it is gone. */
function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[0] ?? null;
  } catch {
    return null;
  }
}
