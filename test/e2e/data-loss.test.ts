/**
 * A Redis that loses part of the report stream between a run's metrics and its end: the run must
 * say so. Real processes (`harrow server`, `harrow agent`, a Python script) and a private
 * redis-server that the test flushes while the controller is SIGSTOPped (so the second half of
 * the run's points sit unread in the stream when they are lost). The run then ends `finished`
 * with a `data_loss` warning counting the points the agent sent and the controller never got.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { needServices } from '../helpers/services.js';
import { api, freePort, ROOT, waitFor, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown } from '../helpers/harness.js';
import type { RunDetail } from '../../protocol/api.js';

const opts = await needServices();

async function privateRedis(): Promise<{ url: string; child: ChildProcess; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const exited = new Promise((r) => child.once('exit', r));
  const url = `redis://127.0.0.1:${port}`;
  const probe = new Redis(url, { lazyConnect: true, maxRetriesPerRequest: 1 });
  probe.on('error', () => undefined);
  await waitFor('private redis-server', async () => (await probe.ping().catch(() => null)) === 'PONG', 10_000, 50);
  probe.disconnect();
  return {
    url,
    child,
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}

describe('data loss between agent and controller is recorded on the run', { ...opts, timeout: 120_000 }, () => {
  test('FLUSHALL while half of a run\'s points wait unread: the run shows data loss with the counts', async (t) => {
    const redis = await privateRedis();
    const env = await setUp('e2e_loss');
    env.controllerEnv.REDIS_URL = redis.url;
    env.agentEnv.REDIS_URL = redis.url;
    const dir = await mkdtemp(join(tmpdir(), 'harrow-loss-'));
    const admin = new Redis(redis.url);
    try {
      const ctl = controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(
        env,
        `
method: grid
metric: {name: loss, goal: minimize}
program: ${join(ROOT, 'test/fixtures/scripts/two-phase.py')}
command: [python3, "\${program}", "\${args}"]
parameters:
  gate1: {value: ${join(dir, 'gate1')}}
  gate2: {value: ${join(dir, 'gate2')}}
`,
      );
      agent(env, sweep.id);
      const runId = `${sweep.id}-1`;
      await waitFor('the first 5 points stored', async () => {
        const r = await api<RunDetail>(env.url, `/api/runs/${runId}`);
        return r.state === 'running' && (r.metrics.loss?.length ?? 0) === 5;
      }, 60_000, 100);

      // The controller stops reading; the second half of the points reach the stream, unread.
      ctl.child.kill('SIGSTOP');
      await writeFile(join(dir, 'gate1'), '');
      const stream = `${env.prefix}:reports`;
      await waitFor('the second half in the stream', async () => {
        const entries = await admin.xrange(stream, '-', '+');
        const points = entries.flatMap(([, fields]) => {
          const r = JSON.parse(fields[1]!) as { type: string; points?: unknown[] };
          return r.type === 'metrics' ? (r.points ?? []) : [];
        });
        return points.length >= 5;
      }, 20_000, 50);
      // Redis loses everything it held (a flush, or a restart without persistence).
      await admin.flushall();
      ctl.child.kill('SIGCONT');
      await writeFile(join(dir, 'gate2'), '');

      const run = await waitFor('the run to end', async () => {
        const r = await api<RunDetail>(env.url, `/api/runs/${runId}`);
        return r.state !== 'running' ? r : undefined;
      }, 60_000, 200);
      t.diagnostic(JSON.stringify(run.warnings));
      assert.equal(run.state, 'finished');
      assert.equal(run.metrics.loss?.length, 5, 'only the first half was stored');
      const loss = run.warnings.find((w) => w.kind === 'data_loss');
      assert.ok(loss, `a data-loss warning on the run: ${JSON.stringify(run.warnings)}`);
      assert.equal(loss.count, 5);
      assert.equal(loss.lastSeq, 10);
      assert.equal(loss.stored, 5);
    } catch (err) {
      const logs = env.procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`).join('\n');
      throw new Error(`${(err as Error).message}\n${logs}`);
    } finally {
      for (const p of env.procs) if (p.child.signalCode === 'SIGSTOP') p.child.kill('SIGCONT');
      admin.disconnect();
      await tearDown(env);
      await redis.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
