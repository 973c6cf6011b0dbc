/**
 * A Redis failover in the middle of a sweep (issue 16, point 4): a private master, a replica and
 * three Sentinels; the controller and three agents are given only the Sentinels
 * (`REDIS_URL=redis+sentinel://…/harrow-test`). While runs are running: two `SENTINEL FAILOVER`s
 * (there and back), then the master is SIGKILLed and the Sentinels promote the replica. The sweep must complete: every run ends, run_cap exactly, and every metric
 * point of every finished run stored once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { api, freePort, startHarrow, stopAll, waitFor, waitForHttp, withOutput, type Proc } from '../helpers/processes.js';
import { privateServicesProblem, startPrivateServices } from '../helpers/private-services.js';
import { E2E_TIMINGS } from '../helpers/harness.js';
import { pointsPerRun, trainerSweep } from '../helpers/trainer-sweep.js';
import { SentinelRedis, sentinelProblem } from '../helpers/redis-sentinel.js';
import type { SweepDetail } from '../../protocol/api.js';

const problem = privateServicesProblem() ?? sentinelProblem();
if (problem && process.env.CI) throw new Error(`the Redis failover test needs Postgres binaries, redis-server and redis-sentinel in CI: ${problem}`);
if (problem) console.error(`\n*** SKIPPED Redis failover test: ${problem}\n`);

const RUN_CAP = 30;
const STEPS = 6;
const POINTS_PER_RUN = pointsPerRun(STEPS);
const PREFIX = 'harrow-failover';

const YAML = trainerSweep({ name: 'failover', runCap: RUN_CAP, steps: STEPS, sleep: 0.15, extra: 'harrow:\n  retry: {max_attempts: 10, on: [crashed]}\n' });

void test('a Sentinel failover in the middle of a sweep loses no run and no point', { skip: problem ?? false, timeout: 240_000 }, async () => {
  const services = await startPrivateServices({ redis: false });
  const { pg, db } = services;
  let redis: SentinelRedis | undefined;
  const procs: Proc[] = [];
  try {
    redis = await SentinelRedis.start();
    const port = await freePort();
    const url = `http://127.0.0.1:${port}`;
    procs.push(
      startHarrow(['server'], {
        DATABASE_URL: pg.url,
        REDIS_URL: redis.url,
        HARROW_PREFIX: PREFIX,
        HARROW_PORT: String(port),
        ...E2E_TIMINGS,
        HARROW_CRASH_TIMEOUT_MS: '5000',
      }),
    );
    await waitForHttp(url, 60_000);
    const sweep = await api<SweepDetail>(url, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: YAML }) });
    const agentEnv = { REDIS_URL: redis.url, HARROW_PREFIX: PREFIX, HARROW_HEARTBEAT_MS: '500', HARROW_CONTROL_POLL_MS: '250' };
    for (let i = 0; i < 3; i++) procs.push(startHarrow(['agent', sweep.id, '--quiet', '--concurrency', '2'], agentEnv));

    const count = async (where: string): Promise<number> => {
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND ${where}`, [sweep.id]);
      return rows[0]!.n;
    };
    const switches: string[] = [];
    const faults = [
      { after: 6, how: 'SENTINEL FAILOVER', run: () => redis!.failover() },
      { after: 12, how: 'SENTINEL FAILOVER back', run: () => redis!.failover() },
      { after: 18, how: 'master SIGKILLed', run: () => redis!.killMaster() },
    ];
    for (const f of faults) {
      await waitFor(`${f.after} runs finished and runs running`, async () => (await count(`state = 'finished'`)) >= f.after && (await count(`state = 'running'`)) > 0, 90_000, 200);
      const running = await count(`state = 'running'`);
      const t = Date.now();
      const { from, to } = await f.run();
      switches.push(`${f.how} ${from} -> ${to} in ${Date.now() - t} ms with ${running} runs running`);
    }

    const detail = await waitFor(
      'the sweep to finish',
      async () => {
        const d = await api<SweepDetail>(url, `/api/sweeps/${sweep.id}`);
        return d.state === 'finished' ? d : false;
      },
      120_000,
      300,
    );

    const { rows: runs } = await db.query<{ id: string; state: string; attempt: number; stored: number; dup: number }>(
      `SELECT r.id, r.state, r.attempt,
              (SELECT count(*)::int FROM metrics m WHERE m.run_id = r.id AND m.attempt = r.attempt) AS stored,
              (SELECT (count(*) - count(DISTINCT (m.attempt, m.name, m.step)))::int FROM metrics m WHERE m.run_id = r.id) AS dup
       FROM runs r WHERE r.sweep_id = $1`,
      [sweep.id],
    );
    const finished = runs.filter((r) => r.state === 'finished');
    const stored = finished.reduce((s, r) => s + r.stored, 0);
    const dups = runs.reduce((s, r) => s + r.dup, 0);
    const retried = runs.filter((r) => r.attempt > 1).length;
    console.log(
      `Redis failover: ${switches.join('; ')}; runs ${runs.length} (finished ${finished.length}, retried ${retried}), points stored ${stored} of ${finished.length * POINTS_PER_RUN}, stored twice ${dups}`,
    );
    assert.equal(detail.state, 'finished');
    assert.equal(runs.length, RUN_CAP, 'run_cap exactly');
    assert.equal(finished.length, RUN_CAP, 'every run finished');
    assert.equal(dups, 0, 'no point stored twice');
    for (const r of finished) assert.equal(r.stored, POINTS_PER_RUN, `run ${r.id}: every point of its last attempt stored`);
  } catch (err) {
    throw withOutput(err, procs);
  } finally {
    await stopAll(procs);
    redis?.destroy();
    await services.close();
  }
});
