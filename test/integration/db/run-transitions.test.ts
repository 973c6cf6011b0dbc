/**
 * The run state machine through the storage layer, on real Postgres and on PGlite: every (from, to)
 * pair of `protocol/run-states.ts` is driven through `transitionRun`. An allowed pair moves the run
 * exactly once (the same call again is refused) and records exactly one run_events row; any other
 * pair is refused and records nothing. Also: a sweep's best counts stopped runs, with its tie rule,
 * and the outcomes the pause-on-failures rules read.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { allocateRunNumbers, insertSweep, transitionSweep } from '../../../db/sweeps.js';
import {
  bestCurve,
  bestRun,
  bestRunsMany,
  claimRun,
  endRun,
  getRun,
  insertRuns,
  outcomesSinceResume,
  rebuildBest,
  recordEndedValue,
  runEvents,
  transitionRun,
  type RunTransition,
} from '../../../db/runs.js';
import { updateSummaries } from '../../../db/metrics.js';
import {
  INITIAL_RUN_STATE,
  RUN_STATES,
  RUN_STATE_TRAITS,
  RUN_TRANSITIONS,
  canTransitionRun,
  type RunState,
} from '../../../protocol/run-states.js';

const opts = await needServices();

/** The shortest path of transitions from the initial state to each state. */
function pathTo(target: RunState): RunState[] {
  const prev = new Map<RunState, RunState | null>([[INITIAL_RUN_STATE, null]]);
  const queue: RunState[] = [INITIAL_RUN_STATE];
  while (queue.length > 0) {
    const s = queue.shift()!;
    for (const next of RUN_TRANSITIONS[s]) {
      if (prev.has(next)) continue;
      prev.set(next, s);
      queue.push(next);
    }
  }
  assert.ok(prev.has(target), `${target} is unreachable from ${INITIAL_RUN_STATE}`);
  const path: RunState[] = [];
  for (let s: RunState | null = target; s !== null && s !== INITIAL_RUN_STATE; s = prev.get(s)!) path.unshift(s);
  return path;
}

let tokens = 0;
/** The transition to `to`, with what entering it needs (a new attempt for the live state). */
function step(to: RunState, reason = `to ${to}`): RunTransition {
  return RUN_STATE_TRAITS[to].live ? { to, reason, attempt: { token: `tok${++tokens}`, agentId: 'ag', host: 'h', gpu: null } } : { to, reason };
}

for (const backend of BACKENDS) {
  describe(`run state machine on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    async function sweepWithRuns(id: string, n: number, goal: 'minimize' | 'maximize' = 'minimize') {
      await insertSweep(db, {
        id,
        name: id,
        method: 'random',
        spec: { method: 'random' },
        configText: 'method: random',
        seed: 1,
        metricName: 'loss',
        goal,
        runCap: null,
        expectedRuns: null,
      });
      const first = await allocateRunNumbers(db, id, n);
      await insertRuns(
        db,
        Array.from({ length: n }, (_, i) => ({ id: `${id}-${first + i}`, sweepId: id, number: first + i, params: { i }, paramsHash: `h${i}`, proposal: null })),
        'proposed',
      );
    }

    test('every (from, to) pair: allowed ones move once with one event, the others are refused', async () => {
      const pairs = RUN_STATES.flatMap((from) => RUN_STATES.map((to) => ({ from, to })));
      await sweepWithRuns('pairs', pairs.length);
      let allowed = 0;
      for (const [i, { from, to }] of pairs.entries()) {
        const id = `pairs-${i + 1}`;
        for (const s of pathTo(from)) assert.equal((await transitionRun(db, { runId: id }, step(s))).length, 1, `reaching ${from} via ${s}`);
        assert.equal((await getRun(db, id))!.state, from);
        const before = (await runEvents(db, id)).length;
        const t = step(to, `pair ${from}>${to}`);
        const moved = await transitionRun(db, { runId: id }, t);
        const events = await runEvents(db, id);
        if (canTransitionRun(from, to)) {
          allowed++;
          assert.equal(moved.length, 1, `${from} → ${to} is allowed`);
          assert.equal(moved[0]!.from, from);
          assert.equal(moved[0]!.run.state, to);
          assert.equal(events.length, before + 1, `${from} → ${to} records one event`);
          const last = events.at(-1)!;
          assert.deepEqual([last.from_state, last.to_state, last.reason, last.attempt], [from, to, `pair ${from}>${to}`, moved[0]!.run.attempt]);
          assert.equal((await transitionRun(db, { runId: id }, t)).length, 0, `${from} → ${to} a second time is refused`);
          assert.equal((await runEvents(db, id)).length, before + 1, 'a refused transition records nothing');
          // The attempt's row follows the run while it holds a live attempt.
          const run = (await getRun(db, id))!;
          if (RUN_STATE_TRAITS[from].live || RUN_STATE_TRAITS[to].live) {
            const { rows } = await db.query<{ state: string }>(`SELECT state FROM run_attempts WHERE run_id = $1 AND attempt = $2`, [id, run.attempt]);
            assert.equal(rows[0]?.state, to, `attempt row of ${from} → ${to}`);
          }
          if (RUN_STATE_TRAITS[to].terminal) assert.ok(run.ended_at, `${to} sets ended_at`);
          if (to === INITIAL_RUN_STATE) assert.equal(run.token, null, 'a requeued run has no token: late reports of the old attempt are refused');
        } else {
          assert.equal(moved.length, 0, `${from} → ${to} must be refused`);
          assert.equal(events.length, before, `${from} → ${to} records nothing`);
          assert.equal((await getRun(db, id))!.state, from);
        }
      }
      assert.equal(allowed, Object.values(RUN_TRANSITIONS).reduce((n, to) => n + to.length, 0));
    });

    test('a transition the table does not allow cannot even be asked for', async () => {
      await sweepWithRuns('illegal', 1);
      await assert.rejects(transitionRun(db, { runId: 'illegal-1' }, { to: 'finished', from: ['queued'], reason: 'x' }), /not an allowed transition/);
      await assert.rejects(transitionRun(db, { runId: 'illegal-1' }, { to: 'running', reason: 'no attempt' }), /new attempt/);
      assert.equal((await runEvents(db, 'illegal-1')).length, 1);
    });

    test('fencing: only the current attempt ends its run', async () => {
      await sweepWithRuns('fenced', 1);
      await claimRun(db, { runId: 'fenced-1', token: 'A', agentId: 'a', host: 'h', gpu: null });
      assert.equal((await transitionRun(db, { runId: 'fenced-1', token: 'B' }, { to: 'finished', reason: 'x' })).length, 0);
      assert.equal((await transitionRun(db, { runId: 'fenced-1', token: 'A' }, { to: 'finished', reason: 'x' })).length, 1);
    });

    /** Ends run `id` in `state` with the value `value` (claiming it first), as the ingestor does. */
    async function endWith(id: string, state: 'finished' | 'stopped' | 'failed', value: number | null, order: number): Promise<void> {
      const token = `t-${id}`;
      await claimRun(db, { runId: id, token, agentId: 'a', host: 'h', gpu: null });
      if (value !== null) {
        await updateSummaries(db, [
          { runId: id, summary: { loss: { last: value, min: value, max: value, count: 1, step: 0 } }, objective: value, objectiveStep: 0, latestValue: value, metricCount: 1 },
        ]);
      }
      const ended = await endRun(db, { runId: id, token, state, exitCode: state === 'failed' ? 1 : 0, signal: null, reason: state, tail: '' });
      assert.equal(ended.status, 'ended');
      // Distinct end times, in the order given (a batch would otherwise share one now()).
      await db.query(`UPDATE runs SET ended_at = now() + ($2::int * interval '1 second') WHERE id = $1`, [id, order]);
      if (ended.status === 'ended') await recordEndedValue(db, ended.run);
    }

    test("a sweep's best counts stopped runs, never failed ones; ties go to the earlier run", async () => {
      // The hyperband sweep: one run finished at 0.14621, a stopped one had reached 0.14123.
      await sweepWithRuns('hb', 5);
      await endWith('hb-1', 'stopped', 0.2, 1);
      await endWith('hb-2', 'finished', 0.14621, 2);
      await endWith('hb-3', 'failed', 0.01, 3);
      await endWith('hb-4', 'stopped', 0.14123, 4);
      await endWith('hb-5', 'stopped', 0.14123, 5);
      const best = await bestRun(db, 'hb', 'minimize');
      assert.equal(best?.id, 'hb-4', 'the stopped run with the better value; hb-5 ties and is later');
      assert.equal(best?.objective, 0.14123);
      const curve = await bestCurve(db, 'hb');
      assert.equal(curve.counted, 4, 'finished and stopped runs with a value; the failed one is not counted');
      assert.deepEqual(curve.points.map((p) => [p.index, p.runId, p.value]), [[1, 'hb-1', 0.2], [2, 'hb-2', 0.14621], [3, 'hb-4', 0.14123]]);
      // The curve kept as runs ended equals the one rebuilt from the runs.
      await rebuildBest(db, 'hb');
      const rebuilt = await bestCurve(db, 'hb');
      const shape = (c: typeof curve) => ({ counted: c.counted, points: c.points.map((p) => [p.index, p.runId, p.number, p.value]) });
      assert.deepEqual(shape(rebuilt), shape(curve));
      // One query for many sweeps gives the same answer per sweep, whatever their goals.
      await sweepWithRuns('hbmax', 2, 'maximize');
      await endWith('hbmax-1', 'finished', 1, 1);
      await endWith('hbmax-2', 'stopped', 3, 2);
      const many = await bestRunsMany(db, [{ id: 'hb', goal: 'minimize' }, { id: 'hbmax', goal: 'maximize' }]);
      assert.deepEqual([many.get('hb')?.id, many.get('hbmax')?.id], ['hb-4', 'hbmax-2']);
    });

    test('outcomes for pause-on-failures: since the sweep last resumed, canceled runs ignored', async () => {
      await sweepWithRuns('out', 5);
      await endWith('out-1', 'failed', null, 0);
      await endWith('out-2', 'finished', 0.5, 0);
      let o = await outcomesSinceResume(db, 'out', 3, 3);
      assert.deepEqual(o.first.map((r) => [r.number, r.state]), [[1, 'failed'], [2, 'finished']]);
      assert.deepEqual(o.last.map((r) => r.number), [2, 1]);
      await transitionRun(db, { runId: 'out-5' }, { to: 'canceled', reason: 'user' });
      await new Promise((r) => setTimeout(r, 20));
      await transitionSweep(db, 'out', ['running'], 'paused', 'test');
      await transitionSweep(db, 'out', ['paused'], 'running', 'resumed');
      await endWith('out-3', 'failed', null, 10);
      await endWith('out-4', 'failed', null, 20);
      o = await outcomesSinceResume(db, 'out', 3, 1);
      assert.deepEqual(o.first.map((r) => r.number), [3, 4], 'runs that ended before the resume are not counted');
      assert.deepEqual(o.last.map((r) => r.number), [4]);
    });
  });
}
