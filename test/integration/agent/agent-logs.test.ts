/**
 * The agent's log lines about a run carry `sweepId`, `runId` and `attempt` (the attempt the job
 * starts, as the controller counts claims), in JSON for collectors and in the readable form.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Writable } from 'node:stream';
import { createAgentLogger } from '../../../agent/agent-logger.js';
import { AgentHarness, needRedis, nodeCommand } from './agent-harness.js';

function sink(): { stream: Writable & { isTTY?: boolean }; lines: () => string[] } {
  let text = '';
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      text += chunk.toString();
      done();
    },
  });
  return { stream, lines: () => text.split('\n').filter((l) => l !== '') };
}

void describe('agent logs', await needRedis(), () => {
  void test('every line about a run names the sweep, the run and the attempt (a retry included)', async () => {
    const h = await AgentHarness.create();
    try {
      const out = sink();
      const logger = createAgentLogger({ level: 'debug', stream: out.stream, format: 'json' });
      const first = await h.enqueue(nodeCommand('process.exit(3)'));
      // The third attempt of a run: its job id is `<run>.r2` (two claims so far).
      const retry = await h.enqueue(nodeCommand('console.log("loss=1")'), {}, 2);
      const agent = await h.startAgent({ logger, count: 2 });
      await h.end(first.runId);
      await h.end(retry.runId);
      await agent.closed;

      const entries = out.lines().map((l) => JSON.parse(l) as Record<string, unknown>);
      const about = (runId: string) => entries.filter((e) => e.runId === runId);
      assert.ok(about(first.runId).length >= 2, JSON.stringify(entries));
      assert.ok(about(retry.runId).length >= 2, JSON.stringify(entries));
      for (const e of about(first.runId)) assert.deepEqual([e.sweepId, e.attempt], [h.sweepId, 1], JSON.stringify(e));
      for (const e of about(retry.runId)) assert.deepEqual([e.sweepId, e.attempt], [h.sweepId, 3], JSON.stringify(e));
    } finally {
      await h.close();
    }
  });

  void test('a terminal gets one readable line per entry; a pipe, or format json, gets JSON', () => {
    const tty = sink();
    tty.stream.isTTY = true;
    createAgentLogger({ level: 'info', stream: tty.stream }).child({ sweepId: 's1', runId: 'r1', attempt: 2 }).warn({ exitCode: 3 }, 'run failed');
    assert.match(tty.lines()[0]!, /^\d\d:\d\d:\d\d WARN {2}run failed {2}runId=r1 attempt=2 exitCode=3$/);

    const pipe = sink();
    createAgentLogger({ level: 'info', stream: pipe.stream }).info({ runId: 'r1' }, 'run claimed');
    assert.equal((JSON.parse(pipe.lines()[0]!) as { msg: string }).msg, 'run claimed');

    const forced = sink();
    forced.stream.isTTY = true;
    createAgentLogger({ level: 'info', stream: forced.stream, format: 'json' }).info('hello');
    assert.equal((JSON.parse(forced.lines()[0]!) as { msg: string }).msg, 'hello');

    const prettyPipe = sink();
    createAgentLogger({ level: 'info', stream: prettyPipe.stream, format: 'pretty' }).info('hello');
    assert.match(prettyPipe.lines()[0]!, /INFO {2}hello$/);
  });
});
