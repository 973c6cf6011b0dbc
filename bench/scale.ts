/**
 * `npm run bench -- --scale`: how cost grows with the work (issue 16, point 2). Every figure is
 * measured at growing sizes, against a baseline measured in the same run:
 *
 * A. One sweep of 1k / 10k / 100k runs holding 100k / 1M / 10M metric points (100 per run),
 *    seeded with SQL, served by a `harrow server` process:
 *    - API p50/p99 of best-so-far, runs pages, sweep detail and the dashboard's endpoints;
 *    - ingestion: a fixed batch of points written by real agents into that table, against a raw
 *      server-side `COPY` of as many rows into the same table;
 *    - the controller's resident memory after serving it (bounded by what runs, not by history?).
 * B. Dispatch of a cheap command (/bin/true) through 10 / 100 / 1,000 concurrent agent slots,
 *    against spawning it directly with the same parallelism: overhead per run.
 * C. Redis memory per queued run, at 1k / 10k / 100k queued jobs.
 * D. The GP's proposal time at 100 / 300 / 1,000 / 3,000 observations (it models at most the
 *    subset it selects; past that the time should flatten).
 *
 * It prints one table per part and a note wherever a figure grows faster than the size.
 * Flags: --quick (smaller sizes, for a smoke run), --only A|B|C|D, --sizes 1000,10000 (part A's
 * sweep sizes in runs, to measure one size again).
 * Needs Postgres as a superuser (COPY from a file) and Redis, like `npm run bench`.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { cpus, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import { openPostgres, type Database } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { rebuildBest, rebuildRunCounts } from '../db/runs.js';
import { runCounts } from '../db/sweeps.js';
import { RunQueue } from '../controller/run-queue.js';
import { MAX_LOOKAHEAD } from '../controller/config.js';
import { createStrategy, parseSweepConfig, Rng, sampleParams } from '../strategies/index.js';
import type { Observation } from '../strategies/types.js';
import { redisKeys, WIRE_VERSION } from '../protocol/wire.js';
import { encodeRunCursor } from '../protocol/run-cursor.js';
import { UsageError } from '../cli/command.js';
import { BIN, PG_URL, REDIS_URL, ROOT, cleanRedis, directRate, freePort, latency, now, withSchema } from './system-harness.js';

interface Row {
  cells: string[];
}

function table(headers: string[], rows: Row[]): void {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => r.cells[i]!.length)));
  const line = (cells: string[]) => `  ${cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ')}`;
  console.log(line(headers));
  console.log(`  ${widths.map((w) => '-'.repeat(w)).join('  ')}`);
  for (const r of rows) console.log(line(r.cells));
}

/** A note when `values` grow faster than `sizes` (ratio of growth factors above `slack`). */
function growthNote(what: string, sizes: number[], values: number[], slack = 1.5): string | null {
  for (let i = 1; i < sizes.length; i++) {
    const size = sizes[i]! / sizes[i - 1]!;
    const grew = values[i]! / Math.max(values[i - 1]!, 1e-9);
    if (grew > size * slack) return `  note: ${what} grew ${grew.toFixed(1)}× for ${size.toFixed(0)}× the size (${sizes[i - 1]!.toLocaleString()} → ${sizes[i]!.toLocaleString()}): worse than linear`;
  }
  return null;
}

const SPEC = {
  method: 'random',
  program: 'train.py',
  metric: { name: 'loss', goal: 'minimize' },
  parameters: { lr: { distribution: 'log_uniform_values', min: 1e-5, max: 1e-1 }, layers: { values: [1, 2, 3, 4, 5, 6, 7] }, dropout: { min: 0.0, max: 0.5 } },
} as const;

async function seedSweep(db: Database, sweepId: string, runs: number, pointsPerRun: number): Promise<void> {
  const spec = parseSweepConfig(SPEC);
  await db.query(
    `INSERT INTO sweeps (id, name, state, method, spec, config_text, seed, metric_name, goal, next_number)
     VALUES ($1, 'scale', 'finished', 'random', $2, '', 1, 'loss', 'minimize', $3)`,
    [sweepId, JSON.stringify(spec), runs + 1],
  );
  const CHUNK = 10_000;
  for (let first = 1; first <= runs; first += CHUNK) {
    const last = Math.min(runs, first + CHUNK - 1);
    await db.query(
      `INSERT INTO runs (id, sweep_id, number, state, params, params_hash, attempt, objective, objective_step, latest_value, metric_count,
                         summary, started_at, ended_at)
       SELECT $1 || '-' || g, $1, g, CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'finished' END,
              jsonb_build_object('lr', exp(ln(1e-5) + random() * ln(1e4)), 'layers', 1 + g % 7, 'dropout', random() / 2), md5(g::text), 1, v, $4::int - 1, v, $4::int,
              jsonb_build_object('loss', jsonb_build_object('last', v, 'min', v, 'max', v + 1, 'count', $4::int, 'step', $4::int - 1)),
              now() - interval '1 day' + g * interval '1 second', now() - interval '1 day' + g * interval '1 second' + interval '5 minutes'
       FROM (SELECT g, random() AS v FROM generate_series($2::int, $3::int) g) s`,
      [sweepId, first, last, pointsPerRun],
    );
  }
  const RUN_CHUNK = Math.max(1, Math.floor(1_000_000 / pointsPerRun));
  for (let first = 1; first <= runs; first += RUN_CHUNK) {
    await db.query(
      `INSERT INTO metrics (run_id, attempt, seq, step, name, value, time)
       SELECT $1 || '-' || r, 1, s, s - 1, 'loss', random(), now()
       FROM generate_series($2::int, $3::int) r, generate_series(1, $4::int) s`,
      [sweepId, first, Math.min(runs, first + RUN_CHUNK - 1), pointsPerRun],
    );
  }
  await rebuildBest(db, sweepId);
  await rebuildRunCounts(db, sweepId);
  await db.query('VACUUM ANALYZE');
}

function startServer(url: string, prefix: string, port: number): ChildProcess {
  return spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: url, REDIS_URL, HARROW_PREFIX: prefix, HARROW_PORT: String(port), HARROW_LOG_LEVEL: 'error', HARROW_TICK_MS: '200', HARROW_RATE_LIMIT: 'off' },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
}

async function waitHttp(base: string): Promise<void> {
  for (let i = 0; i < 600; i++) {
    try {
      if ((await fetch(`${base}/healthz`)).ok) return;
    } catch {
      // not up yet
    }
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} never answered`);
}

async function rssMb(pid: number): Promise<number> {
  const status = await readFile(`/proc/${pid}/status`, 'utf8');
  const kb = Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? NaN);
  return kb / 1024;
}

async function stopProcess(p: ChildProcess): Promise<void> {
  if (p.exitCode !== null) return;
  const exited = new Promise((r) => p.once('exit', r));
  p.kill('SIGTERM');
  await Promise.race([exited, new Promise((r) => setTimeout(r, 10_000))]);
  if (p.exitCode === null) p.kill('SIGKILL');
}


/**
 * Points per second that agents get stored, and a raw COPY of as many rows into the same table
 * (which already holds the seeded points), once before the agents and once after: their mean is
 * the baseline, so a machine whose speed drifts during the measurement moves both sides alike.
 */
async function ingestion(db: Database, base: string, prefix: string, batchRuns: number, pointsPerRun: number): Promise<{ system: number; copy: number; copies: [number, number] }> {
  const dir = await mkdtemp(join(tmpdir(), 'harrow-scale-'));
  try {
    const total = batchRuns * pointsPerRun;
    const res = await fetch(`${base}/api/sweeps`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ config: `method: random\nrun_cap: ${batchRuns}\nmetric: {name: loss, goal: minimize}\ncommand: ["python3", "${join(dir, 'spam.py')}", "${pointsPerRun}"]\nparameters:\n  x: {min: 0.0, max: 1.0}\n` }),
    });
    const sweep = (await res.json()) as { id: string };

    // The baseline: the same number of rows, COPYed by the server from a file into the same table.
    const csv = join(dir, 'points.csv');
    const copyRate = async (runId: string): Promise<number> => {
      const at = new Date().toISOString();
      const lines: string[] = [];
      for (let i = 1; i <= total; i++) lines.push(`${runId},1,${i},${i - 1},loss,${1 / i},${at}`);
      await writeFile(csv, `${lines.join('\n')}\n`);
      await chmod(dir, 0o755);
      await chmod(csv, 0o644);
      // Under a sweep of their own, out of the agents' sweep and its run counts.
      await db.query(
        `INSERT INTO sweeps (id, name, state, method, spec, config_text, seed, metric_name, goal) VALUES ('raw-scale', 'raw', 'finished', 'random', '{}', '', 1, 'loss', 'minimize')
         ON CONFLICT DO NOTHING`,
      );
      await db.query(`INSERT INTO runs (id, sweep_id, number, state, params, params_hash) VALUES ($1, 'raw-scale', $2, 'finished', '{}', $1)`, [runId, Number(runId.slice(-1))]);
      const tc = now();
      await db.query(`COPY metrics (run_id, attempt, seq, step, name, value, time) FROM '${csv}' WITH (FORMAT csv)`);
      return total / ((now() - tc) / 1000);
    };
    const before = await copyRate('raw-scale-1');

    const script = join(dir, 'spam.py');
    await writeFile(script, `import sys\nn=int(sys.argv[1])\nw=sys.stdout.write\nfor i in range(n):\n    w(f"loss={1.0/(i+1):.6f} step={i}\\n")\nsys.stdout.flush()\n`);
    await chmod(script, 0o644);
    const agents = [0, 1].map(() =>
      spawn(process.execPath, [BIN, 'agent', sweep.id, '--concurrency', '4', '--quiet'], {
        cwd: ROOT,
        env: { ...process.env, REDIS_URL, HARROW_PREFIX: prefix, HARROW_LOG_LEVEL: 'warn' },
        stdio: ['ignore', 'ignore', 'inherit'],
      }),
    );
    // From the first point stored to the last: the rate of storing, not the runs' start or their
    // end reports (the runs' ends are waited for below, before the second baseline).
    let t0 = 0;
    let t1 = 0;
    for (;;) {
      const { rows } = await db.query<{ n: number }>(`SELECT coalesce(sum(metric_count), 0)::int AS n FROM runs WHERE sweep_id = $1`, [sweep.id]);
      const c = await runCounts(db, sweep.id);
      if (!t0 && rows[0]!.n > 0) t0 = now();
      if (!t1 && rows[0]!.n >= total) t1 = now();
      if (c.finished + c.failed >= batchRuns) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const system = total / (((t1 || now()) - t0) / 1000);
    await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));

    const after = await copyRate('raw-scale-2');
    return { system, copy: (before + after) / 2, copies: [before, after] };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function partA(quick: boolean, only?: number[]): Promise<void> {
  const sizes = only ?? (quick ? [1_000, 5_000] : [1_000, 10_000, 100_000]);
  const PER_RUN = 100;
  const batchRuns = quick ? 4 : 8;
  // 400,000 points: several seconds of storing, so that the first batches' start and the last
  // ones' flush (an agent sends a partial batch after 250 ms) do not make up much of the window.
  const batchPoints = quick ? 5_000 : 50_000;
  const requests = quick ? 100 : 300;
  console.log(`\n## A. One sweep at growing sizes (${PER_RUN} points per run), served by a harrow server process`);
  const rows: Row[] = [];
  const p99s: Record<string, number[]> = {};
  const rss: number[] = [];
  for (const runs of sizes) {
    await withSchema(async (url, schema) => {
      const db = await openPostgres({ connectionString: PG_URL, schema });
      try {
        await migrate(db);
        const t = now();
        await seedSweep(db, 'scale', runs, PER_RUN);
        const seeded = (now() - t) / 1000;
        const prefix = `scale-${randomBytes(3).toString('hex')}`;
        const port = await freePort();
        const base = `http://127.0.0.1:${port}`;
        const server = startServer(url, prefix, port);
        try {
          await waitHttp(base);
          const idle = await rssMb(server.pid!);
          const ids = Array.from({ length: 30 }, (_, i) => `scale-${1 + Math.floor((i * runs) / 30)}`).join(',');
          const endpoints: Array<[string, string]> = [
            ['best', '/api/sweeps/scale/best'],
            ['runs by metric', '/api/sweeps/scale/runs?sort=metric&limit=50'],
            ['runs page deep, offset', `/api/sweeps/scale/runs?state=finished&sort=-number&limit=50&offset=${Math.floor(runs / 2)}`],
            // The same depth as the cursor of the page that ended at the middle run (how the dashboard and the CLI page).
            ['runs page deep, cursor', `/api/sweeps/scale/runs?state=finished&sort=-number&limit=50&cursor=${encodeRunCursor({ sort: '-number', after: Math.floor(runs / 2) })}`],
            ['sweep detail', '/api/sweeps/scale'],
            ['sweep list', '/api/sweeps'],
            ['importance (cached)', '/api/sweeps/scale/importance'],
            ['curves of 30 runs', `/api/sweeps/scale/curves?name=loss&runs=${ids}`],
          ];
          const tf = now();
          await (await fetch(`${base}/api/sweeps/scale/importance`)).arrayBuffer();
          const importanceFresh = now() - tf;
          for (const [name, path] of endpoints) {
            const l = await latency(base, path, requests, 10);
            (p99s[name] ??= []).push(l.p99);
            rows.push({ cells: [`${runs.toLocaleString()} runs`, name, l.p50.toFixed(2), l.p99.toFixed(2), l.p99 < 50 ? 'PASS' : 'FAIL'] });
          }
          rows.push({ cells: [`${runs.toLocaleString()} runs`, 'importance, first answer', importanceFresh.toFixed(0), '-', ''] });
          const ing = await ingestion(db, base, prefix, batchRuns, batchPoints);
          const ratio = ing.system / ing.copy;
          rows.push({
            cells: [
              `${runs.toLocaleString()} runs`,
              `ingest ${(batchRuns * batchPoints).toLocaleString()} pts: agents / COPY (before, after)`,
              `${Math.round(ing.system).toLocaleString()}/s`,
              `${Math.round(ing.copy).toLocaleString()}/s (${ing.copies.map((c) => Math.round(c).toLocaleString()).join(', ')})`,
              `${ratio.toFixed(2)}× ${ratio >= 0.5 ? 'PASS' : 'FAIL'}`,
            ],
          });
          const served = await rssMb(server.pid!);
          rss.push(served);
          rows.push({ cells: [`${runs.toLocaleString()} runs`, `controller RSS idle → after`, `${idle.toFixed(0)} MB`, `${served.toFixed(0)} MB`, `seeded in ${seeded.toFixed(0)} s`] });
        } finally {
          await stopProcess(server);
          await cleanRedis(prefix);
        }
      } finally {
        await db.close();
      }
    });
  }
  table([`size (${sizes.map((s) => s * PER_RUN).map((p) => p.toLocaleString()).join(' / ')} points)`, 'what', 'p50 ms', 'p99 ms', 'target p99 < 50 ms'], rows);
  for (const [name, values] of Object.entries(p99s)) {
    const note = growthNote(`p99 of ${name}`, sizes, values.map((v) => Math.max(v, 1)));
    if (note) console.log(note);
  }
  const memNote = growthNote('controller RSS', sizes, rss, 1);
  console.log(memNote ?? `  controller RSS stays within ${Math.min(...rss).toFixed(0)}–${Math.max(...rss).toFixed(0)} MB from ${sizes[0]!.toLocaleString()} to ${sizes.at(-1)!.toLocaleString()} runs: bounded by what runs, not by history`);
}

async function partB(quick: boolean): Promise<void> {
  const levels = quick ? [10, 50] : [10, 100, 1000];
  console.log(`\n## B. Dispatch of /bin/true through N concurrent agent slots (${cpus().length} CPUs), against direct spawn with the same parallelism`);
  const rows: Row[] = [];
  for (const slots of levels) {
    const agents = Math.max(1, Math.ceil(slots / 100));
    const perAgent = Math.ceil(slots / agents);
    const runs = Math.max(200, slots * 2);
    const direct = await directRate(['/bin/true'], runs, slots);
    const rate = await withSchema(async (url) => {
      const prefix = `scale-${randomBytes(3).toString('hex')}`;
      const port = await freePort();
      const base = `http://127.0.0.1:${port}`;
      const server = spawn(process.execPath, [BIN, 'server'], {
        cwd: ROOT,
        env: { ...process.env, DATABASE_URL: url, REDIS_URL, HARROW_PREFIX: prefix, HARROW_PORT: String(port), HARROW_LOG_LEVEL: 'error', HARROW_TICK_MS: '200', HARROW_LOOKAHEAD: String(Math.min(slots, MAX_LOOKAHEAD)), HARROW_RATE_LIMIT: 'off' },
        stdio: ['ignore', 'ignore', 'inherit'],
      });
      const db = await openPostgres({ connectionString: url });
      const procs: ChildProcess[] = [];
      try {
        await waitHttp(base);
        const res = await fetch(`${base}/api/sweeps`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ config: `method: random\nrun_cap: ${runs}\ncommand: ["/bin/true"]\nparameters:\n  x: {min: 0.0, max: 1.0}\n` }),
        });
        const sweep = (await res.json()) as { id: string };
        for (let i = 0; i < agents; i++) {
          procs.push(
            spawn(process.execPath, [BIN, 'agent', sweep.id, '--concurrency', String(perAgent), '--quiet'], {
              cwd: ROOT,
              env: { ...process.env, REDIS_URL, HARROW_PREFIX: prefix, HARROW_LOG_LEVEL: 'warn' },
              stdio: ['ignore', 'ignore', 'inherit'],
            }),
          );
        }
        let t0 = 0;
        for (;;) {
          const c = await runCounts(db, sweep.id);
          if (!t0 && c.running + c.finished + c.failed > 0) t0 = now();
          if (c.finished + c.failed >= runs) break;
          await new Promise((r) => setTimeout(r, 20));
        }
        return runs / ((now() - t0) / 1000);
      } finally {
        for (const p of procs) await stopProcess(p);
        await stopProcess(server);
        await db.close();
        await cleanRedis(prefix);
      }
    });
    const overhead = (1 / rate - 1 / direct) * 1000;
    rows.push({ cells: [String(slots), `${agents} × ${perAgent}`, String(runs), direct.toFixed(1), rate.toFixed(1), overhead.toFixed(2), overhead <= 10 ? 'PASS' : 'FAIL'] });
  }
  table(['slots', 'agents × slots', 'runs', 'direct runs/s', 'harrow runs/s', 'overhead ms/run', 'target ≤ 10 ms'], rows);
}

async function partC(quick: boolean): Promise<void> {
  const levels = quick ? [1_000, 5_000] : [1_000, 10_000, 100_000];
  console.log('\n## C. Redis memory per queued run (BullMQ jobs as the controller enqueues them)');
  const rows: Row[] = [];
  const perJob: number[] = [];
  for (const n of levels) {
    const prefix = `scale-${randomBytes(3).toString('hex')}`;
    const redis = new Redis(REDIS_URL);
    const queue = new RunQueue(redis, redisKeys(prefix));
    try {
      const used = async () => Number(/used_memory:(\d+)/.exec(await redis.info('memory'))?.[1] ?? NaN);
      const before = await used();
      const rng = Rng.from(1);
      const spec = parseSweepConfig(SPEC);
      const t = now();
      const BATCH = 200;
      for (let i = 0; i < n; i += BATCH) {
        await Promise.all(
          Array.from({ length: Math.min(BATCH, n - i) }, (_, k) => {
            const number = i + k + 1;
            return queue.enqueue({ v: WIRE_VERSION, sweepId: 'scalesw', runId: `scalesw-${number}`, number, params: sampleParams(spec.parameters, rng), command: spec.command, program: 'train.py', killGraceMs: 5000, gpusPerRun: 1 }, 1);
          }),
        );
      }
      const seconds = (now() - t) / 1000;
      const bytes = ((await used()) - before) / n;
      perJob.push(bytes);
      rows.push({ cells: [n.toLocaleString(), `${(bytes / 1024).toFixed(2)} KB`, `${((bytes * n) / 1024 / 1024).toFixed(1)} MB`, `${Math.round(n / seconds).toLocaleString()}/s`] });
    } finally {
      await queue.close?.();
      await cleanRedis(prefix);
      redis.disconnect();
    }
  }
  table(['queued runs', 'memory per run', 'total', 'enqueue rate'], rows);
  const spread = Math.max(...perJob) / Math.min(...perJob);
  console.log(spread < 1.5 ? `  per-run memory is flat (within ${spread.toFixed(2)}×): Redis grows linearly with the queue` : `  note: per-run memory varies ${spread.toFixed(2)}× across sizes`);
}

function partD(quick: boolean): void {
  const sizes = quick ? [100, 300] : [100, 300, 1_000, 3_000];
  console.log('\n## D. GP proposal time (method: bayes, 6 parameters), a cold fit and the next warm proposal');
  const spec = parseSweepConfig({
    method: 'bayes',
    metric: { name: 'loss', goal: 'minimize' },
    parameters: {
      a: { min: 0.0, max: 1.0 },
      b: { min: 0.0, max: 1.0 },
      c: { distribution: 'log_uniform_values', min: 1e-4, max: 1.0 },
      d: { values: [1, 2, 3, 4] },
      e: { min: -2.0, max: 2.0 },
      f: { distribution: 'int_uniform', min: 1, max: 64 },
    },
  });
  const rows: Row[] = [];
  const times: number[] = [];
  for (const n of sizes) {
    const rng = Rng.from(7);
    const observations: Observation[] = Array.from({ length: n }, () => {
      const params = sampleParams(spec.parameters, rng);
      const value = (Number(params.a) - 0.3) ** 2 + (Number(params.b) - 0.7) ** 2 + Math.log10(Number(params.c)) ** 2 / 10 + Number(params.e) ** 2 / 4 + rng.uniform() * 0.01;
      return { params, state: 'finished', value };
    });
    const strategy = createStrategy(spec, { seed: 3 });
    const t = now();
    strategy.propose({ observations, pending: [], count: 1 });
    const cold = now() - t;
    const t2 = now();
    strategy.propose({ observations, pending: [], count: 1 });
    const warm = now() - t2;
    times.push(cold);
    rows.push({ cells: [n.toLocaleString(), cold.toFixed(0), warm.toFixed(0)] });
  }
  table(['observations', 'cold ms', 'warm ms'], rows);
  const note = growthNote('the cold proposal time', sizes, times);
  console.log(note ?? '  proposal time grows no faster than the observations (the model keeps a bounded subset)');
}

export async function benchScale(argv: string[]): Promise<void> {
  const quick = argv.includes('--quick');
  const only = argv.includes('--only') ? argv[argv.indexOf('--only') + 1]?.toUpperCase() : undefined;
  console.log(`# Harrow scale benchmark${quick ? ' (quick)' : ''} — node ${process.version}, ${cpus().length} CPUs, Postgres ${PG_URL.replace(/\/\/[^@]*@/, '//')}, Redis ${REDIS_URL}`);
  const sizesArg = argv.includes('--sizes') ? argv[argv.indexOf('--sizes') + 1] : undefined;
  const sizes = sizesArg?.split(',').map(Number);
  if (sizes && (sizes.length === 0 || sizes.some((n) => !Number.isInteger(n) || n < 100))) throw new UsageError(`--sizes ${sizesArg}: give whole numbers of runs, at least 100 each, separated by commas (e.g. --sizes 1000,10000)`);
  if (!only || only === 'A') await partA(quick, sizes);
  if (!only || only === 'B') await partB(quick);
  if (!only || only === 'C') await partC(quick);
  if (!only || only === 'D') partD(quick);
}
