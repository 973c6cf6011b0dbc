/**
 * The controller's control keys as the agent obeys them: stop and cancel kill the whole process
 * group (SIGKILL after the grace for what ignores SIGTERM), abort is fenced by the attempt's
 * token and reports nothing, and terminate() is the second Ctrl-C.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ClaimReport } from '../../../protocol/wire.js';
import { AgentHarness, alive, eventually, needRedis, nodeCommand, sleep } from './agent-harness.js';

/** Leader exits on SIGTERM; its child (sharing our stdout) ignores SIGTERM. Both report their pids. */
const LEADER_AND_STUBBORN_CHILD = `
const { spawn } = require('child_process');
spawn(process.execPath, ['-e', "process.on('SIGTERM', () => {}); console.log('child=' + process.pid); setInterval(() => {}, 1000)"], { stdio: 'inherit' });
process.on('SIGTERM', () => { console.log('leader got SIGTERM'); process.exit(0); });
console.log('leader=' + process.pid);
setInterval(() => {}, 1000);
`;

const STUBBORN_LEADER = `
process.on('SIGTERM', () => console.log('ignoring SIGTERM'));
console.log('leader=' + process.pid);
setInterval(() => {}, 1000);
`;

const FOREVER = `console.log('leader=' + process.pid); setInterval(() => {}, 1000);`;

async function claimOf(h: AgentHarness, runId: string): Promise<ClaimReport> {
  return eventually('the claim', async () =>
    (await h.reportsOf(runId)).find((r): r is ClaimReport => r.type === 'claim'),
  );
}

void describe('agent controls', await needRedis(), () => {
  void test('stop: SIGTERM to the group, SIGKILL after the grace for a child that ignores it; ends stopped', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(LEADER_AND_STUBBORN_CHILD), { killGraceMs: 300 });
      await h.startAgent({ count: 1 });
      const leader = await h.metric(job.runId, 'leader');
      const child = await h.metric(job.runId, 'child');
      assert.ok(alive(leader) && alive(child));
      await h.control(job.runId, { action: 'stop', reason: 'early-terminated by hyperband' });
      const end = await h.end(job.runId);
      assert.equal(end.outcome, 'stopped');
      assert.equal(end.reason, 'stopped by controller: early-terminated by hyperband');
      assert.equal(end.exitCode, 0, 'the leader exited on SIGTERM by itself');
      assert.match(end.tail, /leader got SIGTERM/);
      assert.ok(!alive(leader), 'leader is gone');
      assert.ok(!alive(child), 'the child that ignored SIGTERM was killed too (SIGKILL)');
    } finally {
      await h.close();
    }
  });

  void test('stop: a leader that ignores SIGTERM is killed after the grace', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(STUBBORN_LEADER), { killGraceMs: 200 });
      await h.startAgent({ count: 1 });
      const leader = await h.metric(job.runId, 'leader');
      await h.control(job.runId, { action: 'stop', reason: 'user' });
      const end = await h.end(job.runId);
      assert.deepEqual([end.outcome, end.exitCode, end.signal], ['stopped', null, 'SIGKILL']);
      assert.match(end.tail, /ignoring SIGTERM/);
      assert.ok(!alive(leader));
    } finally {
      await h.close();
    }
  });

  void test('cancel: ends canceled; a control for another attempt (token) is ignored', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(FOREVER));
      await h.startAgent({ count: 1 });
      const leader = await h.metric(job.runId, 'leader');
      await h.control(job.runId, { action: 'cancel', token: 'some-older-attempt', reason: 'sweep canceled' });
      // Several control polls (100 ms apart) see the message; none applies it.
      await sleep(500);
      assert.ok(alive(leader), 'a control for another token must not touch this attempt');
      assert.ok(!(await h.reportsOf(job.runId)).some((r) => r.type === 'end'));
      const claim = await claimOf(h, job.runId);
      await h.control(job.runId, { action: 'cancel', token: claim.token, reason: 'sweep canceled' });
      const end = await h.end(job.runId);
      assert.deepEqual([end.outcome, end.reason, end.signal], ['canceled', 'canceled: sweep canceled', 'SIGTERM']);
      assert.ok(!alive(leader));
    } finally {
      await h.close();
    }
  });

  void test('abort with this attempt\'s token: the run is killed and nothing more is reported', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(`${FOREVER} setInterval(() => console.log('tick=1'), 20);`));
      const agent = await h.startAgent({ count: 1 });
      const leader = await h.metric(job.runId, 'leader');
      const claim = await claimOf(h, job.runId);
      await h.control(job.runId, { action: 'abort', token: claim.token, reason: 'claim refused: another attempt owns the run' });
      assert.deepEqual(await agent.closed, { reason: 'count-reached', runs: 1 });
      assert.ok(!alive(leader));
      const reports = await h.reportsOf(job.runId);
      assert.ok(!reports.some((r) => r.type === 'end'), 'no end report after an abort');
      const state = await (await h.queue.getJob(job.runId))?.getState();
      assert.equal(state, 'completed', 'the job is completed, not retried by BullMQ');
    } finally {
      await h.close();
    }
  });

  void test('invalid control values are ignored; the run goes on', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(nodeCommand(`console.log('leader=' + process.pid); setTimeout(() => {}, 800);`));
      await h.startAgent({ count: 1 });
      await h.metric(job.runId, 'leader');
      await h.redis.set(h.keys.control(job.runId), '{"action":"explode"}');
      const end = await h.end(job.runId);
      assert.equal(end.outcome, 'finished');
    } finally {
      await h.close();
    }
  });

  void test('terminate() (second Ctrl-C): active runs are killed and reported stopped, "agent interrupted"', async () => {
    const h = await AgentHarness.create();
    try {
      const a = await h.enqueue(nodeCommand(LEADER_AND_STUBBORN_CHILD), { killGraceMs: 200 });
      const b = await h.enqueue(nodeCommand(FOREVER), { killGraceMs: 200 });
      const agent = await h.startAgent({ concurrency: 2 });
      const pids = [await h.metric(a.runId, 'leader'), await h.metric(a.runId, 'child'), await h.metric(b.runId, 'leader')];
      // stop() alone would wait for the runs (they never end); terminate() ends them.
      void agent.stop();
      const exit = await agent.terminate();
      assert.equal(exit.reason, 'interrupted');
      assert.equal(exit.runs, 2);
      for (const job of [a, b]) {
        const end = await h.end(job.runId);
        assert.deepEqual([end.outcome, end.reason], ['stopped', 'agent interrupted']);
      }
      for (const pid of pids) assert.ok(!alive(pid), `pid ${pid} is gone`);
      assert.deepEqual(await h.presence(), [], 'presence removed on exit');
    } finally {
      await h.close();
    }
  });
});
