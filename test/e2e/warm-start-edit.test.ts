/**
 * End to end, real processes (`harrow server`, `harrow agent` running a Python script) on real
 * Postgres and Redis (issue 15, points 3 and 4): a sweep warm-started from a finished sweep runs
 * only its own runs while its strategy starts from the imported ones; a sweep edited mid-run (range
 * narrowed, a parameter added with its default) makes its later runs in the new space while the
 * earlier ones stay as they were.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { needServices } from '../helpers/services.js';
import { api, waitFor, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, sweepState, tearDown, waitFinished } from '../helpers/harness.js';
import type { EditSpecResponse, SpecVersionsResponse, SweepDetail } from '../../protocol/api.js';

const opts = await needServices();

const sweepYaml = (method: string, runCap: number, sleep: number, extra = '') => `
method: ${method}
metric: {name: loss, goal: minimize}
run_cap: ${runCap}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: 3}
  sleep: {value: ${sleep}}
${extra}`;

interface RunRow {
  number: number;
  state: string;
  params: Record<string, unknown>;
  proposal: { source?: string; specVersion?: number } | null;
}

describe('warm start and edits, end to end', { ...opts, timeout: 240_000 }, () => {
  test('a sweep warm-started from a finished one runs its own runs only, the GP starting from the imported results', async () => {
    const env = await setUp('e2e_warm');
    try {
      controller(env);
      await waitForHttp(env.url);
      const a = await createSweep(env, sweepYaml('bayes', 6, 0.02));
      agent(env, a.id);
      await waitFinished(env, a.id);

      const b = await createSweep(env, sweepYaml('bayes', 3, 0.02, `harrow: {warm_start: {from: ${a.id}}}`));
      assert.equal(b.imported?.count, 6);
      agent(env, b.id);
      await waitFinished(env, b.id);
      const detail = await api<SweepDetail>(env.url, `/api/sweeps/${b.id}`);
      assert.equal(detail.counts.finished, 3, 'run_cap counts its own runs only');
      assert.equal(detail.imported?.count, 6);
      const { rows } = await env.db.query<RunRow>(`SELECT number, state, params, proposal FROM runs WHERE sweep_id = $1 ORDER BY number`, [b.id]);
      assert.equal(rows.length, 3);
      // One searched dimension: an initial design of 5, covered by the 6 imported runs.
      assert.deepEqual(rows.map((r) => r.proposal?.source), ['gp', 'gp', 'gp']);
    } finally {
      await tearDown(env);
    }
  });

  test('an edit mid-sweep: later runs in the new space, earlier ones kept; versions listed', async () => {
    const env = await setUp('e2e_edit');
    try {
      controller(env);
      await waitForHttp(env.url);
      const s = await createSweep(env, sweepYaml('random', 10, 0.3));
      agent(env, s.id);
      await waitFor('3 finished runs', async () => ((await sweepState(env, s.id)).counts.finished >= 3 ? true : undefined), 60_000, 200);

      const edited = sweepYaml('random', 10, 0.3, '  extra: {values: [1, 2], default: 1}').replace('x: {min: 0.0, max: 1.0}', 'x: {min: 0.0, max: 0.2}');
      const res = await api<EditSpecResponse>(env.url, `/api/sweeps/${s.id}/spec`, { method: 'PATCH', body: JSON.stringify({ config: edited }) });
      assert.equal(res.version.version, 2);
      await waitFinished(env, s.id);

      const { rows } = await env.db.query<RunRow>(`SELECT number, state, params, proposal FROM runs WHERE sweep_id = $1 ORDER BY number`, [s.id]);
      assert.equal(rows.length, 10);
      // Each run proposed after the edit records the spec version that proposed it.
      const later = rows.filter((r) => r.proposal?.specVersion === 2);
      assert.ok(later.length >= 5, `runs made after the edit: ${later.length}`);
      for (const r of later) {
        assert.ok((r.params.x as number) <= 0.2, `run ${r.number} in the narrowed range: ${JSON.stringify(r.params)}`);
        assert.ok(r.params.extra === 1 || r.params.extra === 2, `run ${r.number} has the added parameter`);
      }
      const earlier = rows.filter((r) => r.proposal?.specVersion === undefined);
      assert.equal(earlier.length + later.length, 10);
      assert.ok(earlier.every((r) => r.params.extra === undefined), 'earlier runs keep the parameters they ran with');
      assert.ok(rows.every((r) => r.state === 'finished'));

      const versions = await api<SpecVersionsResponse>(env.url, `/api/sweeps/${s.id}/spec/versions`);
      assert.deepEqual(versions.versions.map((v) => v.version), [1, 2]);
      assert.equal(versions.lineage.runs, 10);
      assert.equal(versions.lineage.runsOutside, earlier.filter((r) => (r.params.x as number) > 0.2).length);
    } finally {
      await tearDown(env);
    }
  });
});
