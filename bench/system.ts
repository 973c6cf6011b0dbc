/**
 * `npm run bench`: the whole system against baselines measured in the same run.
 *
 * 1. Runs per second through controller + Redis + 2 agent processes × 4 slots for a trivial
 *    command, against spawning the same command directly with the same parallelism (8).
 *    Target: ≤ 10 ms of overhead per run (per slot: slots × (1/system rate − 1/direct rate)).
 * 2. Metric points per second from agents into Postgres (a script printing `loss=… step=…` lines
 *    as fast as it can), against a raw batched insert of as many points into the same table.
 *    Target: at least half the raw rate.
 * 3. Latency of best-so-far, the runs list and the dashboard's endpoints (importance, curves)
 *    over HTTP with 10,000 runs and 2,000,000 metric points stored. Target: p99 under 20 ms
 *    (under 1 s for a fresh importance answer, which is then cached).
 * 4. The dashboard on that sweep in headless Chromium, served by `harrow server` in its own
 *    process: time until the sweep page has drawn every view (runs table, best so far, history,
 *    parallel coordinates, importance, slices, learning curves), and the bytes it transferred,
 *    cold and with the browser's cache. Target: under 1.5 s.
 *
 * Needs Postgres (HARROW_BENCH_DATABASE_URL, default postgres://postgres@127.0.0.1:5432/test)
 * and Redis (REDIS_URL, default redis://127.0.0.1:6379). Flags: --quick (smaller sizes); --scale
 * measures how cost grows with the work instead (bench/scale.ts).
 */
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { loadControllerConfig } from '../controller/config.js';
import { startController, type ControllerHandle } from '../controller/controller.js';
import { createSweep } from '../controller/sweep-service.js';
import { createLogger } from '../controller/logger.js';
import { runCounts } from '../db/sweeps.js';
import { rebuildBest, rebuildRunCounts } from '../db/runs.js';
import { openPostgres } from '../db/database.js';
import { migrate } from '../db/migrate.js';
import { parseSweepConfig } from '../strategies/index.js';
import { BIN, PG_URL, REDIS_URL, ROOT, cleanRedis, directRate, freePort, latency, now, verdict, withSchema } from './system-harness.js';
import { benchScale } from './scale.js';
import { UsageError } from '../cli/command.js';

const QUICK = process.argv.includes('--quick');
/** `--only throughput|points|latency|dashboard` runs one part (for profiling; dashboard: §4 alone, on §3's data). */
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
/** `--profile`: print the sweep page's hottest functions (cold pass of §4). */
const PROFILE = process.argv.includes('--profile');
/** `--trace FILE`: record a Chromium performance trace of §4's cold pass to FILE and print the page's main-thread tasks. */
const TRACE = process.argv.includes('--trace') ? process.argv[process.argv.indexOf('--trace') + 1] : undefined;

const RUNS = QUICK ? 120 : 400;
const SLOTS_PER_AGENT = 4;
const AGENTS = 2;
const POINTS_RUNS = QUICK ? 4 : 8;
const POINTS_PER_RUN = QUICK ? 5_000 : 25_000;
const LAT_RUNS = QUICK ? 2_000 : 10_000;
const LAT_POINTS = QUICK ? 400_000 : 2_000_000;
const LAT_REQUESTS = QUICK ? 300 : 1000;

async function controllerOn(url: string, prefix: string): Promise<ControllerHandle> {
  const config = loadControllerConfig({
    DATABASE_URL: url,
    REDIS_URL,
    HARROW_PREFIX: prefix,
    HARROW_PORT: '0',
    HARROW_TICK_MS: '200',
    HARROW_LOG_LEVEL: 'error',
    // One client asking thousands of times a second: the per-client limit is not what is measured.
    HARROW_RATE_LIMIT: 'off',
    HARROW_LOOKAHEAD: String(AGENTS * SLOTS_PER_AGENT),
  });
  return startController(config, { logger: createLogger('error', 'bench') });
}

/** Agents on Redis, or over HTTP (`--server`, with REDIS_URL pointing nowhere) when `server` is given. */
function startAgents(sweepId: string, prefix: string, n: number, concurrency: number, server?: string) {
  const over = server === undefined ? [] : ['--server', server];
  const redis = server === undefined ? REDIS_URL : 'redis://127.0.0.1:1';
  return Array.from({ length: n }, () =>
    spawn(process.execPath, [BIN, 'agent', sweepId, '--concurrency', String(concurrency), '--quiet', ...over], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: redis, HARROW_PREFIX: prefix, HARROW_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'ignore', 'inherit'],
    }),
  );
}


async function benchThroughput(): Promise<void> {
  const slots = AGENTS * SLOTS_PER_AGENT;
  const direct = await directRate(['/bin/true'], RUNS, slots);
  const rate = await systemRate('redis');
  const httpRate = await systemRate('http');
  // Both sides are CPU-bound on a small box: the extra time per run is the difference of the
  // seconds-per-run of the two rates. Each slot waits that times the number of slots sharing the CPUs.
  const overheadMs = (1 / rate - 1 / direct) * 1000;
  const httpOverheadMs = (1 / httpRate - 1 / direct) * 1000;
  const perSlotMs = slots * overheadMs;
  console.log(`\n## 1. Runs through the whole system (${RUNS} runs of /bin/true, ${AGENTS} agents × ${SLOTS_PER_AGENT} slots, ${cpus().length} CPUs)`);
  console.log(`  direct spawn, ${slots} parallel : ${direct.toFixed(1)} runs/s`);
  console.log(`  harrow, agents on Redis     : ${rate.toFixed(1)} runs/s  (${(rate / direct).toFixed(2)}× direct)`);
  console.log(`  harrow, agents over HTTP    : ${httpRate.toFixed(1)} runs/s  (${(httpRate / direct).toFixed(2)}× direct)`);
  console.log(`  overhead per run, Redis     : ${overheadMs.toFixed(2)} ms (1/harrow rate − 1/direct rate)   target ≤ 10 ms   ${verdict(overheadMs <= 10)}`);
  console.log(`  overhead per run, HTTP      : ${httpOverheadMs.toFixed(2)} ms (the controller takes each job and writes each report for its agent)`);
  console.log(`  extra wall time per run seen by one slot (Redis): ${perSlotMs.toFixed(1)} ms (${slots} slots share ${cpus().length} CPUs with the controller, Postgres and Redis)`);
}

/** Runs per second through controller + agents of one kind, from the first run starting to the last ending. */
async function systemRate(transport: 'redis' | 'http'): Promise<number> {
  return withSchema(async (url) => {
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const ctl = await controllerOn(url, prefix);
    try {
      const sweep = await createSweep(
        ctl.ctx,
        `method: random\nrun_cap: ${RUNS}\ncommand: ["/bin/true"]\nparameters:\n  x: {min: 0.0, max: 1.0}\n`,
      );
      const agents = startAgents(sweep.id, prefix, AGENTS, SLOTS_PER_AGENT, transport === 'http' ? ctl.url : undefined);
      // Time from the first run starting to the last one ending.
      let t0 = 0;
      for (;;) {
        const c = await runCounts(ctl.ctx.db, sweep.id);
        if (!t0 && c.running + c.finished + c.failed > 0) t0 = now();
        if (c.finished + c.failed >= RUNS) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      const seconds = (now() - t0) / 1000;
      await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));
      return RUNS / seconds;
    } finally {
      await ctl.close();
      await cleanRedis(prefix);
    }
  });
}

async function benchPoints(): Promise<void> {
  const total = POINTS_RUNS * POINTS_PER_RUN;
  const dir = await mkdtemp(join(tmpdir(), 'harrow-bench-'));
  const script = join(dir, 'spam.py');
  await writeFile(
    script,
    `import sys\nn=int(sys.argv[1])\nw=sys.stdout.write\nfor i in range(n):\n    w(f"loss={1.0/(i+1):.6f} step={i}\\n")\nsys.stdout.flush()\n`,
  );
  const result = await withSchema(async (url) => {
    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const ctl = await controllerOn(url, prefix);
    try {
      const sweep = await createSweep(
        ctl.ctx,
        `method: random\nrun_cap: ${POINTS_RUNS}\nmetric: {name: loss, goal: minimize}\ncommand: ["python3", "${script}", "${POINTS_PER_RUN}"]\nparameters:\n  x: {min: 0.0, max: 1.0}\n`,
      );
      const agents = startAgents(sweep.id, prefix, AGENTS, SLOTS_PER_AGENT);
      let t0 = 0;
      let stored = 0;
      for (;;) {
        const { rows } = await ctl.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM metrics');
        stored = rows[0]!.n;
        if (!t0 && stored > 0) t0 = now();
        if (stored >= total) break;
        await new Promise((r) => setTimeout(r, 50));
      }
      const systemRate = stored / ((now() - t0) / 1000);
      await Promise.all(agents.map((a) => new Promise((r) => (a.exitCode !== null ? r(null) : a.once('exit', r)))));

      // Baseline: as many points (same columns, values and names as the script logs), inserted
      // straight from a client in batches of 1000 rows: one INSERT ... SELECT FROM unnest(arrays).
      const db = ctl.ctx.db;
      await db.query(`INSERT INTO runs (id, sweep_id, number, state, params, params_hash) VALUES ('raw-1', $1, 100000, 'finished', '{}', 'x')`, [sweep.id]);
      const BATCH = 1000;
      const t = new Date();
      const tr = now();
      for (let off = 0; off < total; off += BATCH) {
        const n = Math.min(BATCH, total - off);
        const seqs = Array.from({ length: n }, (_, i) => off + i + 1);
        await db.query(
          `INSERT INTO metrics (run_id, attempt, seq, step, name, value, time)
           SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::text[], $6::float8[], $7::timestamptz[])`,
          [
            seqs.map(() => 'raw-1'),
            seqs.map(() => 1),
            seqs,
            seqs.map((s) => s - 1),
            seqs.map(() => 'loss'),
            seqs.map((s) => 1 / s),
            seqs.map(() => t.toISOString()),
          ],
        );
      }
      const rawRate = total / ((now() - tr) / 1000);
      return { systemRate, rawRate };
    } finally {
      await ctl.close();
      await cleanRedis(prefix);
    }
  });
  await rm(dir, { recursive: true, force: true });
  const ratio = result.systemRate / result.rawRate;
  console.log(`\n## 2. Metric points into Postgres (${total.toLocaleString()} points from ${POINTS_RUNS} runs)`);
  console.log(`  raw batched insert (1000/batch): ${Math.round(result.rawRate).toLocaleString()} points/s`);
  console.log(`  agents → Redis → controller   : ${Math.round(result.systemRate).toLocaleString()} points/s  (${ratio.toFixed(2)}× raw)`);
  console.log(`  target ≥ 0.5× raw               ${verdict(ratio >= 0.5)}`);
}

async function benchLatency(): Promise<void> {
  await withSchema(async (url, schema) => {
    const db = await openPostgres({ connectionString: PG_URL, schema });
    await migrate(db);
    const sweepId = 'latbench';
    // A real parsed spec, so the dashboard's analysis (importance, axes) sees the parameters.
    const spec = parseSweepConfig({ method: 'random', program: 'train.py', metric: { name: 'loss', goal: 'minimize' }, parameters: { lr: { distribution: 'uniform', min: 0, max: 1 }, layers: { values: [0, 1, 2, 3, 4, 5, 6] } } });
    await db.query(
      `INSERT INTO sweeps (id, name, state, method, spec, config_text, seed, metric_name, goal)
       VALUES ($1, 'latency', 'finished', 'random', $2, '', 1, 'loss', 'minimize')`,
      [sweepId, JSON.stringify(spec)],
    );
    const t0 = now();
    await db.query(
      `INSERT INTO runs (id, sweep_id, number, state, params, params_hash, attempt, objective, objective_step, latest_value, metric_count,
                         summary, started_at, ended_at, output_tail)
       SELECT $1 || '-' || g, $1, g, CASE WHEN g % 10 = 0 THEN 'failed' ELSE 'finished' END,
              jsonb_build_object('lr', random(), 'layers', g % 7), md5(g::text), 1, v, 199, v, 200,
              jsonb_build_object('loss', jsonb_build_object('last', v, 'min', v, 'max', v + 1, 'count', 200, 'step', 199)),
              now() - interval '1 day' + g * interval '1 second', now() - interval '1 day' + g * interval '1 second' + interval '5 minutes',
              -- Failed runs keep an output tail (a traceback after 8 KB of output), which the runs list reads its error line from.
              CASE WHEN g % 10 = 0 THEN repeat('epoch ' || g || ' loss=0.5 step=1' || chr(10), 300) || 'Traceback (most recent call last):' || chr(10) || '  File "train.py", line 9' || chr(10) || 'ValueError: diverged at run ' || g || chr(10) END
       FROM (SELECT g, random() AS v FROM generate_series(1, $2::int) g) s`,
      [sweepId, LAT_RUNS],
    );
    const perRun = Math.floor(LAT_POINTS / LAT_RUNS);
    const CHUNK = 1000;
    for (let first = 1; first <= LAT_RUNS; first += CHUNK) {
      await db.query(
        `INSERT INTO metrics (run_id, attempt, seq, step, name, value, time)
         SELECT $1 || '-' || r, 1, s, s - 1, 'loss', random(), now()
         FROM generate_series($2::int, $3::int) r, generate_series(1, $4::int) s`,
        [sweepId, first, Math.min(LAT_RUNS, first + CHUNK - 1), perRun],
      );
    }
    // The best-so-far curve is maintained as runs finish; runs loaded by SQL need it rebuilt.
    await rebuildBest(db, sweepId);
    await rebuildRunCounts(db, sweepId);
    await db.query('VACUUM ANALYZE');
    const seeded = ((now() - t0) / 1000).toFixed(1);
    await db.close();

    const prefix = `bench-${randomBytes(3).toString('hex')}`;
    const ctl = await controllerOn(url, prefix);
    try {
      console.log(`\n## 3. API latency with ${LAT_RUNS.toLocaleString()} runs and ${(perRun * LAT_RUNS).toLocaleString()} metric points (seeded in ${seeded} s)`);
      const endpoints = [
        ['best-so-far', `/api/sweeps/${sweepId}/best`],
        ['runs list, sorted by metric', `/api/sweeps/${sweepId}/runs?sort=metric&limit=50`],
        ['runs list, finished, page 20', `/api/sweeps/${sweepId}/runs?state=finished&sort=-number&limit=50&offset=1000`],
        ['sweep detail', `/api/sweeps/${sweepId}`],
        ['importance (cached)', `/api/sweeps/${sweepId}/importance`],
        ['curves of 30 runs', `/api/sweeps/${sweepId}/curves?name=loss&runs=${Array.from({ length: 30 }, (_, i) => `${sweepId}-${i * 300 + 1}`).join(',')}`],
      ] as const;
      const fresh = now();
      await (await fetch(`${ctl.url}/api/sweeps/${sweepId}/importance`)).arrayBuffer();
      const freshMs = now() - fresh;
      if (only !== 'dashboard') await latencies(ctl.url, endpoints, freshMs);
    } finally {
      await ctl.close();
    }
    try {
      await benchDashboard(url, prefix, sweepId, LAT_RUNS, perRun * LAT_RUNS);
    } finally {
      await cleanRedis(prefix);
    }
  });
}

/** p50 and p99 of each endpoint over LAT_REQUESTS requests, after 20 to warm up. */
async function latencies(base: string, endpoints: ReadonlyArray<readonly [string, string]>, freshMs: number): Promise<void> {
  console.log(`  ${'importance, first answer'.padEnd(30)} ${freshMs.toFixed(0).padStart(6)} ms (a random forest in the worker thread; cached until a run ends)   target < 1 s   ${verdict(freshMs < 1000)}`);
  for (const [name, path] of endpoints) {
    const { p50, p99 } = await latency(base, path, LAT_REQUESTS, 20);
    console.log(`  ${name.padEnd(30)} p50 ${p50.toFixed(2).padStart(6)} ms   p99 ${p99.toFixed(2).padStart(6)} ms   target p99 < 20 ms   ${verdict(p99 < 20)}`);
  }
}

/**
 * `harrow server` in a process of its own, as users run it: the page's answers then come from a
 * controller that shares its event loop and heap with nothing else. In this process it shared
 * them with the browser's driver (Playwright's protocol traffic, a poll every 20 ms): a 0.24 s
 * collection of that shared heap fell inside one page load.
 */
async function serverProcess(dbUrl: string, prefix: string): Promise<{ url: string; pid: number; stop: () => Promise<void> }> {
  const port = await freePort();
  const child = spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: { ...process.env, DATABASE_URL: dbUrl, REDIS_URL, HARROW_PREFIX: prefix, HARROW_HOST: '127.0.0.1', HARROW_PORT: String(port), HARROW_LOG_LEVEL: 'error', HARROW_RATE_LIMIT: 'off' },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  // Its banner and shutdown line stay out of the report; what it says before failing does not.
  let said = '';
  child.stderr.on('data', (d: Buffer) => (said = (said + d.toString('utf8')).slice(-4000)));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const url = `http://127.0.0.1:${port}`;
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`harrow server exited with code ${child.exitCode} before answering:\n${said}`);
    try {
      if ((await fetch(`${url}/healthz`)).ok) break;
    } catch {
      // Not listening yet.
    }
    if (i > 300) throw new Error('harrow server did not answer /healthz within 30 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    pid: child.pid!,
    stop: async () => {
      child.kill('SIGTERM');
      await exited;
    },
  };
}

/** CPU time (user + system) a process has used so far, in ms, from /proc (Linux). */
function processCpuMs(pid: number): number {
  try {
    // Fields 14 and 15 (utime, stime) in clock ticks, after the command name in parentheses.
    const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / 100;
  } catch {
    return NaN;
  }
}

/**
 * The sweep page in headless Chromium: from navigation to every view drawn, cold (a new browser
 * profile) and warm (the same profile again: ECharts and the modules revalidated, not re-sent).
 */
async function benchDashboard(dbUrl: string, prefix: string, sweepId: string, runs: number, points: number): Promise<void> {
  const executablePath = process.env.HARROW_CHROMIUM ?? '/usr/bin/chromium';
  console.log(`\n## 4. Dashboard: the sweep page with ${runs.toLocaleString()} runs and ${points.toLocaleString()} metric points, headless Chromium on loopback, \`harrow server\` in its own process`);
  if (!existsSync(executablePath)) {
    console.log(`  skipped: no Chromium at ${executablePath} (apt-get install chromium, or set HARROW_CHROMIUM)`);
    return;
  }
  const server = await serverProcess(dbUrl, prefix);
  const url = server.url;
  // As §3 measures it and as on a server that has been up a while: importance is computed once
  // and cached (in the server's memory) until a run ends, so the page finds it computed.
  await (await fetch(`${url}/api/sweeps/${sweepId}/importance`)).arrayBuffer();
  const { chromium } = await import('playwright-core');
  const browser = await chromium.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run'] });
  try {
    // bypassCSP: the page's policy forbids eval, which the string checks below use (the page itself needs none).
    const context = await browser.newContext({ viewport: { width: 1400, height: 1000 }, bypassCSP: true });
    for (const pass of ['cold', 'warm'] as const) {
      const page = await context.newPage();
      const cdp = await context.newCDPSession(page);
      await cdp.send('Network.enable');
      let bytes = 0;
      let requests = 0;
      cdp.on('Network.loadingFinished', (e: { encodedDataLength: number }) => {
        bytes += e.encodedDataLength;
        requests++;
      });
      // --profile: when each request of the cold pass started and ended, from navigation.
      const timeline: string[] = [];
      if (PROFILE && pass === 'cold') {
        const started = new Map<unknown, number>();
        page.on('request', (r) => started.set(r, now()));
        page.on('requestfinished', (r) => {
          const t = started.get(r);
          if (t !== undefined) timeline.push(`${(t - t0).toFixed(0).padStart(6)} → ${(now() - t0).toFixed(0).padStart(6)} ms  ${r.url().replace(url, '').slice(0, 110)}`);
        });
      }
      const problems: string[] = [];
      page.on('pageerror', (err) => problems.push(err.message));
      page.on('console', (msg) => {
        if (msg.type() === 'error') problems.push(msg.text());
      });
      await cdp.send('Performance.enable');
      if (PROFILE && pass === 'cold') {
        await cdp.send('Profiler.enable');
        await cdp.send('Profiler.setSamplingInterval', { interval: 500 });
        await cdp.send('Profiler.start');
      }
      if (TRACE && pass === 'cold') {
        await browser.startTracing(page, { path: TRACE, categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8.execute', 'blink.user_timing'] });
      }
      const cpu0 = processCpuMs(server.pid);
      const t0 = now();
      await page.goto(`${url}/#/sweeps/${sweepId}`);
      // Each view marks the page's performance timeline when it is drawn (`harrow:drawn:<view>`; a
      // chart when ECharts has painted it in full, progressive layers included): the times are
      // those marks, from the navigation's start. Waiting on them costs the page nothing, where
      // polling each chart's getOption() copied 10,000 points per poll on the thread being timed.
      // Once all are there, each view is checked once to show the API's data.
      const VIEWS = ['table', 'best', 'history', 'parallel', 'importance', 'slices', 'curves'];
      const marksOf = `Object.fromEntries(performance.getEntriesByType('mark').filter((m) => m.name.startsWith('harrow:drawn:')).map((m) => [m.name.slice(13), m.startTime]))`;
      try {
        await page.waitForFunction(`(() => { const m = ${marksOf}; return ${JSON.stringify(VIEWS)}.every((v) => v in m); })()`, undefined, { timeout: 60_000, polling: 50 });
      } catch {
        const marked = String(await page.evaluate(`Object.keys(${marksOf}).join(', ')`).catch(() => ''));
        const shown = String(await page.evaluate('document.querySelector("#main")?.innerText?.slice(0, 2000)').catch(() => ''));
        throw new Error(`the dashboard never drew ${VIEWS.filter((v) => !marked.split(', ').includes(v)).join(', ')}${problems.length ? `: ${problems.join('; ')}` : ''}; the page shows:\n${shown}`);
      }
      const seen = now() - t0;
      const marks = await page.evaluate<Record<string, number>>(marksOf);
      // When the sweep, its best and every runs page had arrived (the page's `harrow:data` mark):
      // what the server and the network took, before the page drew anything.
      const dataAt = await page.evaluate<number>("performance.getEntriesByName('harrow:data')[0]?.startTime ?? NaN");
      // Page-side checks as expressions: this file is compiled without the DOM's types.
      const chartHas = (selector: string) =>
        `(() => { const el = ${selector}; const c = el && globalThis.echarts && globalThis.echarts.getInstanceByDom(el); const o = c && c.getOption(); const s = o && o.series; return Boolean(s && s.length > 0 && (s[0].data || []).length > 0); })()`;
      const cardChart = (title: string) => `[...document.querySelectorAll('section.card')].find((c) => c.querySelector('h2')?.textContent === '${title}')?.querySelector('.chart')`;
      const shows: Record<string, string> = {
        table: `document.querySelectorAll('table.runs tbody tr').length > 0`,
        best: chartHas(cardChart('Best so far')),
        history: chartHas(cardChart('History')),
        parallel: chartHas(`document.querySelector('.chart.parallel')`),
        importance: `document.querySelectorAll('table.imp tbody tr').length > 0`,
        slices: `(() => { const all = [...document.querySelectorAll('.slice')]; return all.length > 0 && all.every((box) => ${chartHas('box')}); })()`,
        curves: chartHas(cardChart('Learning curves')),
      };
      for (const v of VIEWS) if ((await page.evaluate(shows[v]!)) !== true) throw new Error(`the dashboard marked ${v} drawn but shows no data in it`);
      const times = VIEWS.map((v): [string, number] => [v, marks[v]!]);
      const all = Math.max(...times.map(([, ms]) => ms));
      // The views a person sees on opening the page (their card starts inside the window), which
      // the page draws first; the others are drawn when they come near or the page is idle.
      const where: Record<string, string> = {
        table: `document.querySelector('table.runs')`,
        best: cardChart('Best so far'),
        history: cardChart('History'),
        parallel: `document.querySelector('.chart.parallel')`,
        importance: `document.querySelector('table.imp')`,
        slices: `document.querySelector('.slice')`,
        curves: cardChart('Learning curves'),
      };
      const firstScreen: string[] = [];
      for (const v of VIEWS) {
        if ((await page.evaluate(`(() => { const el = ${where[v]!}; const card = el && el.closest('.card'); return card ? card.getBoundingClientRect().top + scrollY < innerHeight : false; })()`)) === true) firstScreen.push(v);
      }
      const first = Math.max(...times.filter(([v]) => firstScreen.includes(v)).map(([, ms]) => ms));
      // CPU time, which a loaded machine stretches less than wall time: the controller (it runs in
      // this process) and the page's main thread (scripts, layout, paint).
      const cpu = processCpuMs(server.pid) - cpu0;
      const { metrics } = await cdp.send('Performance.getMetrics');
      const metric = (name: string) => (metrics.find((m) => m.name === name)?.value ?? 0) * 1000;
      console.log(
        `  ${pass.padEnd(5)} ${times.map(([name, ms]) => `${name} ${ms.toFixed(0)}`).join(', ')} ms   ` +
          `data in ${dataAt.toFixed(0)} ms, first screen (${firstScreen.join(', ')}) drawn ${first.toFixed(0)} ms, every view ${all.toFixed(0)} ms (seen by the bench at ${seen.toFixed(0)} ms)   ${(bytes / 1024 / 1024).toFixed(2)} MB in ${requests} requests   target < 1500 ms: first screen ${verdict(first < 1500)}, every view ${verdict(all < 1500)}`,
      );
      if (TRACE && pass === 'cold') printTrace(JSON.parse((await browser.stopTracing()).toString('utf8')) as { traceEvents: TraceEvent[] }, all);
      if (PROFILE && pass === 'cold') {
        printProfile((await cdp.send('Profiler.stop')).profile);
        const marks = await page.evaluate<string[]>(
          "performance.getEntriesByType('mark').filter((m) => m.name.startsWith('harrow:')).map((m) => m.name + ' ' + Math.round(m.startTime))",
        );
        console.log(`        page marks (ms from navigation start): ${marks.join(', ')}`);
        console.log('        requests (start → end, from navigation):');
        for (const line of timeline) console.log(`          ${line}`);
      }
      console.log(
        `        CPU: controller ${cpu.toFixed(0)} ms; page main thread ${metric('TaskDuration').toFixed(0)} ms ` +
          `(scripts ${metric('ScriptDuration').toFixed(0)} ms, layout ${metric('LayoutDuration').toFixed(0)} ms, style ${metric('RecalcStyleDuration').toFixed(0)} ms)   load average ${loadavg()[0]!.toFixed(1)}`,
      );
      await page.close();
    }
    await context.close();
  } finally {
    await browser.close();
    await server.stop();
  }
}

interface TraceEvent {
  name: string;
  ph: string;
  ts: number;
  dur?: number;
  pid: number;
  tid: number;
  args?: { name?: string; data?: { url?: string; functionName?: string } };
}

/**
 * The page's main thread from a Chromium trace (`--trace`): what it was busy with, 100 ms at a
 * time from navigation until every view was drawn, and the kinds of work that took the most.
 */
function printTrace(trace: { traceEvents: TraceEvent[] }, allMs: number): void {
  const events = trace.traceEvents;
  // The page's renderer is the one with the page's marks (the first navigation, to about:blank, has another).
  const marks = events.filter((e) => e.name.startsWith('harrow:')).sort((a, b) => a.ts - b.ts);
  const main = events.find((e) => e.ph === 'M' && e.name === 'thread_name' && e.args?.name === 'CrRendererMain' && e.pid === marks[0]?.pid);
  if (!main || marks.length === 0) return console.log('        trace: no renderer main thread with the page\'s marks found');
  const onMain = events.filter((e) => e.pid === main.pid && e.tid === main.tid && e.ph === 'X' && e.dur !== undefined);
  const navs = events.filter((e) => e.pid === main.pid && e.name === 'navigationStart' && e.ts <= marks[0]!.ts).map((e) => e.ts);
  const nav = navs.length > 0 ? Math.max(...navs) : Math.min(...onMain.map((e) => e.ts));
  console.log(`        page marks (ms from navigation): ${marks.map((m) => `${m.name.slice('harrow:'.length)} ${Math.round((m.ts - nav) / 1000)}`).join(', ')}`);
  const tasks = onMain.filter((e) => e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask');
  const buckets = new Array<number>(Math.ceil((allMs + 500) / 100)).fill(0);
  for (const t of tasks) {
    for (let ms = (t.ts - nav) / 1000, end = ms + t.dur! / 1000; ms < end && ms / 100 < buckets.length; ) {
      const b = Math.floor(ms / 100);
      const next = Math.min(end, (b + 1) * 100);
      if (b >= 0) buckets[b]! += next - ms;
      ms = next;
    }
  }
  console.log(`        main thread busy per 100 ms from navigation: ${buckets.map((b) => Math.round(b)).join(' ')}`);
  const kinds = new Map<string, number>();
  for (const e of onMain) {
    if (e.name === 'RunTask' || e.name === 'ThreadControllerImpl::RunTask') continue;
    const key = e.name === 'FunctionCall' || e.name === 'EvaluateScript' ? `${e.name} ${(e.args?.data?.url ?? '').split('/').slice(-2).join('/')}` : e.name;
    kinds.set(key, (kinds.get(key) ?? 0) + e.dur! / 1000);
  }
  console.log('        main thread work by kind (nested kinds overlap), ms:');
  for (const [k, ms] of [...kinds].sort((a, b) => b[1] - a[1]).slice(0, 20)) console.log(`          ${ms.toFixed(0).padStart(6)}  ${k}`);
  const long = tasks.filter((t) => t.dur! > 50_000).map((t) => `${Math.round((t.ts - nav) / 1000)}+${Math.round(t.dur! / 1000)}`);
  console.log(`        long tasks (start+duration ms): ${long.join(' ')}`);
}

/** The page's hottest functions by self time, from a CDP CPU profile (`--profile`). */
function printProfile(profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }>; samples?: number[]; timeDeltas?: number[] }): void {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const keyOf = (f: { functionName: string; url: string; lineNumber: number }) => `${f.functionName || '(anonymous)'} ${f.url.split('/').slice(-2).join('/')}:${f.lineNumber + 1}`;
  const self = new Map<string, number>();
  // Time under each of the page's own functions (its modules, not ECharts'), callees included.
  const under = new Map<string, number>();
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  for (let i = 0; i < samples.length; i++) {
    const f = byId.get(samples[i]!)?.callFrame;
    if (!f) continue;
    const ms = (deltas[i] ?? 0) / 1000;
    self.set(keyOf(f), (self.get(keyOf(f)) ?? 0) + ms);
    const seen = new Set<string>();
    for (let id: number | undefined = samples[i]; id !== undefined; id = parent.get(id)) {
      const g = byId.get(id)!.callFrame;
      if (!/\/(js|app\.js)/.test(g.url) || g.url.includes('/vendor/')) continue;
      const k = keyOf(g);
      if (!seen.has(k)) under.set(k, (under.get(k) ?? 0) + ms);
      seen.add(k);
    }
  }
  console.log('        page profile, self time:');
  for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`          ${ms.toFixed(0).padStart(6)} ms  ${k}`);
  console.log("        page profile, time under the page's own functions (callees included):");
  for (const [k, ms] of [...under].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(`          ${ms.toFixed(0).padStart(6)} ms  ${k}`);
}

async function main(): Promise<void> {
  if (process.argv.includes('--scale')) {
    await benchScale(process.argv.slice(2));
    return;
  }
  console.log(`# Harrow system benchmark${QUICK ? ' (quick)' : ''} — node ${process.version}, Postgres ${PG_URL.replace(/\/\/[^@]*@/, '//')}, Redis ${REDIS_URL}`);
  if (!only || only === 'throughput') await benchThroughput();
  if (!only || only === 'points') await benchPoints();
  if (!only || only === 'latency' || only === 'dashboard') await benchLatency();
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    // A bad flag is the user's mistake: its message, no stack (exit 2); anything else is a failure.
    if (err instanceof UsageError) {
      console.error(`bench: ${err.message}`);
      process.exit(2);
    }
    console.error(err);
    process.exit(1);
  },
);
