/**
 * Warm start and spec edits through the whole controller (issue 15, points 3 and 4), on real
 * Postgres and on PGlite, with real Redis: a sweep seeded from another sweep's runs and from a
 * W&B / MLflow export (imported, never counted as its runs, learned from by the GP), refused for an
 * unknown or incompatible source; a running sweep edited (narrowed, a parameter added with its
 * default), its versions listed with author, runs outside the new space counted, new runs inside it,
 * and edits the data cannot support refused with the reason.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import {
  EditSpecResponseSchema,
  ListRunsResponseSchema,
  SpecVersionsResponseSchema,
  WarmStartResponseSchema,
} from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { FakeAgent, createSweep, expectError, expectOk, finishRuns, getRun, getSweep, http, postJson, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const loss = (p: Record<string, unknown>) => ((p.x as number) - 0.3) ** 2 + ((p.y as number) - 0.6) ** 2;

const BAYES = (extra = '') => `
method: bayes
metric: {name: loss, goal: minimize}
program: train.py
run_cap: 20
parameters:
  x: {min: 0.0, max: 1.0}
  y: {min: 0.0, max: 1.0}
${extra}`;

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`warm start and spec edits (${backend})`, { ...opts, timeout: 180_000 }, () => {
    let c: TestController;
    let url: string;

    before(async () => {
      // No lookahead: the runs queued are exactly the ones the fake agent asks for, so the runs made
      // before and after an edit are told apart by number.
      c = await startTestController({ backend, env: { HARROW_LOOKAHEAD: '0' } });
      url = c.url;
    });
    after(async () => {
      await c?.close();
    });

    const listRuns = (id: string, q = '') => expectOk(ListRunsResponseSchema, http(url, `/api/sweeps/${id}/runs${q}`));
    const patch = (id: string, yaml: string) => http(url, `/api/sweeps/${id}/spec`, { method: 'PATCH', headers: { 'content-type': 'text/yaml' }, body: yaml });

    test('a sweep warm-started from another: imported, not its runs, and the GP starts at once', async () => {
      const a = await createSweep(url, BAYES());
      await finishRuns(url, new FakeAgent(c.redis, c.keys, a.id), 6, loss);

      const b = await createSweep(url, BAYES(`harrow: {warm_start: {from: ${a.id}}}`));
      assert.equal(b.warmStart?.imported, 6);
      assert.deepEqual(b.imported, { count: 6, sources: [{ source: `sweep:${a.id}`, count: 6 }] });
      assert.equal(b.counts.finished ?? 0, 0);
      assert.equal(b.best, null);
      assert.equal((await listRuns(b.id)).total, 0, 'imported results are not runs of the sweep');

      // Six finished results are more than the initial design of 5 for two dimensions: the first
      // run of the warm-started sweep is already a GP proposal (a cold sweep's is quasi-random).
      const agent = new FakeAgent(c.redis, c.keys, b.id);
      await finishRuns(url, agent, 1, loss);
      const runs = await listRuns(b.id, '?sort=number');
      assert.equal(runs.total, 1);
      const first = await getRun(url, runs.runs[0]!.id);
      assert.equal(first.number, 1);
      assert.equal(first.proposal?.source, 'gp', `first proposal: ${JSON.stringify(first.proposal)}`);
      const after = await getSweep(url, b.id);
      assert.ok(after.best && runs.runs.some((r) => r.id === after.best!.runId), "the best is one of the sweep's own runs");
      assert.equal(after.imported?.count, 6);
    });

    test('an unknown or incompatible source is refused, and no sweep is created', async () => {
      const before = (await http<{ sweeps: unknown[] }>(url, '/api/sweeps')).body;
      const unknown = await expectError(http(url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: BAYES('harrow: {warm_start: {from: sw_nope}}') }), 400, 'INVALID_SWEEP_CONFIG');
      assert.match(unknown.message, /harrow\.warm_start\.from: there is no sweep 'sw_nope'/);
      const other = await createSweep(url, BAYES().replace('name: loss', 'name: acc'));
      const mismatch = await expectError(http(url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: BAYES(`harrow: {warm_start: {from: ${other.id}}}`) }), 400, 'INVALID_SWEEP_CONFIG');
      assert.match(mismatch.message, /measures acc, this sweep loss: their results are not comparable/);
      const now = (await http<{ sweeps: unknown[] }>(url, '/api/sweeps')).body;
      assert.equal(now.sweeps.length, before.sweeps.length + 1, 'only the acc sweep was created');
    });

    test('a W&B CSV and an MLflow JSON export: rows outside the space counted with the reason; bad rows named', async () => {
      const s = await createSweep(url, BAYES());
      const csv = ['Name,State,x,y,loss', 'r1,finished,0.1,0.2,0.3', 'r2,finished,0.5,1.5,0.1', 'r3,running,0.2,0.2,', 'r4,failed,0.9,0.9,'].join('\n');
      const res = await expectOk(WarmStartResponseSchema, postJson(url, `/api/sweeps/${s.id}/warm-start`, { content: csv, name: 'wandb.csv' }), 201);
      assert.equal(res.import.format, 'wandb-csv');
      assert.equal(res.import.imported, 2);
      assert.equal(res.import.skipped, 2);
      assert.deepEqual(res.import.examples, [
        { row: 'row 3', reason: 'outside the space: y 1.5 is outside [0, 1]' },
        { row: 'row 4', reason: 'still running: no result yet' },
      ]);
      const mlflow = JSON.stringify([{ run_id: 'm1', status: 'FINISHED', 'params.x': '0.3', 'params.y': '0.6', 'metrics.loss': 0.0 }]);
      const res2 = await expectOk(WarmStartResponseSchema, postJson(url, `/api/sweeps/${s.id}/warm-start`, { content: mlflow, name: 'mlflow.json' }), 201);
      assert.equal(res2.import.format, 'mlflow-json');
      assert.equal(res2.sweep.imported?.count, 3);
      assert.equal(res2.sweep.best, null, 'an imported result is never the best');
      // The raw CSV as the body works too.
      const raw = await expectOk(WarmStartResponseSchema, http(url, `/api/sweeps/${s.id}/warm-start`, { method: 'POST', headers: { 'content-type': 'text/csv' }, body: 'x,y,loss\n0.4,0.4,0.2\n' }), 201);
      assert.equal(raw.import.imported, 1);
      const bad = await expectError(postJson(url, `/api/sweeps/${s.id}/warm-start`, { content: 'x,y,loss\n0.1,0.1,oops\n', name: 'bad.csv' }), 400, 'INVALID_REQUEST');
      assert.match(bad.message, /^bad\.csv: row 2, column "loss": "oops" is not a number/);
      await expectError(postJson(url, '/api/sweeps/sw_none/warm-start', { content: csv }), 404, 'SWEEP_NOT_FOUND');
      assert.equal((await listRuns(s.id)).total, 0);
    });

    test('edit a running sweep: narrowed, a parameter added with its default; versions and lineage; refusals', async () => {
      const s = await createSweep(url, BAYES().replace('method: bayes', 'method: random'));
      const agent = new FakeAgent(c.redis, c.keys, s.id);
      await finishRuns(url, agent, 4, loss);
      const before = await listRuns(s.id);
      const outside = before.runs.filter((r) => (r.params.x as number) > 0.5).length;

      const edited = `
method: random
metric: {name: loss, goal: minimize, target: 0.001}
program: train.py
run_cap: 30
parameters:
  x: {min: 0.0, max: 0.5}
  y: {min: 0.0, max: 1.0}
  z: {values: [1, 2, 3], default: 1}
`;
      const res = await expectOk(EditSpecResponseSchema, patch(s.id, edited));
      assert.equal(res.version.version, 2);
      assert.deepEqual(res.version.changes, [
        'metric.target: none → 0.001',
        'parameters.x: uniform [0, 1] → uniform [0, 0.5]',
        'parameters.z: added (values [1,2,3]), earlier runs taken as 1',
        'run_cap: 20 → 30',
      ]);
      assert.equal(res.lineage.runs, 4);
      assert.equal(res.lineage.runsOutside, outside);
      assert.equal(res.sweep.runCap, 30);
      assert.equal(res.sweep.specVersion, 2);

      const versions = await expectOk(SpecVersionsResponseSchema, http(url, `/api/sweeps/${s.id}/spec/versions`));
      assert.deepEqual(versions.versions.map((v) => [v.version, v.author, v.changes[0]]), [
        [1, 'anonymous', 'created'],
        [2, 'anonymous', 'metric.target: none → 0.001'],
      ]);
      assert.ok(Date.parse(versions.versions[1]!.createdAt) >= Date.parse(versions.versions[0]!.createdAt));

      // New runs come from the new space; the earlier ones stay visible as they were.
      await finishRuns(url, agent, 3, loss);
      const all = await listRuns(s.id, '?limit=100&sort=number');
      assert.equal(all.total, 7);
      for (const r of all.runs.slice(4)) {
        assert.ok((r.params.x as number) <= 0.5, `new run ${r.id} inside the narrowed range: ${JSON.stringify(r.params)}`);
        assert.ok([1, 2, 3].includes(r.params.z as number), `new run ${r.id} has z`);
      }
      assert.deepEqual(all.runs.slice(0, 4).map((r) => r.params), before.runs.sort((a, b) => a.number - b.number).map((r) => r.params));

      const refused = async (yaml: string, pattern: RegExp) => {
        const e = await expectError(patch(s.id, yaml), 400, 'INVALID_REQUEST');
        assert.match(e.message, pattern);
      };
      await refused(edited.replace('name: loss', 'name: acc'), /metric\.name cannot change \(loss → acc\)/);
      await refused(edited.replace('method: random', 'method: bayes'), /method cannot change \(random → bayes\)/);
      await refused(edited.replace('z: {values: [1, 2, 3], default: 1}', 'z: {values: [1, 2, 3]}\n  w: {min: 0.0, max: 1.0}'), /parameters\.w is new: give it a default/);
      await refused(edited.replace('z: {values: [1, 2, 3], default: 1}', 'z: {values: [a, b]}'), /parameters\.z: values \[1,2,3\] → values \["a","b"\] changes its type/);
      await refused(edited.replace('run_cap: 30', 'run_cap: 5'), /run_cap 5 is below the 7 runs made already/);
      const history = await expectOk(SpecVersionsResponseSchema, http(url, `/api/sweeps/${s.id}/spec/versions`));
      assert.equal(history.current, 2, 'a refused edit makes no version');
      const audit = await waitFor('audit entries', async () => {
        const r = await http<{ entries: Array<{ action: string; outcome: string }> }>(url, `/api/audit?sweep=${s.id}`);
        const e = r.body.entries?.filter((x) => x.action === 'edit') ?? [];
        return e.length >= 6 ? e : undefined;
      });
      assert.equal(audit.filter((x) => x.outcome === 'ok').length, 1);
    });
  });
}
