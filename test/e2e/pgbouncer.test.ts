/**
 * Postgres behind PgBouncer (issue 16, point 5). Harrow keeps no state in a database session: its
 * advisory locks are transaction-scoped (`pg_advisory_xact_lock`), it sets nothing per session,
 * and `pg` sends unnamed statements only. So transaction pooling works: two controller replicas
 * and two agents share THREE server connections, so that consecutive transactions of one client
 * land on different server sessions, and a sweep completes with run_cap exact and every point
 * stored once. Session mode works too. Statement mode cannot run transactions at all: the
 * controller refuses at start and names the pool modes to use.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openPostgres } from '../../db/database.js';
import { api, freePort, startHarrow, stopAll, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { pointsPerRun, trainerSweep } from '../helpers/trainer-sweep.js';
import { PrivatePostgres, privateServicesProblem } from '../helpers/private-services.js';
import { PrivatePgBouncer, pgbouncerProblem, type PoolMode } from '../helpers/private-pgbouncer.js';
import { REDIS_URL } from '../helpers/services.js';
import type { SweepDetail } from '../../protocol/api.js';

const problem = privateServicesProblem() ?? pgbouncerProblem();
if (problem && process.env.CI) throw new Error(`the PgBouncer test needs Postgres binaries and pgbouncer in CI: ${problem}`);
if (problem) console.error(`\n*** SKIPPED PgBouncer test: ${problem}\n`);

const RUN_CAP = 16;
const STEPS = 4;
const POINTS_PER_RUN = pointsPerRun(STEPS);

const yaml = (name: string) => trainerSweep({ name, runCap: RUN_CAP, steps: STEPS, sleep: 0.05 });

async function sweepThrough(mode: PoolMode, poolSize: number): Promise<void> {
  const pg = await PrivatePostgres.start();
  let bouncer: PrivatePgBouncer | undefined;
  const procs: Proc[] = [];
  const prefix = `harrow-pgb-${mode}-${process.pid}`;
  try {
    bouncer = await PrivatePgBouncer.start(pg.port, mode, poolSize);
    const urls: string[] = [];
    for (let i = 0; i < 2; i++) {
      const port = await freePort();
      urls.push(`http://127.0.0.1:${port}`);
      procs.push(
        startHarrow(['server'], { DATABASE_URL: bouncer.url, REDIS_URL, HARROW_PREFIX: prefix, HARROW_PORT: String(port), HARROW_TICK_MS: '200' }),
      );
    }
    for (const url of urls) await waitForHttp(url, 60_000);
    const sweep = await api<SweepDetail>(urls[0]!, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: yaml(mode) }) });
    for (let i = 0; i < 2; i++) {
      procs.push(startHarrow(['agent', sweep.id, '--quiet', '--concurrency', '3'], { REDIS_URL, HARROW_PREFIX: prefix, HARROW_HEARTBEAT_MS: '300' }));
    }
    await waitFor(
      'the sweep to finish',
      async () => (await api<SweepDetail>(urls[1]!, `/api/sweeps/${sweep.id}`)).state === 'finished',
      90_000,
      300,
    );
    // Read behind PgBouncer's back, straight from Postgres.
    const db = await openPostgres({ connectionString: pg.url, max: 1, onError: () => undefined });
    try {
      const { rows } = await db.query<{ state: string; attempt: number; stored: number; distinct_points: number; warnings: unknown[] }>(
        `SELECT r.state, r.attempt, r.warnings,
                (SELECT count(*)::int FROM metrics m WHERE m.run_id = r.id) AS stored,
                (SELECT count(DISTINCT (m.name, m.step))::int FROM metrics m WHERE m.run_id = r.id) AS distinct_points
         FROM runs r WHERE r.sweep_id = $1`,
        [sweep.id],
      );
      assert.equal(rows.length, RUN_CAP, 'run_cap exactly');
      // Before the ingestor let an end report wait for its points, about one run in 16 here had its
      // points refused because the other replica committed its end report first.
      for (const r of rows) {
        assert.deepEqual(r, { state: 'finished', attempt: 1, warnings: [], stored: POINTS_PER_RUN, distinct_points: POINTS_PER_RUN });
      }
    } finally {
      await db.close();
    }
  } catch (err) {
    const logs = procs.map((p, i) => `--- process ${i} ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}\n--- pgbouncer ---\n${bouncer?.log().slice(-3000) ?? ''}`, { cause: err });
  } finally {
    await stopAll(procs);
    bouncer?.destroy();
    pg.destroy();
  }
}

void describe('Postgres behind PgBouncer', { skip: problem ?? false, timeout: 180_000 }, () => {
  void test('transaction pooling: two replicas on three server connections complete a sweep exactly', () => sweepThrough('transaction', 3));

  void test('session pooling: the same sweep completes', () => sweepThrough('session', 40));

  void test('statement pooling: the controller refuses at start and names the pool mode to use', async () => {
    const pg = await PrivatePostgres.start();
    const bouncer = await PrivatePgBouncer.start(pg.port, 'statement', 3);
    try {
      const port = await freePort();
      const ctl = startHarrow(['server'], { DATABASE_URL: bouncer.url, REDIS_URL, HARROW_PREFIX: `harrow-pgb-statement-${process.pid}`, HARROW_PORT: String(port) });
      const timer = setTimeout(() => ctl.child.kill('SIGKILL'), 20_000);
      const code = await ctl.exited;
      clearTimeout(timer);
      assert.notEqual(code, 0, 'the controller must not start');
      assert.equal(ctl.child.signalCode, null, `it exits by itself, at once, instead of retrying:\n${ctl.output()}`);
      assert.match(ctl.output(), /statement pooling.*pool_mode = transaction or pool_mode = session/s);
    } finally {
      bouncer.destroy();
      pg.destroy();
    }
  });
});
