/**
 * `npm run bench:event-loop`: no request holds the controller's event loop for more than 100 ms.
 *
 * Starts a controller (`harrow server`, its own process, on a fresh Postgres schema and a unique
 * Redis prefix), then sends each of the worst inputs in turn (bench/worst-inputs.ts: sweep files
 * at the size limit in every costly shape, huge strings where names go, many parameters, long ids
 * and query values; plus the biggest metrics reports an agent can post, for a run it claimed over
 * the HTTP agent protocol, which the controller then ingests). During each input, and for a
 * settle time after it (ingestion happens after the answer), a loop asks /healthz every 10 ms;
 * the controller's own worst event-loop delay over the window comes from its /metrics
 * (prom-client's nodejs_eventloop_lag_max_seconds, reset at each scrape). The baseline is the same
 * window with no input. Target: a worst loop delay under 100 ms (absolute) for every input.
 *
 * Needs Postgres (HARROW_BENCH_DATABASE_URL) and Redis (REDIS_URL), as `npm run bench`. With
 * HARROW_BENCH_CPU_PROF=DIR the controller runs under `node --cpu-prof` and leaves its profiles
 * in DIR (open them in Chrome's DevTools to see what held the loop).
 */
import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { freePort } from '../cli/net.js';
import { AGENT_API } from '../protocol/agent-http.js';
import { MAX_REPORT_POINTS, WIRE_VERSION } from '../protocol/wire.js';
import { REDIS_URL, withSchema } from './system-harness.js';
import { sendInput, worstInputs, type WorstInput } from './worst-inputs.js';

const BIN = fileURLToPath(new URL('../../bin/harrow', import.meta.url));
const TARGET_MS = 100;
/** After each input's answer: the ingestion of a metrics report happens after it. */
const SETTLE_MS = 1500;
const HEALTH_EVERY_MS = 10;
const BASELINE_WINDOWS = 3;
/** Reports posted at once, each of the most points a report may carry (MAX_REPORT_POINTS). */
const REPORTS_AT_ONCE = 8;

interface Row {
  what: string;
  status: string;
  requestMs: number;
  healthMs: number;
  loopMs: number;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function lagMaxMs(base: string): Promise<number> {
  const text = await (await fetch(`${base}/metrics`)).text();
  const m = /^nodejs_eventloop_lag_max_seconds(?:\{[^}]*\})? ([0-9.e+-]+)$/m.exec(text);
  if (!m) throw new Error('the controller /metrics has no nodejs_eventloop_lag_max_seconds');
  return Number(m[1]) * 1000;
}

/** One window: `send` (or nothing) while /healthz is polled, then SETTLE_MS more. */
async function measure(base: string, what: string, send: (() => Promise<number>) | null): Promise<Row> {
  await lagMaxMs(base); // resets the controller's histogram
  let polling = true;
  let healthMs = 0;
  const poller = (async () => {
    while (polling) {
      const t = performance.now();
      const res = await fetch(`${base}/healthz`);
      await res.arrayBuffer();
      healthMs = Math.max(healthMs, performance.now() - t);
      await sleep(HEALTH_EVERY_MS);
    }
  })();
  const t = performance.now();
  const status = send ? String(await send()) : '-';
  const requestMs = performance.now() - t;
  await sleep(SETTLE_MS);
  polling = false;
  await poller;
  return { what, status, requestMs: send ? requestMs : 0, healthMs, loopMs: await lagMaxMs(base) };
}

async function postJson(base: string, path: string, body: unknown): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${base}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  return { status: res.status, body: (await res.json()) };
}

/** A run claimed over the HTTP agent protocol, so that its metrics reports are ingested for real. */
async function claimRun(base: string): Promise<{ sweepId: string; runId: string; token: string; agentId: string }> {
  const sweep = await postJson(base, '/api/sweeps', {
    config: { method: 'random', program: 't.py', metric: { name: 'loss', goal: 'minimize' }, parameters: { x: { min: 0, max: 1 } } },
  });
  if (sweep.status !== 201 && sweep.status !== 200) throw new Error(`creating the sweep answered ${sweep.status}: ${JSON.stringify(sweep.body)}`);
  const sweepId = (sweep.body as { id: string }).id;
  const agentId = 'bench-agent';
  await postJson(base, `${AGENT_API}/sweeps/${sweepId}/poll`, { presence: { agentId, host: 'bench', slots: 1, busy: 0, accepting: true, at: Date.now() }, runs: [], heartbeat: false });
  const token = randomUUID();
  const claim = await postJson(base, `${AGENT_API}/sweeps/${sweepId}/claim`, { agentId, host: 'bench', gpu: null, token, waitMs: 20_000 });
  const body = claim.body as { kind: string; job?: { runId: string }; answer?: { verdict: string } };
  if (body.kind !== 'run' || body.answer?.verdict !== 'accepted') throw new Error(`no run claimed: ${JSON.stringify(body).slice(0, 300)}`);
  return { sweepId, runId: body.job!.runId, token, agentId };
}

/** Metrics reports of a claimed run: `count` at once, of `points` points each, seqs continuing. */
function reportBatch(run: { sweepId: string; runId: string; token: string; agentId: string }) {
  let seq = 0;
  const t = Date.now();
  return (what: string, count: number, points: number, name: (i: number) => string): { what: string; send: (base: string) => Promise<number> } => {
    const bodies = Array.from({ length: count }, () =>
      JSON.stringify({
        v: WIRE_VERSION,
        type: 'metrics',
        sweepId: run.sweepId,
        agentId: run.agentId,
        runId: run.runId,
        token: run.token,
        points: Array.from({ length: points }, (_, i) => ({ seq: ++seq, step: seq, name: name(i), value: 1 / (i + 1), t })),
      }),
    );
    const input = (body: string): WorstInput => ({ what, method: 'POST', path: `${AGENT_API}/sweeps/${run.sweepId}/reports`, contentType: 'application/json', body });
    return {
      what,
      send: async (base) => {
        const statuses = await Promise.all(bodies.map((b) => sendInput(base, input(b))));
        return Math.max(...statuses);
      },
    };
  };
}

function reportInputs(run: { sweepId: string; runId: string; token: string; agentId: string }): Array<{ what: string; send: (base: string) => Promise<number> }> {
  const batch = reportBatch(run);
  const k = MAX_REPORT_POINTS / 1000;
  return [
    batch(`metrics report of 20k points (over the bound)`, 1, 20_000, () => 'loss'),
    batch(`${REPORTS_AT_ONCE} metrics reports of ${k}k points at once, one metric`, REPORTS_AT_ONCE, MAX_REPORT_POINTS, () => 'loss'),
    batch(`${REPORTS_AT_ONCE} metrics reports of ${k}k points at once, ${k}k metrics`, REPORTS_AT_ONCE, MAX_REPORT_POINTS, (i) => `m${i}`),
  ];
}

async function main(): Promise<void> {
  await withSchema(async (url) => {
    const port = await freePort();
    const base = `http://127.0.0.1:${port}`;
    const prof = process.env.HARROW_BENCH_CPU_PROF;
    const child = spawn(process.execPath, [...(prof ? ['--cpu-prof', `--cpu-prof-dir=${prof}`] : []), BIN, 'server'], {
      env: {
        ...process.env,
        DATABASE_URL: url,
        REDIS_URL,
        HARROW_PREFIX: `bench-loop-${randomBytes(3).toString('hex')}`,
        HARROW_PORT: String(port),
        HARROW_CRASH_TIMEOUT_MS: String(10 * 60_000),
        HARROW_LOG_LEVEL: 'error',
      },
      stdio: ['ignore', 'inherit', 'inherit'],
    });
    try {
      for (let i = 0; ; i++) {
        if ((await fetch(`${base}/healthz`).then((r) => r.ok, () => false)) === true) break;
        if (i > 300) throw new Error('the controller did not start');
        await sleep(100);
      }
      const run = await claimRun(base);
      const baseline: Row[] = [];
      for (let i = 0; i < BASELINE_WINDOWS; i++) baseline.push(await measure(base, 'baseline (no input)', null));
      const rows: Row[] = [];
      for (const input of worstInputs()) rows.push(await measure(base, input.what, () => sendInput(base, input)));
      for (const input of reportInputs(run)) rows.push(await measure(base, input.what, () => input.send(base)));

      const worstBase: Row = {
        what: `baseline: no input (worst of ${BASELINE_WINDOWS})`,
        status: '-',
        requestMs: 0,
        healthMs: Math.max(...baseline.map((b) => b.healthMs)),
        loopMs: Math.max(...baseline.map((b) => b.loopMs)),
      };
      const fmt = (n: number) => n.toFixed(0).padStart(8);
      console.log(`controller event loop under the worst inputs (target: worst loop delay < ${TARGET_MS} ms, absolute; window = request + ${SETTLE_MS} ms)`);
      console.log(`${'input'.padEnd(58)} status  request  /healthz  loop max  target`);
      console.log(`${worstBase.what.padEnd(58)} ${'-'.padEnd(6)} ${fmt(0)} ${fmt(worstBase.healthMs)}  ${fmt(worstBase.loopMs)}  ${TARGET_MS} ms`);
      for (const r of rows) {
        console.log(`${r.what.padEnd(58)} ${r.status.padEnd(6)} ${fmt(r.requestMs)} ${fmt(r.healthMs)}  ${fmt(r.loopMs)}  ${r.loopMs < TARGET_MS ? 'PASS' : 'FAIL'}`);
      }
      const worst = rows.reduce((a, b) => (b.loopMs > a.loopMs ? b : a));
      console.log(`worst loop delay: ${worst.loopMs.toFixed(0)} ms (${worst.what}); baseline ${worstBase.loopMs.toFixed(0)} ms; target ${TARGET_MS} ms: ${rows.every((r) => r.loopMs < TARGET_MS) ? 'PASS' : 'FAIL'}`);
    } finally {
      child.kill('SIGTERM');
      await new Promise((resolve) => child.once('exit', resolve));
    }
  });
}

await main();
