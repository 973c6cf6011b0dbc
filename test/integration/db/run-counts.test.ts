/**
 * A sweep's run counts per state (migration 0011), kept by the statements that create and move
 * runs, against the truth (count(*) GROUP BY state over its runs), on real Postgres and on PGlite:
 * after every transition of the state machine, transitions of many runs at once (a sweep's queued
 * runs canceled, stale runs of several sweeps crashed), folding, a recount after runs changed by
 * SQL, and a sweep's deletion. Also the runs list's total, which sums those counts.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { allocateRunNumbers, compactRunCounts, insertSweep, runCountsMany, sweepsWithUnfoldedCounts, type RunCounts } from '../../../db/sweeps.js';
import { cancelQueuedRuns, crashStaleRuns, insertRuns, listRuns, rebuildRunCounts, transitionRun, type RunTransition } from '../../../db/runs.js';
import { deleteSweepRows } from '../../../db/sweep-deletion.js';
import { RUN_STATE_TRAITS, RUN_TRANSITIONS, type RunState } from '../../../protocol/run-states.js';

const opts = await needServices();

let tokens = 0;
function step(to: RunState): RunTransition {
  return RUN_STATE_TRAITS[to].live ? { to, reason: `to ${to}`, attempt: { token: `c${++tokens}`, agentId: 'ag', host: 'h', gpu: null } } : { to, reason: `to ${to}` };
}

for (const backend of BACKENDS) {
  describe(`run counts per state on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    async function sweepWithRuns(id: string, n: number): Promise<void> {
      await insertSweep(db, { id, name: id, method: 'random', spec: { method: 'random' }, configText: 'method: random', seed: 1, metricName: 'loss', goal: 'minimize', runCap: null, expectedRuns: null });
      await addRuns(id, n);
    }

    async function addRuns(id: string, n: number): Promise<void> {
      const first = await allocateRunNumbers(db, id, n);
      await insertRuns(db, Array.from({ length: n }, (_, i) => ({ id: `${id}-${first + i}`, sweepId: id, number: first + i, params: { i }, paramsHash: `h${first + i}`, proposal: null })), 'proposed');
    }

    /** What counting the runs says. */
    async function truth(ids: readonly string[]): Promise<Map<string, Partial<Record<RunState | 'total', number>>>> {
      const { rows } = await db.query<{ sweep_id: string; state: RunState; n: number }>(
        `SELECT sweep_id, state, count(*)::int AS n FROM runs WHERE sweep_id = ANY($1::text[]) GROUP BY sweep_id, state`,
        [ids],
      );
      const out = new Map<string, Partial<Record<RunState | 'total', number>>>(ids.map((id) => [id, { total: 0 }]));
      for (const r of rows) {
        const c = out.get(r.sweep_id)!;
        c[r.state] = r.n;
        c.total! += r.n;
      }
      return out;
    }

    const nonZero = (c: RunCounts | undefined) => Object.fromEntries(Object.entries(c ?? {}).filter(([k, v]) => v !== 0 || k === 'total'));

    async function assertCounts(ids: readonly string[], when: string): Promise<void> {
      const kept = await runCountsMany(db, ids);
      const counted = await truth(ids);
      for (const id of ids) assert.deepEqual(nonZero(kept.get(id)), counted.get(id), `${id} ${when}`);
    }

    test('equal to counting the runs after every transition, one run or many at once', async () => {
      await sweepWithRuns('ca', 12);
      await sweepWithRuns('cb', 5);
      await assertCounts(['ca', 'cb'], 'after insertRuns');
      // Walk run ca-1 through every allowed (from, to) pair that a path can reach, checking each.
      let state: RunState = 'queued';
      const seen = new Set<string>();
      for (let moves = 0; moves < 40; moves++) {
        const next: RunState | undefined = RUN_TRANSITIONS[state].find((to) => !seen.has(`${state}>${to}`)) ?? RUN_TRANSITIONS[state][0];
        if (next === undefined) break;
        seen.add(`${state}>${next}`);
        assert.equal((await transitionRun(db, { runId: 'ca-1' }, step(next))).length, 1, `${state} → ${next}`);
        await assertCounts(['ca', 'cb'], `after ca-1 ${state} → ${next}`);
        state = next;
      }
      // A refused transition changes nothing.
      assert.equal((await transitionRun(db, { runId: 'ca-2' }, { to: 'finished', from: ['running'], reason: 'not running' })).length, 0);
      await assertCounts(['ca', 'cb'], 'after a refused transition');
      // Several runs of several sweeps in one statement: claim some, let their heartbeats go stale, crash them.
      for (const id of ['ca-2', 'ca-3', 'ca-4', 'cb-1', 'cb-2']) await transitionRun(db, { runId: id }, step('running'));
      await db.query(`UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = ANY($1::text[])`, [['ca-2', 'ca-3', 'cb-1']]);
      assert.equal((await crashStaleRuns(db, 60_000)).length, 3);
      await assertCounts(['ca', 'cb'], 'after crashing stale runs of two sweeps');
      assert.equal((await cancelQueuedRuns(db, 'ca', 'sweep stopped')).length > 1, true);
      await assertCounts(['ca', 'cb'], "after canceling a sweep's queued runs");
      // Inside a transaction that rolls back, nothing is kept.
      await assert.rejects(
        db.transaction(async (tx) => {
          await transitionRun(tx, { runId: 'cb-3' }, step('running'));
          throw new Error('rollback');
        }),
        /rollback/,
      );
      await assertCounts(['ca', 'cb'], 'after a rolled-back transition');
      await addRuns('cb', 3);
      await assertCounts(['ca', 'cb'], 'after more runs');
    });

    test('folding keeps one row per state and the same counts', async () => {
      await sweepWithRuns('fold', 6);
      for (const id of ['fold-1', 'fold-2', 'fold-3']) await transitionRun(db, { runId: id }, step('running'));
      await transitionRun(db, { runId: 'fold-1' }, step('finished'));
      const before = await runCountsMany(db, ['fold']);
      assert.ok((await sweepsWithUnfoldedCounts(db)).includes('fold'));
      await db.transaction((tx) => compactRunCounts(tx, 'fold'));
      assert.ok(!(await sweepsWithUnfoldedCounts(db)).includes('fold'));
      const { rows } = await db.query<{ state: string; n: number }>(`SELECT state, n FROM run_state_counts WHERE sweep_id = 'fold' ORDER BY state`);
      assert.deepEqual(rows, [
        { state: 'finished', n: 1 },
        { state: 'queued', n: 3 },
        { state: 'running', n: 2 },
      ]);
      assert.deepEqual(await runCountsMany(db, ['fold']), before);
      await assertCounts(['fold'], 'after folding');
      // Folding again changes nothing; so does folding a sweep that does not exist.
      await db.transaction((tx) => compactRunCounts(tx, 'fold'));
      await db.transaction((tx) => compactRunCounts(tx, 'no-such-sweep'));
      assert.deepEqual(await runCountsMany(db, ['fold']), before);
    });

    test('a recount after runs loaded or changed by SQL; a deleted sweep leaves none', async () => {
      await sweepWithRuns('raw', 3);
      await db.query(
        `INSERT INTO runs (id, sweep_id, number, state, params, params_hash) SELECT 'raw-x' || g, 'raw', 100 + g, 'finished', '{}', 'x' || g FROM generate_series(1, 4) g`,
      );
      await db.query(`UPDATE runs SET state = 'failed' WHERE id = 'raw-1'`);
      const stale = await runCountsMany(db, ['raw']);
      assert.equal(stale.get('raw')!.total, 3, 'runs written by SQL are not counted until a recount');
      await rebuildRunCounts(db, 'raw');
      await assertCounts(['raw'], 'after the recount');
      assert.deepEqual(nonZero(await runCountsMany(db, ['raw']).then((m) => m.get('raw'))), { queued: 2, failed: 1, finished: 4, total: 7 });
      // The runs list's total agrees with the page, for every state filter.
      for (const states of [undefined, ['finished'], ['queued', 'failed'], ['crashed']] as const) {
        const page = await listRuns(db, { sweepId: 'raw', ...(states ? { states } : {}), sort: 'number', goal: 'minimize', limit: 100, offset: 0 });
        assert.equal(page.total, page.runs.length, `total with states ${states?.join(',') ?? 'all'}`);
      }
      await db.transaction((tx) => deleteSweepRows(tx, 'raw'));
      const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM run_state_counts WHERE sweep_id = 'raw'`);
      assert.equal(rows[0]!.n, 0);
    });

    test('the cursor of the runs list: each page starts after the last, whatever runs are added meanwhile', async () => {
      await sweepWithRuns('pg', 7);
      for (const sort of ['number', '-number'] as const) {
        const seen: number[] = [];
        let after: number | undefined;
        for (let i = 0; i < 10; i++) {
          const page = await listRuns(db, { sweepId: 'pg', sort, goal: 'minimize', limit: 3, offset: 0, ...(after !== undefined ? { after } : {}) });
          assert.equal(page.total, 7);
          seen.push(...page.runs.map((r) => r.number));
          if (page.runs.length < 3) break;
          after = page.runs.at(-1)!.number;
        }
        assert.deepEqual(seen, sort === 'number' ? [1, 2, 3, 4, 5, 6, 7] : [7, 6, 5, 4, 3, 2, 1]);
      }
      // A cursor with a state filter: runs 2 and 5 finished.
      for (const id of ['pg-2', 'pg-5']) {
        await transitionRun(db, { runId: id }, step('running'));
        await transitionRun(db, { runId: id }, step('finished'));
      }
      const page = await listRuns(db, { sweepId: 'pg', states: ['queued'], sort: '-number', goal: 'minimize', limit: 2, offset: 0, after: 6 });
      assert.deepEqual(page.runs.map((r) => r.number), [4, 3]);
      assert.equal(page.total, 5);
      await assert.rejects(listRuns(db, { sweepId: 'pg', sort: 'metric', goal: 'minimize', limit: 2, offset: 0, after: 6 }), /cursor needs the order by number/);
    });
  });
}
