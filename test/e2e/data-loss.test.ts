/**
 * A Redis that loses part of the report stream between a run's metrics and its end. Real
 * processes (`harrow server`, `harrow agent`, a Python script) and a private redis-server that the
 * test flushes while the second half of the run's points sit unread in the stream:
 *
 * - the agent still runs: the controller asks it for the missing points at the end of the run, it
 *   sends them again, and the run ends with every point stored once and no warning (Redis agent,
 *   and HTTP agent, whose points sit unread while the private Postgres is stopped);
 * - the agent is gone (SIGKILLed right after its end report): the run ends `finished` with a
 *   `data_loss` warning counting the points the agent sent and the controller never got.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { needServices } from '../helpers/services.js';
import { api, freePort, ROOT, startHarrow, stopAll, waitFor, waitForHttp, withOutput, type Proc } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, type Env } from '../helpers/harness.js';
import { PrivateRedis, privateServicesProblem, startPrivateServices } from '../helpers/private-services.js';
import type { RunDetail } from '../../protocol/api.js';

const opts = await needServices();
const problem = privateServicesProblem();
if (problem && process.env.CI) throw new Error(`the data-loss tests need Postgres binaries and redis-server in CI: ${problem}`);

const sweepYaml = (dir: string): string => `
method: grid
metric: {name: loss, goal: minimize}
program: ${join(ROOT, 'test/fixtures/scripts/two-phase.py')}
command: [python3, "\${program}", "\${args}"]
parameters:
  gate1: {value: ${join(dir, 'gate1')}}
  gate2: {value: ${join(dir, 'gate2')}}
`;

/** The points of metrics reports in the stream (unread ones: the ingestor deletes what it committed). */
async function pointsInStream(admin: Redis, stream: string): Promise<number> {
  const entries = await admin.xrange(stream, '-', '+');
  return entries
    .map(([, fields]) => JSON.parse(fields[1]!) as { type: string; points?: unknown[] })
    .reduce((n, r) => n + (r.type === 'metrics' ? (r.points?.length ?? 0) : 0), 0);
}

async function runEnded(url: string, runId: string): Promise<RunDetail> {
  return waitFor('the run to end', async () => {
    const r = await api<RunDetail>(url, `/api/runs/${runId}`);
    return r.state !== 'running' ? r : undefined;
  }, 60_000, 200);
}

/** Closes every connection waiting in XREADGROUP (the stopped controller's ingestor); its client reconnects when it runs again. */
async function closeBlockedReads(admin: Redis): Promise<void> {
  const clients = String(await admin.call('CLIENT', 'LIST')).split('\n');
  for (const line of clients) {
    const id = / cmd=xreadgroup\b/.test(line) ? /\bid=(\d+)/.exec(line)?.[1] : undefined;
    if (id) await admin.call('CLIENT', 'KILL', 'ID', id);
  }
}

/** The run ended with all 10 points stored once and no warning, after its agent sent lost ones again. */
function assertRecovered(run: RunDetail, agentProc: Proc): void {
  assert.equal(run.state, 'finished');
  assert.deepEqual(run.warnings, [], 'no data loss: the agent sent the lost points again');
  assert.deepEqual(
    run.metrics.loss?.map((p) => p.step),
    [0, 1, 2, 3, 4, 5, 6, 7, 8, 9],
    'every point stored, once',
  );
  assert.match(agentProc.output(), /sending them again/, 'the points were lost and asked for (not simply read)');
}

/**
 * Runs the two-phase script with a Redis agent: its first 5 points stored, the controller
 * SIGSTOPped, the next 5 sent into the stream, Redis flushed, the controller SIGCONTed by `afterFlush`,
 * which also lets the script go to its end (`release`).
 */
async function flushedRun(tag: string, afterFlush: (ctx: { env: Env; agent: Proc; ctl: Proc; admin: Redis; release: () => Promise<void> }) => Promise<void>): Promise<{ run: RunDetail; agent: Proc }> {
  const redis = await PrivateRedis.start();
  const env = await setUp(tag);
  env.controllerEnv.REDIS_URL = redis.url;
  env.agentEnv.REDIS_URL = redis.url;
  // The controller waits for missing points at most a quarter of the crash timeout (5 s at most):
  // long enough here, whatever the machine's load.
  env.controllerEnv.HARROW_CRASH_TIMEOUT_MS = '20000';
  const dir = await mkdtemp(join(tmpdir(), 'harrow-loss-'));
  const admin = new Redis(redis.url);
  try {
    const ctl = controller(env);
    await waitForHttp(env.url);
    const sweep = await createSweep(env, sweepYaml(dir));
    const a = agent(env, sweep.id);
    const runId = `${sweep.id}-1`;
    await waitFor('the first 5 points stored', async () => {
      const r = await api<RunDetail>(env.url, `/api/runs/${runId}`);
      return r.state === 'running' && (r.metrics.loss?.length ?? 0) === 5;
    }, 60_000, 100);

    // The controller stops reading; the second half of the points reach the stream, unread.
    ctl.child.kill('SIGSTOP');
    // A read it left blocked in Redis (XREADGROUP … BLOCK) would still be served, into the stopped
    // process's socket, and the points would be read, not lost: close that connection first.
    await closeBlockedReads(admin);
    await writeFile(join(dir, 'gate1'), '');
    await waitFor('the second half in the stream', async () => (await pointsInStream(admin, `${env.prefix}:reports`)) >= 5, 20_000, 50);
    // Redis loses everything it held (a flush, or a restart without persistence).
    await admin.flushall();
    await afterFlush({ env, agent: a, ctl, admin, release: () => writeFile(join(dir, 'gate2'), '') });
    return { run: await runEnded(env.url, runId), agent: a };
  } catch (err) {
    throw withOutput(err, env.procs);
  } finally {
    for (const p of env.procs) if (p.child.signalCode === 'SIGSTOP') p.child.kill('SIGCONT');
    admin.disconnect();
    await tearDown(env);
    await redis.kill();
    await rm(dir, { recursive: true, force: true });
  }
}

describe('points lost between agent and controller', { ...opts, timeout: 180_000 }, () => {
  test('FLUSHALL while half of a run\'s points wait unread: the agent sends them again, every point is stored once', async () => {
    const { run, agent: a } = await flushedRun('e2e_recover', async ({ ctl, release }) => {
      ctl.child.kill('SIGCONT');
      await release();
    });
    assertRecovered(run, a);
  });

  test('the agent is gone after its end report: the gap is recorded as data loss', async () => {
    const { run } = await flushedRun('e2e_loss', async ({ env, agent: a, ctl, admin, release }) => {
      // Its end report reaches the stream while the controller is still stopped; then the agent dies.
      await release();
      await waitFor('the end report in the stream', async () => {
        const entries = await admin.xrange(`${env.prefix}:reports`, '-', '+');
        return entries.some(([, fields]) => (JSON.parse(fields[1]!) as { type: string }).type === 'end');
      }, 20_000, 50);
      a.child.kill('SIGKILL');
      await a.exited;
      ctl.child.kill('SIGCONT');
    });
    assert.equal(run.state, 'finished');
    assert.equal(run.metrics.loss?.length, 5, 'only the first half was stored');
    const loss = run.warnings.find((w) => w.kind === 'data_loss');
    assert.ok(loss, `a data-loss warning on the run: ${JSON.stringify(run.warnings)}`);
    assert.equal(loss.count, 5);
    assert.equal(loss.lastSeq, 10);
    assert.equal(loss.stored, 5);
  });

  test('HTTP agent: points unread while Postgres is down are lost to a FLUSHALL; the agent sends them again', { skip: problem ?? false }, async () => {
    const services = await startPrivateServices();
    const { pg } = services;
    const redis = services.redis!;
    const dir = await mkdtemp(join(tmpdir(), 'harrow-loss-'));
    const admin = new Redis(redis.url);
    const procs: Proc[] = [];
    try {
      const port = await freePort();
      const url = `http://127.0.0.1:${port}`;
      const prefix = 'harrow-loss-http';
      const ctl = startHarrow(['server'], {
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        HARROW_PREFIX: prefix,
        HARROW_PORT: String(port),
        HARROW_CRASH_TIMEOUT_MS: '20000',
        HARROW_TICK_MS: '250',
      });
      procs.push(ctl);
      await waitForHttp(url, 60_000);
      const sweep = await api<{ id: string }>(url, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: sweepYaml(dir) }) });
      const a = startHarrow(['agent', sweep.id, '--quiet', '--server', url], { REDIS_URL: 'redis://127.0.0.1:1', HARROW_HEARTBEAT_MS: '300', HARROW_CONTROL_POLL_MS: '200' });
      procs.push(a);
      const runId = `${sweep.id}-1`;
      await waitFor('the first 5 points stored', async () => {
        const r = await api<RunDetail>(url, `/api/runs/${runId}`);
        return r.state === 'running' && (r.metrics.loss?.length ?? 0) === 5;
      }, 60_000, 100);

      // Postgres goes away: the ingestor holds its batch and reads nothing more, while the HTTP
      // routes still write the agent's reports into the stream.
      pg.stop();
      await waitFor('the ingestor to hold its reports', () => Promise.resolve(/database unreachable; holding reports/.test(ctl.output())), 30_000, 50);
      await writeFile(join(dir, 'gate1'), '');
      await waitFor('the second half in the stream', async () => (await pointsInStream(admin, `${prefix}:reports`)) >= 5, 20_000, 50);
      await admin.flushall();
      await pg.resume();
      await writeFile(join(dir, 'gate2'), '');

      assertRecovered(await runEnded(url, runId), a);
    } catch (err) {
      throw withOutput(err, procs);
    } finally {
      await stopAll(procs);
      admin.disconnect();
      await services.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
