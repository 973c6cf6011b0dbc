/**
 * Early-termination decisions are a function of what Postgres holds, whichever controller makes
 * them and however often it restarted. One report sequence (claims, then metric reports of six
 * runs, interleaved) is replayed through real `harrow server` processes:
 *
 *   (a) one controller, uninterrupted;
 *   (b) a controller SIGKILLed and restarted twice mid-way;
 *   (c) two replicas consuming the same report stream;
 *
 * and the stop decisions (which runs, at which band, threshold and value) must be the same in all
 * three, and equal to `decideStops` over the curves stored when each report was ingested. Reports
 * are paced (each one stored before the next is sent) so every controller sees the same prefixes;
 * what differs is only which process holds which cache.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import { needServices, REDIS_URL } from '../helpers/services.js';
import { startHarrow, waitFor, waitForHttp, freePort, type Proc } from '../helpers/processes.js';
import { createSweep, setUp, tearDown } from '../helpers/harness.js';
import { FakeAgent, newToken } from '../integration/controller/controller-harness.js';
import { redisKeys } from '../../protocol/wire.js';
import { allocateRunNumbers } from '../../db/sweeps.js';
import { insertRuns } from '../../db/runs.js';
import { parseSweepConfig } from '../../strategies/spec/parse-sweep-config.js';
import { decideStops, type RunCurve } from '../../strategies/early-terminate/index.js';
import type { CurveRuleSpec } from '../../strategies/types.js';

const opts = await needServices();

const SWEEP = `
method: random
metric: {name: loss, goal: minimize}
program: train.py
parameters:
  x: {min: 0.0, max: 1.0}
early_terminate: {type: hyperband, min_iter: 2, eta: 2}
`;
const RUNS = 6;
const VALUES_PER_RUN = 12;

/** One metric report: run index and the loss values it carries (plus one `acc` point, not the metric). */
interface Report {
  run: number;
  values: number[];
}

/** Deterministic curves of different quality; reports of 1 or 2 values, runs interleaved unevenly. */
function reportSequence(): Report[] {
  const curves = Array.from({ length: RUNS }, (_, i) =>
    Array.from({ length: VALUES_PER_RUN }, (_, t) => Math.round((1 + 0.37 * ((i * 5) % RUNS)) * 0.9 ** t * 1e4 + ((i * 7 + t * 3) % 11)) / 1e4),
  );
  const sent = new Array<number>(RUNS).fill(0);
  const out: Report[] = [];
  for (let r = 0; out.length < 200; r++) {
    const run = (r * 5 + (r >> 2)) % RUNS;
    if (sent[run]! >= VALUES_PER_RUN) {
      if (sent.every((n) => n >= VALUES_PER_RUN)) break;
      continue;
    }
    const n = Math.min((r % 3 === 0 ? 2 : 1) + (run === 0 && r < 6 ? 1 : 0), VALUES_PER_RUN - sent[run]!);
    out.push({ run, values: curves[run]!.slice(sent[run], sent[run]! + n) });
    sent[run]! += n;
  }
  return out;
}

/** What decideStops gives when each report is judged on exactly the curves stored at that moment. */
function expectedDecisions(reports: Report[]): Map<number, Decision> {
  const spec = parseSweepConfig(SWEEP);
  const curves: Array<{ runId: string; state: RunCurve['state']; values: number[] }> = Array.from({ length: RUNS }, (_, i) => ({
    runId: String(i),
    state: 'running',
    values: [],
  }));
  const first = new Map<number, Decision>();
  for (const r of reports) {
    curves[r.run]!.values.push(...r.values);
    for (const d of decideStops(spec.earlyTerminate as CurveRuleSpec, 'minimize', curves, [String(r.run)])) {
      const run = Number(d.runId);
      if (!first.has(run)) first.set(run, { rule: d.rule, band: d.band ?? null, threshold: d.threshold, value: d.value, at: d.at });
    }
  }
  return first;
}

interface Decision {
  rule: string;
  band: number | null;
  threshold: number;
  value: number;
  at: number;
}

type Scenario = 'uninterrupted' | 'killed' | 'replicas';

async function replay(scenario: Scenario, reports: Report[]): Promise<Map<number, Decision>> {
  const env = await setUp(`et_${scenario.slice(0, 4)}`);
  const servers: Proc[] = [];
  const start = async (port: number): Promise<Proc> => {
    const p = startHarrow(['server'], { ...env.controllerEnv, HARROW_PORT: String(port), HARROW_CRASH_TIMEOUT_MS: '600000' });
    env.procs.push(p);
    servers.push(p);
    await waitForHttp(`http://127.0.0.1:${port}`);
    return p;
  };
  const redis = new Redis(REDIS_URL);
  try {
    const port = Number(new URL(env.url).port);
    let current = await start(port);
    if (scenario === 'replicas') await start(await freePort());
    const sweep = await createSweep(env, SWEEP);
    const agent = new FakeAgent(redis, redisKeys(env.prefix), sweep.id);
    const runIds: string[] = [];
    const tokens: string[] = [];
    await env.db.transaction(async (tx) => {
      const n = await allocateRunNumbers(tx, sweep.id, RUNS);
      const rows = await insertRuns(
        tx,
        Array.from({ length: RUNS }, (_, i) => ({ id: `${sweep.id}-${n + i}`, sweepId: sweep.id, number: n + i, params: { x: i / RUNS }, paramsHash: `h${i}`, proposal: null })),
        'proposed by test',
      );
      runIds.push(...rows.map((r) => r.id));
    });
    for (const id of runIds) {
      const token = newToken();
      tokens.push(token);
      await agent.claim(id, token);
    }
    await waitFor('every claim accepted', async () => {
      const { rows } = await env.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND state = 'running'`, [sweep.id]);
      return rows[0]!.n === RUNS;
    }, 20_000, 50);

    const stored = new Array<number>(RUNS).fill(0);
    // Before reports that bring a run across a band: a restarted controller that counted the
    // first batch after its start twice (the bug this test was written for) judged them at the
    // wrong band. Report 30 is a quiet point: a restart there must change nothing either.
    const killAt = new Set([4, 12, 30]);
    for (const [k, r] of reports.entries()) {
      if (scenario === 'killed' && killAt.has(k)) {
        current.child.kill('SIGKILL');
        await current.exited;
        current = await start(port);
      }
      await agent.metrics(runIds[r.run]!, tokens[r.run]!, [...r.values.map((v, j): [number, string, number] => [stored[r.run]! + j, 'loss', v]), [stored[r.run]!, 'acc', 0.5]]);
      stored[r.run]! += r.values.length;
      // Paced: the report is stored (and the decision it led to, recorded in the same transaction)
      // before the next is sent, so every scenario judges each report on the same stored curves.
      const want = stored[r.run]!;
      await waitFor(`report ${k} stored`, async () => {
        const { rows } = await env.db.query<{ n: number }>(`SELECT count(*)::int AS n FROM metrics WHERE run_id = $1 AND name = 'loss'`, [runIds[r.run]!]);
        return rows[0]!.n === want;
      }, 20_000, 20);
    }
    // Stops are recorded with the batch that decided them; the pause covers a controller that
    // (as before this test existed) records them only after its commit.
    await new Promise((r) => setTimeout(r, 500));
    const { rows } = await env.db.query<{ id: string; stop_info: (Decision & { band?: number }) | null }>(
      `SELECT id, stop_info FROM runs WHERE sweep_id = $1 ORDER BY number`,
      [sweep.id],
    );
    const out = new Map<number, Decision>();
    for (const row of rows) {
      const info = row.stop_info;
      if (!info) continue;
      out.set(runIds.indexOf(row.id), { rule: info.rule, band: info.band ?? null, threshold: info.threshold, value: info.value, at: info.at });
    }
    return out;
  } catch (err) {
    const logs = servers.map((p, i) => `--- controller ${i} ---\n${p.output().slice(-3000)}`).join('\n');
    throw new Error(`${(err as Error).message}\n${logs}`);
  } finally {
    await redis.quit();
    await tearDown(env);
  }
}

const sorted = (m: Map<number, Decision>) => [...m.entries()].sort((a, b) => a[0] - b[0]);

describe('early-termination decisions are a function of what is stored', { ...opts, timeout: 240_000 }, () => {
  const reports = reportSequence();
  const expected = expectedDecisions(reports);

  test('the report sequence stops some runs and not others (the test can tell decisions apart)', () => {
    assert.ok(expected.size >= 2 && expected.size < RUNS, `expected stops: ${JSON.stringify(sorted(expected))}`);
  });

  for (const scenario of ['uninterrupted', 'killed', 'replicas'] as const) {
    test(`${scenario}: the stop decisions equal decideStops over the stored curves`, async (t) => {
      const got = await replay(scenario, reports);
      t.diagnostic(`${scenario}: ${JSON.stringify(sorted(got))}`);
      assert.deepEqual(sorted(got), sorted(expected));
    });
  }
});
