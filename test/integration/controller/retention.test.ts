/**
 * Retention (HARROW_RETENTION_DAYS) on real Postgres and on PGlite: a sweep whose end is set in
 * the past (the clock this test controls is `sweeps.ended_at`) loses its metric points and output
 * tails; its runs keep state, parameters, summary and value, the sweep its best and curve; a
 * recent sweep keeps everything. `harrow retention --dry-run` lists what would go and changes
 * nothing; a pass while another replica holds the lock does nothing.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { BestResponseSchema, ListRunsResponseSchema, SweepDetailSchema, type RunDetail } from '../../../protocol/api.js';
import { RetentionResponseSchema } from '../../../protocol/data-lifecycle-api.js';
import { retentionCommand } from '../../../cli/commands/retention.js';
import { tryRetentionLock } from '../../../db/retention.js';
import { needServices } from '../../helpers/services.js';
import { FakeAgent, createSweep, expectError, expectOk, finishRuns, getRun, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const yaml = (name: string) => [`name: ${name}`, 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

async function finishedSweep(c: TestController, name: string): Promise<{ id: string; runs: RunDetail[] }> {
  const sweep = await createSweep(c.url, yaml(name));
  const agent = new FakeAgent(c.redis, c.keys, sweep.id);
  await finishRuns(c.url, agent, 3, (p) => Number(p.x));
  await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${sweep.id}/stop`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
  const list = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?state=finished`));
  return { id: sweep.id, runs: await Promise.all(list.runs.map((r) => getRun(c.url, r.id))) };
}

async function pointsOf(c: TestController, sweepId: string): Promise<number> {
  const { rows } = await c.handle.ctx.db.query<{ n: number }>('SELECT count(*)::int AS n FROM metrics m JOIN runs r ON r.id = m.run_id WHERE r.sweep_id = $1', [sweepId]);
  return rows[0]!.n;
}

/** What must survive retention: everything of the run but its points and tail. */
function summaryOf(r: RunDetail): unknown {
  return { id: r.id, state: r.state, params: r.params, value: r.value, valueStep: r.valueStep, latest: r.latest, summary: r.summary, reason: r.reason, endedAt: r.endedAt, events: r.events };
}

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`retention on ${backend}`, { ...opts, timeout: 300_000 }, () => {
    let c: TestController;
    beforeEach(async () => {
      c = await startTestController({ backend, env: { HARROW_RETENTION_DAYS: '30' } });
    });
    afterEach(async () => {
      await c?.close();
    });

    test('old sweeps lose points and tails, keep summaries and best; recent ones keep everything', async () => {
      const old = await finishedSweep(c, 'old');
      const recent = await finishedSweep(c, 'recent');
      const running = await createSweep(c.url, yaml('still-running'));
      // 31 days ago, and a day short of the limit: only the first qualifies.
      await c.handle.ctx.db.query(`UPDATE sweeps SET ended_at = now() - interval '31 days' WHERE id = $1`, [old.id]);
      await c.handle.ctx.db.query(`UPDATE sweeps SET ended_at = now() - interval '29 days' WHERE id = $1`, [recent.id]);
      assert.ok(old.runs.every((r) => r.outputTail !== null && Object.keys(r.metrics).length > 0), 'runs have tails and points before');
      const bestBefore = await expectOk(BestResponseSchema, http(c.url, `/api/sweeps/${old.id}/best`));
      const oldPoints = await pointsOf(c, old.id);
      const recentPoints = await pointsOf(c, recent.id);
      assert.ok(oldPoints >= 3 && recentPoints >= 3);

      // The dry run lists the old sweep only, and changes nothing.
      let out = '';
      const io = { env: { HARROW_URL: c.url }, stdout: { write: (s: string) => (out += s) } };
      assert.equal(await retentionCommand.runWith(['--dry-run', '--json'], io), 0);
      const dry = RetentionResponseSchema.parse(JSON.parse(out));
      assert.equal(dry.days, 30);
      assert.equal(dry.applied, false);
      assert.deepEqual(dry.sweeps.map((s) => s.id), [old.id]);
      assert.equal(dry.sweeps[0]!.points, oldPoints);
      assert.equal(dry.sweeps[0]!.tails, old.runs.length);
      out = '';
      assert.equal(await retentionCommand.runWith(['--dry-run'], io), 0);
      assert.match(out, new RegExp(`would remove ${oldPoints} metric points and ${old.runs.length} output tails of 1 sweep`));
      assert.equal(await pointsOf(c, old.id), oldPoints, 'a dry run removes nothing');

      // The pass.
      const pass = await expectOk(RetentionResponseSchema, http(c.url, '/api/retention', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
      assert.deepEqual(pass.sweeps.map((s) => s.id), [old.id]);
      assert.equal(pass.points, oldPoints);
      assert.equal(pass.tails, old.runs.length);
      assert.equal(await pointsOf(c, old.id), 0, 'old points are gone');
      for (const before of old.runs) {
        const after = await getRun(c.url, before.id);
        assert.equal(after.outputTail, null, 'old tail is gone');
        assert.deepEqual(after.metrics, {}, 'old history is gone');
        assert.deepEqual(summaryOf(after), summaryOf(before), 'the run summary stays');
      }
      assert.deepEqual(await expectOk(BestResponseSchema, http(c.url, `/api/sweeps/${old.id}/best`)), bestBefore, 'best and curve stay');
      assert.equal(await pointsOf(c, recent.id), recentPoints, 'the recent sweep keeps its points');
      for (const r of recent.runs) assert.deepEqual(await getRun(c.url, r.id), r, 'the recent sweep keeps everything');
      assert.equal((await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${running.id}`))).state, 'running');

      // Idempotent: nothing left to remove. The pass is in the audit trail.
      const again = await expectOk(RetentionResponseSchema, http(c.url, '/api/retention', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
      assert.deepEqual(again.sweeps, []);
      const audit = (await http<{ entries: Array<{ action: string; outcome: string; details: { sweeps?: string[] } }> }>(c.url, '/api/audit?action=retention')).body.entries;
      assert.deepEqual(audit.map((e) => e.details.sweeps).reverse(), [[old.id], []]);
    });

    if (backend === 'postgres') {
      test('one replica at a time: while another holds the retention lock, a pass does nothing', async () => {
        const old = await finishedSweep(c, 'old');
        await c.handle.ctx.db.query(`UPDATE sweeps SET ended_at = now() - interval '40 days' WHERE id = $1`, [old.id]);
        const points = await pointsOf(c, old.id);
        // A second pool on the same schema plays the other replica.
        const { openPostgres } = await import('../../../db/database.js');
        const url = new URL(c.handle.ctx.config.DATABASE_URL!);
        const other = await openPostgres({ connectionString: url.toString(), max: 1 });
        try {
          await other.transaction(async (tx) => {
            assert.equal(await tryRetentionLock(tx), true);
            const res = await c.handle.retention.run(30);
            assert.equal(res.skipped, true);
            assert.deepEqual(res.sweeps, []);
          });
        } finally {
          await other.close();
        }
        assert.equal(await pointsOf(c, old.id), points, 'nothing removed while locked');
        assert.equal((await c.handle.retention.run(30)).sweeps.length, 1);
      });
    }

    test('with HARROW_RETENTION_DAYS unset, nothing expires and the CLI says so', async () => {
      const off = await startTestController({ backend: 'postgres' });
      try {
        const res = await expectOk(RetentionResponseSchema, http(off.url, '/api/retention'));
        assert.equal(res.days, null);
        await expectError(http(off.url, '/api/retention', { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }), 400, 'INVALID_REQUEST');
        let out = '';
        assert.equal(await retentionCommand.runWith([], { env: { HARROW_URL: off.url }, stdout: { write: (s: string) => (out += s) } }), 0);
        assert.match(out, /Retention is off/);
      } finally {
        await off.close();
      }
    });
  });
}
