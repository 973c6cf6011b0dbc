/**
 * The agent against real Redis, a test playing the controller: claim → metrics → end, outcomes
 * from exit codes, commands that cannot start, the run's environment, and a real training script.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { MetricPointSchema, type EndReport, type MetricPoint } from '../../../protocol/wire.js';
import { createAgentLogger } from '../../../agent/agent-logger.js';
import { AgentHarness, needRedis, nodeCommand } from './agent-harness.js';

/** A JSON logger whose lines land in `lines`. */
function captureLogger(lines: string[]) {
  const stream = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString());
      done();
    },
  });
  return createAgentLogger({ level: 'info', stream, format: 'json' });
}

const REPO_ROOT = fileURLToPath(new URL('../../../../', import.meta.url));

const TALKATIVE = `
const fs = require('fs');
console.log('hello from the run');
console.log('loss=0.5 step=1');
console.log(JSON.stringify({ loss: 0.25, acc: 0.5 }));
console.error('a warning on stderr');
const stat = fs.readFileSync('/proc/self/stat', 'latin1').slice(fs.readFileSync('/proc/self/stat', 'latin1').lastIndexOf(')') + 2).split(' ');
const ownGroup = Number(stat[2]) === process.pid ? 1 : 0;
const stdinBytes = fs.readFileSync(0).length;
console.log('own_group=' + ownGroup + ' stdin_bytes=' + stdinBytes + ' step=0');
console.log('args ' + JSON.stringify(process.argv.slice(1)));
console.log('params ' + fs.readFileSync(process.env.HARROW_PARAMS_FILE, 'utf8').trim());
console.log('ids ' + process.env.HARROW_SWEEP_ID + ' ' + process.env.HARROW_RUN_ID + ' ' + (process.env.CUDA_VISIBLE_DEVICES || 'none'));
setTimeout(() => {
  fs.appendFileSync(process.env.HARROW_METRICS_FILE, '{"val": 1.5, "step": 7}\\n{"val": NaN, "step": 8}\\n{"val": 2.5, "st');
  fs.appendFileSync(process.env.HARROW_METRICS_FILE, 'ep": 9}');
}, 300);
`;

void describe('agent runs', await needRedis(), () => {
  void test('claim, then metrics in seq order from stdout and the metrics file, then end with the output tail', async () => {
    const h = await AgentHarness.create();
    try {
      const echoed: string[] = [];
      const output = new Writable({
        write(chunk: Buffer, _enc, done) {
          echoed.push(chunk.toString());
          done();
        },
      });
      const job = await h.enqueue(nodeCommand(TALKATIVE, '--', '${args}'), {
        params: { lr: 0.1, layers: 3, name: 'adam' },
      });
      const agent = await h.startAgent({ quiet: false, output, count: 1 });
      const end = await h.end(job.runId);
      assert.deepEqual(await agent.closed, { reason: 'count-reached', runs: 1 });

      const reports = await h.reportsOf(job.runId);
      const claim = reports[0];
      assert.equal(claim?.type, 'claim');
      assert.equal(reports.at(-1)?.type, 'end');
      assert.ok(reports.slice(1, -1).every((r) => r.type === 'metrics'));
      assert.ok(reports.every((r) => r.type !== 'heartbeat' && r.token === claim.token), 'one token for the attempt');
      assert.equal(claim.agentId, agent.agentId);
      assert.equal(claim.gpu, null);

      const points: MetricPoint[] = reports.flatMap((r) => (r.type === 'metrics' ? r.points.map((p) => MetricPointSchema.parse(p)) : []));
      assert.deepEqual(
        points.map((p) => p.seq),
        points.map((_, i) => i + 1),
        'seq is 1, 2, 3, ... in report order',
      );
      const byName = (name: string) => points.filter((p) => p.name === name).map((p) => [p.step, p.value]);
      assert.deepEqual(byName('loss'), [
        [1, 0.5],
        [2, 0.25],
      ]);
      assert.deepEqual(byName('acc'), [[2, 0.5]]);
      assert.deepEqual(byName('own_group'), [[0, 1]], 'the run leads its own process group');
      assert.deepEqual(byName('stdin_bytes'), [[0, 0]], 'stdin is closed');
      assert.deepEqual(byName('val'), [
        [7, 1.5],
        [8, 'nan'],
        [9, 2.5],
      ]);
      assert.equal(end.lastSeq, points.length);

      assert.equal(end.outcome, 'finished');
      assert.equal(end.exitCode, 0);
      assert.equal(end.signal, null);
      assert.equal(end.reason, 'exit code 0');
      assert.match(end.tail, /hello from the run\n/);
      assert.match(end.tail, /a warning on stderr\n/);
      assert.match(end.tail, /^args \["--layers=3","--lr=0.1","--name=adam"\]$/m);
      // The params file holds the same text as ${args_json}: Python's json.dumps.
      assert.match(end.tail, /^params \{"layers": 3, "lr": 0.1, "name": "adam"\}$/m);
      assert.ok(end.tail.includes(`ids ${h.sweepId} ${job.runId} none`), end.tail);

      const text = echoed.join('');
      assert.match(text, /^\[run 1\] hello from the run$/m);
      assert.match(text, /^\[run 1\] a warning on stderr$/m);
    } finally {
      await h.close();
    }
  });

  void test('exit codes decide the outcome; a command that cannot start fails with a reason', async () => {
    const h = await AgentHarness.create();
    const dir = await mkdtemp(join(tmpdir(), 'harrow-agent-test-'));
    try {
      const notExecutable = join(dir, 'train.sh');
      await writeFile(notExecutable, '#!/bin/sh\necho hi\n');
      await chmod(notExecutable, 0o644);
      const cases: Array<{ command: string[]; program?: string; check: (end: EndReport) => void }> = [
        {
          command: nodeCommand('process.exit(0)'),
          check: (e) => assert.deepEqual([e.outcome, e.exitCode, e.reason], ['finished', 0, 'exit code 0']),
        },
        {
          command: nodeCommand("console.error('boom'); process.exit(3)"),
          check: (e) => {
            assert.deepEqual([e.outcome, e.exitCode, e.signal, e.reason], ['failed', 3, null, 'exit code 3']);
            assert.match(e.tail, /boom/);
          },
        },
        {
          command: nodeCommand("process.kill(process.pid, 'SIGKILL')"),
          check: (e) => {
            assert.deepEqual([e.outcome, e.exitCode, e.signal], ['failed', null, 'SIGKILL']);
            assert.match(e.reason, /^killed by SIGKILL \(not sent by Harrow/);
          },
        },
        {
          command: ['harrow-no-such-command-4f2a', '--x'],
          check: (e) => {
            assert.equal(e.outcome, 'failed');
            assert.equal(e.exitCode, null);
            assert.match(e.reason, /^command not found: harrow-no-such-command-4f2a/);
          },
        },
        {
          command: [notExecutable],
          check: (e) => {
            assert.equal(e.outcome, 'failed');
            assert.match(e.reason, /^permission denied: .*train\.sh is not executable; chmod \+x it/);
          },
        },
      ];
      const jobs = [];
      for (const c of cases) jobs.push(await h.enqueue(c.command, c.program ? { program: c.program } : {}));
      const agent = await h.startAgent({ concurrency: 3, count: cases.length });
      for (const [i, c] of cases.entries()) c.check(await h.end(jobs[i]!.runId));
      assert.deepEqual(await agent.closed, { reason: 'count-reached', runs: cases.length });
      // Every job completed in BullMQ: a failed run is the controller's business, not a BullMQ retry.
      const counts = await h.queue.getJobCounts('completed', 'failed', 'waiting', 'active');
      assert.deepEqual(counts, { completed: cases.length, failed: 0, waiting: 0, active: 0 });
    } finally {
      await rm(dir, { recursive: true, force: true });
      await h.close();
    }
  });

  void test('a sweep without program (for function agents): the job is given back unclaimed and the agent leaves, saying why', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(['${env}', '${interpreter}', '${program}', '${args}']);
      const lines: string[] = [];
      const agent = await h.startAgent({ logger: captureLogger(lines) });
      assert.deepEqual(await agent.closed, { reason: 'function-agent-only', runs: 0 });
      assert.deepEqual(await h.reportsOf(job.runId), [], 'no claim was sent');
      assert.deepEqual(await h.queue.getJobCounts('waiting', 'active', 'completed', 'failed'), { waiting: 1, active: 0, completed: 0, failed: 0 });
      assert.ok(lines.some((l) => /has no program, so only a function agent can run it: in Python, harrow\.agent/.test(l)), lines.join('\n'));
    } finally {
      await h.close();
    }
  });

  void test('a real training run: examples/train.py logs per-epoch losses through harrow.log and learns', async () => {
    const h = await AgentHarness.create();
    try {
      const job = await h.enqueue(['python3', '${program}', '${args}'], {
        program: 'examples/train.py',
        params: { lr: 0.05, hidden: 8, batch_size: 32, optimizer: 'adam', weight_decay: 0.0001, activation: 'tanh', epochs: 4 },
      });
      const agent = await h.startAgent({ cwd: REPO_ROOT, count: 1 });
      const end = await h.end(job.runId);
      await agent.closed;
      assert.equal(end.outcome, 'finished', end.tail);
      const points = (await h.reportsOf(job.runId)).flatMap((r) => (r.type === 'metrics' ? r.points.map((p) => MetricPointSchema.parse(p)) : []));
      for (const name of ['train_loss', 'val_loss', 'val_acc']) {
        assert.deepEqual(
          points.filter((p) => p.name === name).map((p) => p.step),
          [0, 1, 2, 3],
          name,
        );
      }
      const val = points.filter((p) => p.name === 'val_loss').map((p) => p.value as number);
      assert.ok(val[3]! < val[0]!, `validation loss went down: ${val.join(', ')}`);
      const acc = points.filter((p) => p.name === 'val_acc').map((p) => p.value as number);
      assert.ok(acc[3]! > 0.75, `accuracy above chance: ${acc.join(', ')}`);
      assert.match(end.tail, /training a 8-unit tanh MLP with adam/);
    } finally {
      await h.close();
    }
  });
});
