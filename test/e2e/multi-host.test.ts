/**
 * Harrow across real network boundaries (issue 16, point 1). Hosts are network namespaces joined
 * by veth pairs to a bridge (test/helpers/netns.ts), addresses 10.250.0.0/24:
 *
 *   db  10.250.0.2   a private Postgres (initdb in a temp dir) and a private Redis
 *   c1  10.250.0.11  controller replica (`harrow server`)
 *   c2  10.250.0.12  controller replica
 *   a1  10.250.0.21  agent over Redis
 *   a2  10.250.0.22  agent over Redis            ← cut off the network, then reconnected
 *   a3  10.250.0.23  agent over HTTP (--server http://10.250.0.11:8080,http://10.250.0.12:8080)
 *
 * During one sweep: replica c1 is SIGKILLed (c2 carries on alone); a2's cable is pulled for
 * longer than the crash timeout, then plugged back (its runs are declared crashed and retried
 * elsewhere; the reports it sends once back are refused); Redis is killed and restarted empty.
 * Then it counts: every run executed once per attempt Postgres accepted, at most; every point
 * the finished runs printed stored exactly once; run_cap exact.
 *
 * The HTTP agent is given both replicas and talks to c1 until c1 dies, then to c2; the Redis-path
 * agents need no replica at all.
 *
 * The test process reaches Postgres through its Unix socket (a file: namespaces do not isolate
 * it) and the API through `ip netns exec`. Fixed ports are fine inside these private namespaces.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, mkdtempSync, readdirSync, readFileSync, rmSync, appendFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openPostgres, type Database } from '../../db/database.js';
import { BIN, ROOT, waitFor } from '../helpers/processes.js';
import { postgresBin, privateServicesProblem, redisServerBin } from '../helpers/private-services.js';
import { Network, netnsProblem, removeLeftovers, type Host } from '../helpers/netns.js';

const problem = privateServicesProblem() ?? (process.getuid?.() === 0 ? netnsProblem() : 'not running as root: ip netns needs root');
if (problem && process.env.CI) throw new Error(`the multi-host test needs ip netns (root), Postgres binaries and redis-server in CI: ${problem}`);
if (problem) console.error(`\n*** SKIPPED multi-host test: ${problem}\n`);

const RUN_CAP = 45;
const STEPS = 10;
/** Points one complete execution prints: `loss` every step, `acc` every other step. */
const POINTS_PER_RUN = STEPS + Math.ceil(STEPS / 2);
const CRASH_TIMEOUT_MS = 2500;
/** How long a2 stays cut off: past the crash timeout and past the end of the runs it holds. */
const CUT_MS = 7000;
const PREFIX = 'harrow-mh';
const PG_PORT = 5432;
const REDIS_PORT = 6379;
const API_PORT = 8080;
/** The replicas listen on a network address, so they need a token (a well-made installation does). */
const TOKEN = `mh-${process.pid}-secret-token`;

const YAML = `
name: multi-host
method: random
metric: {name: loss, goal: minimize}
run_cap: ${RUN_CAP}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: ${STEPS}}
  sleep: {value: 0.2}
harrow:
  retry: {max_attempts: 10, on: [crashed]}
`;

interface Proc {
  name: string;
  host: Host;
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

void test('multi-host: a replica killed, an agent host cut off past the crash timeout, Redis restarted; nothing lost, nothing twice', { skip: problem ?? false, timeout: 240_000 }, async () => {
  const t0 = Date.now();
  const leftovers = removeLeftovers();
  if (leftovers.length > 0) console.log(`removed namespaces left by a crashed run: ${leftovers.join(', ')}`);
  const dir = mkdtempSync(join(tmpdir(), 'harrow-mh-'));
  const execDir = join(dir, 'exec');
  const pgDir = join(dir, 'pg');
  const net = new Network();
  const procs: Proc[] = [];
  let db: Database | undefined;
  const start = (name: string, host: Host, command: string, args: string[], env: Record<string, string> = {}): Proc => {
    const child = net.spawn(host, command, args, { env: { ...process.env, HARROW_LOG_LEVEL: 'warn', ...env }, cwd: ROOT });
    let out = '';
    child.stdout!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
    child.stderr!.on('data', (d: Buffer) => (out = (out + d.toString()).slice(-200_000)));
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    const p = { name, host, child, output: () => out, exited };
    procs.push(p);
    return p;
  };
  const alive = (p: Proc): boolean => p.child.exitCode === null && p.child.signalCode === null;
  try {
    const hostDb = net.addHost('db', 2);
    const [c1, c2] = [net.addHost('c1', 11), net.addHost('c2', 12)];
    const [a1, a2, a3] = [net.addHost('a1', 21), net.addHost('a2', 22), net.addHost('a3', 23)];

    // Postgres on the db host: a fresh cluster, listening on its namespace's address (and its socket).
    spawnSync('mkdir', ['-p', pgDir, execDir]);
    chmodSync(dir, 0o755);
    chmodSync(execDir, 0o777);
    const pgUid = Number(spawnSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    const pgGid = Number(spawnSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).stdout.trim());
    chownSync(pgDir, pgUid, pgGid);
    const asPostgres = (tool: string, args: string[]): string[] => ['-u', 'postgres', '--', join(postgresBin()!, tool), ...args];
    const init = spawnSync('runuser', asPostgres('initdb', ['-D', join(pgDir, 'data'), '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']), { encoding: 'utf8' });
    if (init.status !== 0) throw new Error(`initdb failed: ${init.stderr}`);
    appendFileSync(join(pgDir, 'data', 'pg_hba.conf'), 'host all all 10.250.0.0/24 trust\n');
    start('postgres', hostDb, 'runuser', asPostgres('postgres', [
      '-D', join(pgDir, 'data'), '-p', String(PG_PORT), '-k', pgDir,
      '-c', `listen_addresses=${hostDb.addr}`, '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200',
    ]));
    db = await waitFor('Postgres on the db host', async () => {
      const d = await openPostgres({ connectionString: `postgres://postgres@/postgres?host=${pgDir}&port=${PG_PORT}`, max: 2, onError: () => undefined });
      try {
        await d.query('SELECT 1');
        return d;
      } catch (err) {
        await d.close();
        throw err;
      }
    }, 30_000, 200);
    // Redis as docker-compose.yml runs it: append-only persistence, so a restart keeps the queue and
    // the reports not yet ingested (the fault suite restarts one without persistence).
    const redisDir = join(dir, 'redis');
    spawnSync('mkdir', ['-p', redisDir]);
    const startRedis = (): Proc =>
      start('redis', hostDb, redisServerBin()!, [
        '--port', String(REDIS_PORT), '--bind', hostDb.addr, '--protected-mode', 'no', '--dir', redisDir,
        '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec', '--maxmemory-policy', 'noeviction',
      ]);
    let redis = startRedis();

    const dbUrl = `postgres://postgres@${hostDb.addr}:${PG_PORT}/postgres`;
    const redisUrl = `redis://${hostDb.addr}:${REDIS_PORT}`;
    const controllerEnv = (host: Host): Record<string, string> => ({
      DATABASE_URL: dbUrl,
      REDIS_URL: redisUrl,
      HARROW_PREFIX: PREFIX,
      HARROW_HOST: host.addr,
      HARROW_PORT: String(API_PORT),
      HARROW_CRASH_TIMEOUT_MS: String(CRASH_TIMEOUT_MS),
      HARROW_TICK_MS: '250',
      HARROW_KILL_GRACE_MS: '1000',
      HARROW_AGENT_STALE_MS: '3000',
      HARROW_TOKEN: TOKEN,
    });
    const ctl1 = start('controller c1', c1, process.execPath, [BIN, 'server'], controllerEnv(c1));
    const ctl2 = start('controller c2', c2, process.execPath, [BIN, 'server'], controllerEnv(c2));
    /** Calls the API of a replica from inside its own host's namespace. */
    const apiIn = (host: Host, path: string, body?: unknown): unknown => {
      const script = `const headers = { authorization: 'Bearer ' + process.env.HARROW_TOKEN, 'content-type': 'application/json' };
        fetch(process.argv[1], process.argv[2] ? { method: 'POST', headers, body: process.argv[2] } : { headers })
        .then(async (r) => { process.stdout.write(await r.text()); process.exit(r.ok ? 0 : 1); }, (e) => { console.error(String(e)); process.exit(2); })`;
      return JSON.parse(net.runSync(host, process.execPath, ['-e', script, `http://${host.addr}:${API_PORT}${path}`, body === undefined ? '' : JSON.stringify(body)], { ...process.env, HARROW_TOKEN: TOKEN }));
    };
    for (const [h, p] of [[c1, ctl1], [c2, ctl2]] as const) {
      await waitFor(`the replica on ${h.role}`, () => {
        if (!alive(p)) throw new Error(`the replica on ${h.role} exited`);
        return Promise.resolve(apiIn(h, '/healthz'));
      }, 60_000, 300);
    }
    const sweep = apiIn(c1, '/api/sweeps', { config: YAML }) as { id: string };

    const agentEnv = { HARROW_HEARTBEAT_MS: '300', HARROW_CONTROL_POLL_MS: '200', HARROW_TEST_EXEC_DIR: execDir };
    const redisAgentEnv = { ...agentEnv, REDIS_URL: redisUrl, HARROW_PREFIX: PREFIX };
    const agentArgs = [BIN, 'agent', sweep.id, '--quiet', '--concurrency', '3'];
    const ag1 = start('agent a1 (Redis)', a1, process.execPath, agentArgs, redisAgentEnv);
    const ag2 = start('agent a2 (Redis)', a2, process.execPath, agentArgs, redisAgentEnv);
    const ag3 = start('agent a3 (HTTP)', a3, process.execPath, [...agentArgs, '--server', `http://${c1.addr}:${API_PORT},http://${c2.addr}:${API_PORT}`], { ...agentEnv, REDIS_URL: 'redis://127.0.0.1:1', HARROW_TOKEN: TOKEN });

    const count = async (where: string, args: unknown[] = []): Promise<number> => {
      const { rows } = await db!.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND ${where}`, [sweep.id, ...args]);
      return rows[0]!.n;
    };
    const log: string[] = [];

    // 1. A replica dies; c2 carries on (the scheduler, the reaper and ingestion are not tied to one replica).
    await waitFor('5 runs finished', async () => (await count(`state = 'finished'`)) >= 5, 90_000, 200);
    const { rows: killedAt } = await db.query<{ at: Date }>('SELECT now() AS at');
    ctl1.child.kill('SIGKILL');
    await ctl1.exited;
    log.push(`c1 SIGKILLed with ${await count(`state = 'running'`)} runs running`);

    // 2. a2's cable pulled while it runs runs, for longer than the crash timeout, then plugged back.
    // Cut while two of its runs are far from their end (one about to end may have reported it already).
    const stepsOf = (runId: string, attempt: number): number => {
      try {
        return readFileSync(join(execDir, runId), 'utf8').split('\n').filter((l) => l.startsWith(`${attempt} step `)).length;
      } catch {
        return 0;
      }
    };
    const cutRuns = await waitFor('two runs on a2 far from their end', async () => {
      const { rows } = await db!.query<{ id: string; attempt: number }>(
        `SELECT id, attempt FROM runs WHERE sweep_id = $1 AND state = 'running' AND agent_id LIKE $2`,
        [sweep.id, `%-${ag2.child.pid}-%`],
      );
      const early = rows.filter((r) => stepsOf(r.id, r.attempt) <= STEPS - 4);
      return early.length >= 2 ? early : undefined;
    }, 60_000, 50);
    net.cut(a2);
    await sleep(CUT_MS);
    net.reconnect(a2);
    log.push(`a2 cut off for ${CUT_MS} ms with ${cutRuns.length} runs running`);

    // 3. Redis SIGKILLed and restarted from its append-only file.
    await waitFor('more runs finished', async () => (await count(`state = 'finished'`)) >= 25, 90_000, 200);
    log.push(`Redis restarted with ${await count(`state = 'running'`)} runs running`);
    redis.child.kill('SIGKILL');
    await redis.exited;
    await sleep(1000);
    redis = startRedis();

    await waitFor(
      'the sweep to finish',
      async () => {
        const { rows } = await db!.query<{ state: string }>(`SELECT state FROM sweeps WHERE id = $1`, [sweep.id]);
        return rows[0]?.state === 'finished' && (await count(`state IN ('queued', 'running')`)) === 0;
      },
      120_000,
      300,
    );
    await Promise.all([ag1, ag2, ag3].map((a) => Promise.race([a.exited, sleep(15_000)])));

    // Executions, as the training fixture recorded them: `<attempt> start|step <time>` per line.
    const executions = new Map<string, Array<{ attempt: string; steps: number }>>();
    for (const file of readdirSync(execDir)) {
      const list: Array<{ attempt: string; steps: number }> = [];
      for (const [attempt, what] of readFileSync(join(execDir, file), 'utf8').trim().split('\n').map((l) => l.split(' '))) {
        if (what === 'start') list.push({ attempt: attempt!, steps: 0 });
        else if (what === 'step') {
          const e = [...list].reverse().find((x) => x.attempt === attempt);
          if (e) e.steps++;
        }
      }
      executions.set(file, list);
    }
    const { rows: runs } = await db.query<{ id: string; state: string; attempt: number; stored: number; dup: number }>(
      `SELECT r.id, r.state, r.attempt,
              (SELECT count(*)::int FROM metrics m WHERE m.run_id = r.id AND m.attempt = r.attempt) AS stored,
              (SELECT (count(*) - count(DISTINCT (m.attempt, m.name, m.step)))::int FROM metrics m WHERE m.run_id = r.id) AS dup
       FROM runs r WHERE r.sweep_id = $1`,
      [sweep.id],
    );
    const { rows: attempts } = await db.query<{ run_id: string; attempt: number; agent_id: string; state: string; stored: number }>(
      `SELECT a.run_id, a.attempt, a.agent_id, a.state,
              (SELECT count(*)::int FROM metrics m WHERE m.run_id = a.run_id AND m.attempt = a.attempt) AS stored
       FROM run_attempts a JOIN runs r ON r.id = a.run_id WHERE r.sweep_id = $1`,
      [sweep.id],
    );
    const problems: string[] = [];
    let executed = 0;
    for (const run of runs) {
      const list = executions.get(run.id) ?? [];
      executed += list.length;
      const byAttempt = new Map<string, number>();
      for (const e of list) byAttempt.set(e.attempt, (byAttempt.get(e.attempt) ?? 0) + 1);
      for (const [a, n] of byAttempt) {
        if (n > 1) problems.push(`run ${run.id}: attempt ${a} executed ${n} times`);
        if (!attempts.some((x) => x.run_id === run.id && String(x.attempt) === a)) problems.push(`run ${run.id}: executed as attempt ${a}, which Postgres never accepted`);
      }
      if (run.state === 'finished' && byAttempt.get(String(run.attempt)) !== 1) problems.push(`finished run ${run.id}: its attempt ${run.attempt} executed ${byAttempt.get(String(run.attempt)) ?? 0} times`);
    }
    const finished = runs.filter((r) => r.state === 'finished');
    const printed = finished.length * POINTS_PER_RUN;
    const stored = finished.reduce((s, r) => s + r.stored, 0);
    const dups = runs.reduce((s, r) => s + r.dup, 0);
    // The cut host's attempts: declared crashed, retried on another host, and what it printed
    // after the crash was declared not stored (its late reports refused).
    const cutAttempts = attempts.filter((a) => cutRuns.some((r) => r.id === a.run_id && r.attempt === a.attempt));
    const retriedElsewhere = cutRuns.filter((r) => attempts.some((a) => a.run_id === r.id && a.attempt > r.attempt && !a.agent_id.includes(`-${ag2.child.pid}-`)));
    const cutPrinted = cutAttempts.map((a) => {
      const e = (executions.get(a.run_id) ?? []).find((x) => x.attempt === String(a.attempt));
      return { run: a.run_id, state: a.state, printedPoints: e ? e.steps + Math.ceil(e.steps / 2) : 0, stored: a.stored };
    });
    const perAgent = [ag1, ag2, ag3].map((a) => ({ name: a.name, attempts: attempts.filter((x) => x.agent_id.includes(`-${a.child.pid}-`)).length }));
    const { rows: httpAfterKill } = await db.query<{ before: number; after: number }>(
      `SELECT count(*) FILTER (WHERE a.started_at < $3)::int AS before, count(*) FILTER (WHERE a.started_at > $3)::int AS after
       FROM run_attempts a JOIN runs r ON r.id = a.run_id WHERE r.sweep_id = $1 AND a.agent_id LIKE $2`,
      [sweep.id, `%-${ag3.child.pid}-%`, killedAt[0]!.at],
    );
    const refusedEnds = procs.filter((p) => p.name.startsWith('controller')).reduce((n, p) => n + (p.output().match(/end report refused \(stale attempt\)/g) ?? []).length, 0);

    console.log(
      [
        `multi-host: ${((Date.now() - t0) / 1000).toFixed(0)} s; ${log.join('; ')}`,
        `  runs ${runs.length} (finished ${finished.length}), attempts ${attempts.length} (${perAgent.map((a) => `${a.name} ${a.attempts}`).join(', ')}), executions ${executed}`,
        `  cut host's attempts: ${cutPrinted.map((c) => `${c.state}, printed ${c.printedPoints}, stored ${c.stored}`).join(' | ')}; retried elsewhere ${retriedElsewhere.length} of ${cutRuns.length}; late end reports refused ${refusedEnds}`,
        `  HTTP agent: ${httpAfterKill[0]!.before} attempts through c1 before it died, ${httpAfterKill[0]!.after} through c2 after`,
        `  finished runs: points printed ${printed}, stored ${stored}, stored twice ${dups}`,
      ].join('\n'),
    );
    assert.deepEqual(problems, [], 'no run executed twice');
    assert.equal(runs.length, RUN_CAP, 'run_cap exactly');
    assert.equal(finished.length, RUN_CAP, 'every run finished');
    assert.equal(dups, 0, 'no point stored twice');
    const short = finished.filter((r) => r.stored !== POINTS_PER_RUN);
    if (short.length > 0) {
      const { rows: events } = await db.query<{ run_id: string; attempt: number; to_state: string; reason: string; at: Date }>(
        `SELECT run_id, attempt, to_state, reason, at FROM run_events WHERE run_id = ANY($1) ORDER BY id`,
        [short.map((r) => r.id)],
      );
      console.log(`runs missing points: ${JSON.stringify(short)}\n${events.map((e) => JSON.stringify(e)).join('\n')}`);
    }
    for (const r of finished) assert.equal(r.stored, POINTS_PER_RUN, `run ${r.id}: every point its last attempt printed is stored`);
    assert.ok(cutRuns.length >= 2);
    for (const a of cutAttempts) assert.equal(a.state, 'crashed', `run ${a.run_id} attempt ${a.attempt} on the cut host was declared crashed`);
    assert.equal(retriedElsewhere.length, cutRuns.length, 'every run of the cut host was retried on another host');
    assert.ok(refusedEnds >= 1, 'the cut host\'s late end reports were refused');
    const cutStored = cutPrinted.reduce((s, c) => s + c.stored, 0);
    const cutPrintedPoints = cutPrinted.reduce((s, c) => s + c.printedPoints, 0);
    assert.ok(cutStored < cutPrintedPoints, `what the cut host printed after losing the network was not stored (${cutStored} of ${cutPrintedPoints})`);
    assert.ok(alive(ctl2), 'c2 carried on');
    for (const a of perAgent) assert.ok(a.attempts > 0, `${a.name} ran runs`);
    assert.ok(httpAfterKill[0]!.before > 0 && httpAfterKill[0]!.after > 0, 'the HTTP agent ran runs through c1, then through c2 once c1 was gone');
  } catch (err) {
    const logs = procs.filter((p) => p.name !== 'postgres').map((p) => `--- ${p.name} ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  } finally {
    for (const p of procs) if (alive(p)) p.child.kill('SIGKILL');
    await db?.close().catch(() => undefined);
    net.destroy();
    await Promise.race([Promise.all(procs.map((p) => p.exited)), sleep(10_000)]);
    rmSync(dir, { recursive: true, force: true });
  }
});
