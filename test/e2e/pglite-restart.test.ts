/**
 * `harrow server` on the embedded database (PGlite: one connection), restarted while reports wait
 * in the stream. The ingestor applies a batch in a transaction that holds that one connection; any
 * query made on the shared handle from inside it (the sweep spec cache missing after a restart, say)
 * waits for the transaction that waits for it, and the whole server hangs, /healthz included.
 * After the restart /healthz must answer within 5 s and every pending report must be ingested.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { needRedis, REDIS_URL, uniqueName } from '../helpers/services.js';
import { api, freePort, startHarrow, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { FakeAgent, deletePrefix, newToken } from '../integration/controller/controller-harness.js';
import { redisKeys } from '../../protocol/wire.js';
import type { ListRunsResponse, SweepDetail } from '../../protocol/api.js';

const opts = await needRedis('the PGlite restart test');

const RUNS = 3;
const SWEEP = `
name: pglite-restart
method: random
metric: {name: loss, goal: minimize}
run_cap: ${RUNS}
program: train.py
parameters:
  x: {min: 0.0, max: 1.0}
`;

/** Stops the server with SIGTERM (a clean PGlite shutdown), failing the test if it does not exit. */
async function stop(p: Proc): Promise<void> {
  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
  if (code === 'hung') {
    p.child.kill('SIGKILL');
    await p.exited;
    assert.fail(`harrow server did not exit on SIGTERM\n${p.output().slice(-3000)}`);
  }
}

/**
 * Opening the embedded database (WebAssembly Postgres) takes seconds, and well over 30 s on a
 * loaded two-core CI box; the 5 s limit counts from the moment the server listens.
 */
const STARTUP_MS = 120_000;

describe('harrow server on PGlite, restarted with reports pending', { ...opts, timeout: 4 * STARTUP_MS }, () => {
  test('/healthz answers within 5 s and every pending report is ingested', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'harrow-pglite-restart-'));
    const prefix = uniqueName('pgr');
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    const env = {
      HARROW_DATA_DIR: dir,
      REDIS_URL,
      HARROW_PREFIX: prefix,
      HARROW_PORT: String(port),
      HARROW_TICK_MS: '200',
      // The fake agent sends no heartbeats: its runs must not be reaped while the test runs.
      HARROW_CRASH_TIMEOUT_MS: '600000',
      HARROW_AGENT_STALE_MS: '600000',
    };
    const redis = new Redis(REDIS_URL);
    const procs: Proc[] = [];
    try {
      procs.push(startHarrow(['server'], env));
      await waitForHttp(url, STARTUP_MS);
      const sweep = await api<SweepDetail>(url, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: SWEEP }) });
      const agent = new FakeAgent(redis, redisKeys(prefix), sweep.id);
      await agent.advertise(RUNS);
      const runs = await waitFor('the runs to be queued', async () => {
        const r = await api<ListRunsResponse>(url, `/api/sweeps/${sweep.id}/runs`);
        return r.runs.length === RUNS ? r.runs : undefined;
      });
      await stop(procs[0]!);

      // While the server is down, an agent claims, reports and ends every run.
      for (const [i, run] of runs.entries()) {
        const token = newToken();
        await agent.claim(run.id, token);
        await agent.metrics(run.id, token, [
          [0, 'loss', 1 + i],
          [1, 'loss', 0.5 + i],
        ]);
        await agent.end(run.id, token, 'finished');
      }

      const restarted = startHarrow(['server'], env);
      procs.push(restarted);
      await waitFor('the server to listen again', () => Promise.resolve(restarted.output().includes('listening on')), STARTUP_MS, 50);
      const asked = Date.now();
      const health = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).catch((err: Error) => {
        assert.fail(`/healthz did not answer within 5 s of the restart (${err.message})\n${restarted.output().slice(-3000)}`);
      });
      assert.equal(health.status, 200, `/healthz after ${Date.now() - asked} ms`);

      const ended = await waitFor(
        'every pending report to be ingested',
        async () => {
          const r = await api<ListRunsResponse>(url, `/api/sweeps/${sweep.id}/runs`);
          return r.runs.every((x) => x.state === 'finished') ? r.runs : undefined;
        },
        30_000,
      ).catch((err: Error) => assert.fail(`${err.message}\n${restarted.output().slice(-3000)}`));
      for (const run of ended) {
        const i = runs.findIndex((r) => r.id === run.id);
        assert.equal(run.value, 0.5 + i, `run ${run.id}: its best loss`);
      }
      await stop(restarted);
    } finally {
      for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
      await Promise.all(procs.map((p) => p.exited));
      await deletePrefix(redis, prefix);
      await redis.quit();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
