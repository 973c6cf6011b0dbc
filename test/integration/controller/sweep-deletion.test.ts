/**
 * `harrow delete SWEEP` on real Postgres and on PGlite, with real Redis: after a delete, no row of
 * any table (found by reading every table's rows as text) and no Redis key or value (found by a
 * SCAN over the installation's prefix, reading every key) mentions the sweep, while a second
 * sweep is untouched. The audit trail keeps the record of the deletion.
 */
import { afterEach, beforeEach, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Redis } from 'ioredis';
import { ListRunsResponseSchema, SweepDetailSchema } from '../../../protocol/api.js';
import { DeletedSweepSchema } from '../../../protocol/data-lifecycle-api.js';
import type { Database } from '../../../db/database.js';
import { compactRunCounts } from '../../../db/sweeps.js';
import { deleteCommand } from '../../../cli/commands/delete.js';
import { UsageError } from '../../../cli/command.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { FakeAgent, createSweep, expectError, expectOk, http, newToken, startTestController, waitRun, waitSweep, type TestController } from './controller-harness.js';

const opts = await needServices();

const yaml = (name: string) => [`name: ${name}`, 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

/** Rows per table whose text mentions `needle`, for every table of the database (audit_log apart; run_state_counts: the runs its rows count). */
async function rowsMentioning(db: Database, needle: string): Promise<Record<string, number>> {
  const { rows: tables } = await db.query<{ table_name: string }>(
    `SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' ORDER BY table_name`,
  );
  assert.ok(tables.length >= 10, `expected Harrow's tables, found ${tables.map((t) => t.table_name).join(', ')}`);
  const out: Record<string, number> = {};
  for (const { table_name: t } of tables) {
    if (t === 'audit_log') continue;
    // Run counts are appended as deltas and folded by the reaper at any moment (migration 0011):
    // their rows come and go, what they add up to (the sweep's runs) stays.
    const what = t === 'run_state_counts' ? 'coalesce(sum(x.n), 0)::int' : 'count(*)::int';
    const { rows } = await db.query<{ n: number }>(`SELECT ${what} AS n FROM "${t}" x WHERE x::text LIKE '%' || $1 || '%'`, [needle]);
    out[t] = rows[0]!.n;
  }
  return out;
}

/** Every key of the installation with the values that mention `needle` (stream entries, hash fields, strings, ...). */
async function redisMentioning(redis: Redis, prefix: string, needle: string): Promise<string[]> {
  const found: string[] = [];
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    cursor = next;
    for (const key of keys) {
      if (key.includes(needle)) {
        found.push(key);
        continue;
      }
      const type = await redis.type(key);
      let content: unknown;
      if (type === 'string') content = await redis.get(key);
      else if (type === 'hash') content = await redis.hgetall(key);
      else if (type === 'stream') content = await redis.xrange(key, '-', '+');
      else if (type === 'list') content = await redis.lrange(key, 0, -1);
      else if (type === 'set') content = await redis.smembers(key);
      else if (type === 'zset') content = await redis.zrange(key, '0', '-1');
      if (JSON.stringify(content).includes(needle)) found.push(`${key} (${type}, in its content)`);
    }
  } while (cursor !== '0');
  return found.sort();
}

/** A sweep with a finished, a failed and a running run, queued runs, presence and metric points. */
async function populate(c: TestController, name: string): Promise<{ id: string; agent: FakeAgent; running: { id: string; token: string } }> {
  const sweep = await createSweep(c.url, yaml(name));
  const agent = new FakeAgent(c.redis, c.keys, sweep.id);
  await agent.advertise(5);
  const queued = await waitFor(
    `${name}: 5 queued runs`,
    async () => {
      const r = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?state=queued`));
      return r.total >= 5 ? r.runs : undefined;
    },
    15_000,
    50,
  );
  const [a, b, r] = queued as [(typeof queued)[number], (typeof queued)[number], (typeof queued)[number]];
  const tokens = [newToken(), newToken(), newToken()];
  for (const [i, run] of [a, b, r].entries()) {
    await agent.claim(run.id, tokens[i]!);
    await agent.metrics(run.id, tokens[i]!, [
      [0, 'loss', 0.5 + i],
      [1, 'loss', 0.25 + i],
    ]);
  }
  await agent.end(a.id, tokens[0]!, 'finished', { tail: `the output of ${a.id}\n` });
  await agent.end(b.id, tokens[1]!, 'failed', { tail: `Traceback of ${b.id}\n` });
  await waitRun(c.url, b.id, 'failed', (x) => x.state === 'failed');
  await waitRun(c.url, r.id, 'running', (x) => x.state === 'running');
  return { id: sweep.id, agent, running: { id: r.id, token: tokens[2]! } };
}

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`harrow delete on ${backend}`, { ...opts, timeout: 300_000 }, () => {
    // One controller per test: the first one stops its report ingestion.
    let c: TestController;
    beforeEach(async () => {
      c = await startTestController({ backend });
    });
    afterEach(async () => {
      await c?.close();
    });

    test('a canceled sweep goes entirely from Postgres and Redis; another sweep is untouched; the audit trail keeps the record', async () => {
      const a = await populate(c, 'doomed');
      const b = await populate(c, 'kept');
      const db = c.handle.ctx.db;
      // Sweep A ends: cancel, and its agent confirms the kill of its running run.
      await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${a.id}/cancel`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' }));
      await waitFor('cancel control message', async () => (await a.agent.control(a.running.id))?.action === 'cancel', 10_000, 50);
      await a.agent.end(a.running.id, a.running.token, 'canceled');
      await waitRun(c.url, a.running.id, 'canceled', (r) => r.state === 'canceled');
      await waitSweep(c.url, a.id, 'canceled', (s) => s.state === 'canceled');

      // Reports nobody has read yet: the ingestor stops, then both agents report more points.
      await c.handle.ingestor.stop();
      await a.agent.metrics(a.running.id, a.running.token, [[2, 'loss', 0.1]]);
      await b.agent.metrics(b.running.id, b.running.token, [[2, 'loss', 0.1]]);

      const beforeA = await rowsMentioning(db, a.id);
      for (const t of ['sweeps', 'sweep_events', 'runs', 'run_attempts', 'metrics', 'run_events', 'best_points']) assert.ok((beforeA[t] ?? 0) > 0, `sweep A has rows in ${t} before: ${JSON.stringify(beforeA)}`);
      assert.ok((await redisMentioning(c.redis, c.prefix, a.id)).length >= 4, 'sweep A has keys in Redis before');
      const beforeB = await rowsMentioning(db, b.id);
      const redisB = await redisMentioning(c.redis, c.prefix, b.id);

      // The CLI asks first; without a terminal it refuses unless --yes; a wrong answer deletes nothing.
      let out = '';
      const io = { env: { HARROW_URL: c.url }, stdout: { write: (s: string) => (out += s) } };
      await assert.rejects(deleteCommand.runWith([a.id], io), (err: unknown) => err instanceof UsageError && /--yes/.test(err.message));
      assert.equal(await deleteCommand.runWith([a.id], { ...io, ask: () => Promise.resolve('no') }), 1);
      assert.match(out, /Not deleted/);
      assert.equal((await rowsMentioning(db, a.id)).sweeps, 1);

      out = '';
      assert.equal(await deleteCommand.runWith([a.id], { ...io, ask: () => Promise.resolve(a.id) }), 0);
      assert.match(out, new RegExp(`Deleted sweep ${a.id}: ${beforeA.runs} runs, ${beforeA.metrics} metric points, ${beforeA.run_events} run state changes; \\d+ Redis keys and 1 queued reports`));

      const afterA = await rowsMentioning(db, a.id);
      assert.deepEqual(Object.entries(afterA).filter(([, n]) => n > 0), [], `rows of sweep A left: ${JSON.stringify(afterA)}`);
      assert.deepEqual(await redisMentioning(c.redis, c.prefix, a.id), [], 'nothing of sweep A is left in Redis');
      // The reaper may fold B's run counts meanwhile (it did in CI): folding here makes that sure.
      await compactRunCounts(db, b.id);
      assert.deepEqual(await rowsMentioning(db, b.id), beforeB, 'sweep B keeps every row');
      assert.deepEqual(await redisMentioning(c.redis, c.prefix, b.id), redisB, 'sweep B keeps every key and report');
      await expectError(http(c.url, `/api/sweeps/${a.id}`), 404, 'SWEEP_NOT_FOUND');
      await expectError(http(c.url, `/api/sweeps/${a.id}`, { method: 'DELETE' }), 404, 'SWEEP_NOT_FOUND');

      const audit = (await http<{ entries: Array<{ action: string; sweepId: string | null; outcome: string; details: { rows?: { runs?: number } } | null }> }>(c.url, `/api/audit?sweep=${a.id}`)).body.entries;
      const deletion = audit.find((e) => e.action === 'delete' && e.outcome === 'ok');
      assert.ok(deletion, `the deletion is in the audit trail: ${JSON.stringify(audit)}`);
      assert.equal(deletion.details?.rows?.runs, beforeA.runs);
      assert.ok(audit.some((e) => e.action === 'cancel'), 'earlier entries of the sweep stay too');
    });

    test('a running sweep is refused without force; with force it is canceled, its runs killed, then deleted', async () => {
      const s = await populate(c, 'running');
      const other = await populate(c, 'bystander');
      const db = c.handle.ctx.db;
      const otherRows = await rowsMentioning(db, other.id);
      const runs = (await rowsMentioning(db, s.id)).runs;
      await expectError(http(c.url, `/api/sweeps/${s.id}`, { method: 'DELETE' }), 409, 'INVALID_STATE_TRANSITION');
      await expectError(http(c.url, `/api/sweeps/${s.id}?force=maybe`, { method: 'DELETE' }), 400, 'INVALID_REQUEST');
      assert.equal((await rowsMentioning(db, s.id)).sweeps, 1, 'refused: nothing deleted');

      // The agent obeys the cancel the forced delete sends, as `harrow agent` does.
      const obey = (async () => {
        await waitFor('cancel control message', async () => (await s.agent.control(s.running.id))?.action === 'cancel', 15_000, 50);
        await s.agent.end(s.running.id, s.running.token, 'canceled');
      })();
      const deleted = await expectOk(DeletedSweepSchema, http(c.url, `/api/sweeps/${s.id}?force=true`, { method: 'DELETE' }));
      await obey;
      assert.equal(deleted.canceled, true);
      assert.ok(deleted.rows.runs! >= runs!, `every run counted: ${JSON.stringify(deleted.rows)}`);
      const left = await rowsMentioning(db, s.id);
      assert.deepEqual(Object.entries(left).filter(([, n]) => n > 0), [], `rows left: ${JSON.stringify(left)}`);
      // The end report may still be in the stream when the rows go; the ingestor then drops it.
      await waitFor('no Redis key of the sweep', async () => (await redisMentioning(c.redis, c.prefix, s.id)).length === 0, 5_000, 100).catch(async () => {
        assert.deepEqual(await redisMentioning(c.redis, c.prefix, s.id), []);
      });
      assert.deepEqual(await rowsMentioning(db, other.id), otherRows, 'the other sweep keeps every row');
      const audit = (await http<{ entries: Array<{ action: string; outcome: string }> }>(c.url, `/api/audit?sweep=${s.id}`)).body.entries.map((e) => `${e.action}:${e.outcome}`);
      assert.ok(audit.includes('delete:error') && audit.includes('delete:ok'), `refusal and deletion are both recorded: ${audit.join(', ')}`);
    });
  });
}
