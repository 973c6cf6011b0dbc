/**
 * The storage side of steering (`db/steering.ts`, `transitionSweep`) on real Postgres and on
 * PGlite: every (from, to) pair of the sweep state machine, ended sweeps that run again included;
 * the run-hours and GPU-hours a sweep's attempts spent, running ones to now; the runs past their
 * run_timeout; which runs are left to rerun.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { allocateRunNumbers, getSweep, insertSweep, transitionSweep } from '../../../db/sweeps.js';
import { claimRun, endRun, insertRuns, transitionRun } from '../../../db/runs.js';
import { runsPastTimeout, runsToRerun, spentHours } from '../../../db/steering.js';
import { INITIAL_SWEEP_STATE, SWEEP_STATES, SWEEP_TRANSITIONS, canTransitionSweep, type SweepStateName } from '../../../protocol/run-states.js';

const opts = await needServices();

/** The shortest path of sweep transitions from the initial state to `target`. */
function pathTo(target: SweepStateName): SweepStateName[] {
  if (target === INITIAL_SWEEP_STATE) return [];
  return SWEEP_TRANSITIONS[INITIAL_SWEEP_STATE].includes(target) ? [target] : assert.fail(`${target} not one step from ${INITIAL_SWEEP_STATE}`);
}

for (const backend of BACKENDS) {
  describe(`steering storage on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    async function sweep(id: string, spec: Record<string, unknown> = { method: 'random', harrow: {} }, runs = 0): Promise<void> {
      await insertSweep(db, { id, name: id, method: 'random', spec, configText: '', seed: 1, metricName: 'loss', goal: 'minimize', runCap: null, expectedRuns: null });
      if (runs === 0) return;
      const first = await allocateRunNumbers(db, id, runs);
      await insertRuns(
        db,
        Array.from({ length: runs }, (_, i) => ({ id: `${id}-${first + i}`, sweepId: id, number: first + i, params: { i }, paramsHash: `h${i}`, proposal: null })),
        'proposed',
      );
    }

    const events = async (id: string) =>
      (await db.query<{ from_state: string | null; to_state: string; reason: string }>(`SELECT from_state, to_state, reason FROM sweep_events WHERE sweep_id = $1 ORDER BY id`, [id])).rows;

    test('every (from, to) pair of sweep states: allowed ones move once with one event, the others are refused', async () => {
      let allowed = 0;
      for (const from of SWEEP_STATES) {
        for (const to of SWEEP_STATES) {
          const id = `sw-${from}-${to}`;
          await sweep(id);
          for (const s of pathTo(from)) assert.ok(await transitionSweep(db, id, [INITIAL_SWEEP_STATE], s, `to ${s}`));
          const before = (await events(id)).length;
          if (canTransitionSweep(from, to)) {
            allowed++;
            const moved = await transitionSweep(db, id, [from], to, `pair ${from}>${to}`);
            assert.ok(moved, `${from} → ${to} is allowed`);
            assert.equal(moved.previous, from);
            assert.equal(moved.row.state, to);
            // Running again clears ended_at; ending sets it.
            assert.equal(moved.row.ended_at === null, to === 'running' || to === 'paused', `${from} → ${to}: ended_at`);
            assert.deepEqual((await events(id)).at(-1), { from_state: from, to_state: to, reason: `pair ${from}>${to}` });
            assert.equal(await transitionSweep(db, id, [from], to, 'again'), null, `${from} → ${to} a second time is refused`);
            assert.equal((await events(id)).length, before + 1);
          } else {
            await assert.rejects(transitionSweep(db, id, [from], to, 'illegal'), /not an allowed transition/, `${from} → ${to} cannot even be asked for`);
            assert.equal((await getSweep(db, id))!.state, from);
            assert.equal((await events(id)).length, before, 'a refused transition records nothing');
          }
        }
      }
      assert.equal(allowed, Object.values(SWEEP_TRANSITIONS).reduce((n, to) => n + to.length, 0));
    });

    test('spent hours: every attempt from its claim to its end, running ones to now; GPU-hours × the GPUs each held', async () => {
      await sweep('spent', { method: 'random', harrow: {} }, 3);
      await sweep('other', { method: 'random', harrow: {} }, 1);
      // Run 1: a first attempt of an hour on GPUs 0 and 1 (failed), then a second one running for 30 minutes on GPU 3.
      await claimRun(db, { runId: 'spent-1', token: 'a1', agentId: 'ag', host: 'h', gpu: '0,1' });
      assert.equal((await endRun(db, { runId: 'spent-1', token: 'a1', state: 'failed', exitCode: 1, signal: null, reason: 'x', tail: '' })).status, 'ended');
      await db.query(`UPDATE run_attempts SET started_at = now() - interval '2 hours', ended_at = now() - interval '1 hour' WHERE token = 'a1'`);
      await db.query(`UPDATE runs SET state = 'queued', token = NULL WHERE id = 'spent-1'`);
      await claimRun(db, { runId: 'spent-1', token: 'a2', agentId: 'ag', host: 'h', gpu: '3' });
      await db.query(`UPDATE run_attempts SET started_at = now() - interval '30 minutes' WHERE token = 'a2'`);
      // Run 2: 15 minutes with no GPU: run time, no GPU time. Run 3 never ran.
      await claimRun(db, { runId: 'spent-2', token: 'b1', agentId: 'ag', host: 'h', gpu: null });
      await endRun(db, { runId: 'spent-2', token: 'b1', state: 'finished', exitCode: 0, signal: null, reason: 'x', tail: '' });
      await db.query(`UPDATE run_attempts SET started_at = ended_at - interval '15 minutes' WHERE token = 'b1'`);
      await claimRun(db, { runId: 'other-1', token: 'c1', agentId: 'ag', host: 'h', gpu: '0' });
      await db.query(`UPDATE run_attempts SET started_at = now() - interval '5 hours' WHERE token = 'c1'`);

      const spent = await spentHours(db, ['spent', 'none']);
      const s = spent.get('spent')!;
      assert.ok(Math.abs(s.runHours - 1.75) < 0.01, `run-hours 1 + 0.5 + 0.25 = 1.75, got ${s.runHours}`);
      assert.ok(Math.abs(s.gpuHours - 2.5) < 0.01, `GPU-hours 1×2 + 0.5×1 + 0.25×0 = 2.5, got ${s.gpuHours}`);
      assert.deepEqual(spent.get('none'), { runHours: 0, gpuHours: 0 }, 'a sweep without attempts spent nothing');
      assert.equal(spent.has('other'), false, 'only the sweeps asked for');
    });

    test('runs past run_timeout: running ones whose attempt started longer ago than the limit, not yet being stopped', async () => {
      await sweep('to', { method: 'random', harrow: { runTimeout: { ms: 60_000, text: '1m' } } }, 3);
      await sweep('nolimit', { method: 'random', harrow: {} }, 1);
      for (const [id, tok] of [['to-1', 't1'], ['to-2', 't2'], ['to-3', 't3'], ['nolimit-1', 't4']] as const) {
        await claimRun(db, { runId: id, token: tok, agentId: 'ag', host: 'h', gpu: null });
      }
      await db.query(`UPDATE runs SET started_at = now() - interval '2 minutes' WHERE id IN ('to-1', 'to-3', 'nolimit-1')`);
      await db.query(`UPDATE runs SET stop_info = '{"message": "stopped by user"}' WHERE id = 'to-3'`);
      const past = await runsPastTimeout(db);
      assert.deepEqual(past.filter((r) => r.sweep_id === 'to' || r.sweep_id === 'nolimit').map((r) => [r.id, r.timeout_text]), [['to-1', '1m']]);
    });

    test('runs to rerun: ended in the states asked, each once', async () => {
      await sweep('rr', { method: 'random', harrow: {} }, 3);
      for (const [id, state] of [['rr-1', 'failed'], ['rr-2', 'finished'], ['rr-3', 'crashed']] as const) {
        await claimRun(db, { runId: id, token: `k-${id}`, agentId: 'ag', host: 'h', gpu: null });
        // An agent reports finished or failed; crashed is the reaper's word.
        if (state === 'crashed') await transitionRun(db, { runId: id }, { to: 'crashed', reason: 'heartbeat lost' });
        else await endRun(db, { runId: id, token: `k-${id}`, state, exitCode: null, signal: null, reason: state, tail: '' });
      }
      assert.deepEqual((await runsToRerun(db, 'rr', ['failed', 'crashed'])).map((r) => r.id), ['rr-1', 'rr-3']);
      const n = await allocateRunNumbers(db, 'rr', 1);
      await insertRuns(db, [{ id: `rr-${n}`, sweepId: 'rr', number: n, params: {}, paramsHash: 'x', proposal: null, rerunOf: 'rr-1' }], 'rerun');
      assert.deepEqual((await runsToRerun(db, 'rr', ['failed', 'crashed'])).map((r) => r.id), ['rr-3'], 'a run already rerun is not rerun again');
    });
  });
}
