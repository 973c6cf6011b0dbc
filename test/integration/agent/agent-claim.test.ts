/**
 * The claim is the fence of the execution (DESIGN 12): the agent starts the training command only
 * once the controller answered `accepted`, re-sends a claim left unanswered, starts nothing on a
 * refusal, gives the job back when no answer comes, and tells the run its attempt number.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ClaimReport } from '../../../protocol/wire.js';
import { CLAIM_RESEND_MS } from '../../../agent/run-attempt.js';
import { AgentHarness, REDIS_URL, eventually, needRedis, nodeCommand, sleep } from './agent-harness.js';

/** Appends one line per start (its attempt) to the file named in argv[1], then prints a metric. */
const RECORD_START = `
require('fs').appendFileSync(process.argv[1], 'attempt=' + process.env.HARROW_ATTEMPT + '\\n');
console.log('attempt=' + process.env.HARROW_ATTEMPT);
`;

async function claims(h: AgentHarness, runId: string): Promise<ClaimReport[]> {
  return (await h.reportsOf(runId)).filter((r): r is ClaimReport => r.type === 'claim');
}

void describe('agent claims', await needRedis(), () => {
  void test('nothing starts before the claim is accepted; an unanswered claim is sent again; HARROW_ATTEMPT is the accepted attempt', async () => {
    const h = await AgentHarness.create();
    const dir = await mkdtemp(join(tmpdir(), 'harrow-claim-'));
    try {
      const starts = join(dir, 'starts');
      let answer = false;
      h.answerClaim = () => (answer ? { verdict: 'accepted', attempt: 3 } : null);
      const job = await h.enqueue(nodeCommand(RECORD_START, starts));
      await h.startAgent({ count: 1 });
      await eventually('the claim sent again', async () => ((await claims(h, job.runId)).length >= 2 ? true : undefined));
      assert.ok(!existsSync(starts), 'the command did not start while the claim was unanswered');
      const sent = await claims(h, job.runId);
      assert.equal(new Set(sent.map((c) => c.token)).size, 1, 'the same claim (one token) is sent again');
      answer = true;
      const end = await h.end(job.runId);
      assert.equal(end.outcome, 'finished');
      assert.equal(await readFile(starts, 'utf8'), 'attempt=3\n', 'started once, told its attempt');
      assert.equal(end.token, sent[0]!.token);
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('a refused claim starts nothing and reports nothing', async () => {
    const h = await AgentHarness.create();
    const dir = await mkdtemp(join(tmpdir(), 'harrow-claim-'));
    try {
      const starts = join(dir, 'starts');
      h.answerClaim = () => ({ verdict: 'refused', reason: 'run is running (attempt 1)' });
      const job = await h.enqueue(nodeCommand(RECORD_START, starts));
      const agent = await h.startAgent({ count: 1 });
      const exit = await agent.closed;
      assert.equal(exit.reason, 'count-reached');
      assert.ok(!existsSync(starts), 'the command never started');
      const reports = await h.reportsOf(job.runId);
      assert.deepEqual(reports.map((r) => r.type), ['claim'], 'nothing after the claim');
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  void test('a claim never answered within HARROW_CLAIM_WAIT_MS gives the job back, unstarted', async () => {
    const h = await AgentHarness.create();
    const dir = await mkdtemp(join(tmpdir(), 'harrow-claim-'));
    try {
      const starts = join(dir, 'starts');
      h.answerClaim = () => null;
      const job = await h.enqueue(nodeCommand(RECORD_START, starts));
      const agent = await h.startAgent({
        config: { redisUrl: REDIS_URL, prefix: h.prefix, heartbeatMs: 200, controlPollMs: 100, claimWaitMs: 1000, logLevel: 'silent', logFormat: 'json' },
      });
      // Given back to the queue, the job is taken again (by the only agent there is) under a new claim.
      await eventually('the job given back and claimed again', async () =>
        new Set((await claims(h, job.runId)).map((c) => c.token)).size >= 2 ? true : undefined,
      );
      await agent.stop();
      await sleep(CLAIM_RESEND_MS / 10);
      assert.ok(!existsSync(starts), 'the command never started');
      assert.ok(!(await h.reportsOf(job.runId)).some((r) => r.type === 'end'), 'no end report');
    } finally {
      await h.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
