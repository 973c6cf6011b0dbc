/**
 * A Redis failover in the middle of a sweep (issue 16, point 4): a private master, a replica and
 * three Sentinels; the controller and three agents are given only the Sentinels
 * (`REDIS_URL=redis+sentinel://…/harrow-test`). While runs are running: two `SENTINEL FAILOVER`s
 * (there and back), then the master is SIGKILLed and the Sentinels promote the replica. The sweep must complete: every run ends, run_cap exactly, and every metric
 * point of every finished run stored once.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../../db/database.js';
import { api, freePort, startHarrow, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { PrivatePostgres, privateServicesProblem } from '../helpers/private-services.js';
import { SentinelRedis, sentinelProblem } from '../helpers/redis-sentinel.js';
import type { SweepDetail } from '../../protocol/api.js';

const problem = privateServicesProblem() ?? sentinelProblem();
if (problem && process.env.CI) throw new Error(`the Redis failover test needs Postgres binaries, redis-server and redis-sentinel in CI: ${problem}`);
if (problem) console.error(`\n*** SKIPPED Redis failover test: ${problem}\n`);

const RUN_CAP = 30;
const STEPS = 6;
/** Points one complete execution prints: `loss` every step, `acc` every other step. */
const POINTS_PER_RUN = STEPS + Math.ceil(STEPS / 2);
const PREFIX = 'harrow-failover';

const YAML = `
name: failover
method: random
metric: {name: loss, goal: minimize}
run_cap: ${RUN_CAP}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: ${STEPS}}
  sleep: {value: 0.15}
harrow:
  retry: {max_attempts: 10, on: [crashed]}
`;

void test('a Sentinel failover in the middle of a sweep loses no run and no point', { skip: problem ?? false, timeout: 240_000 }, async () => {
  const pg = await PrivatePostgres.start();
  let redis: SentinelRedis | undefined;
  const procs: Proc[] = [];
  const db = await openPostgres({ connectionString: pg.url, max: 2, onError: () => undefined });
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
        HARROW_CRASH_TIMEOUT_MS: '5000',
        HARROW_TICK_MS: '250',
        HARROW_KILL_GRACE_MS: '1000',
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
    const logs = procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  } finally {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    await Promise.all(procs.map((p) => p.exited));
    await db.close();
    redis?.destroy();
    pg.destroy();
  }
});
