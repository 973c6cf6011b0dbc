/**
 * The storage layer against both back ends: real Postgres (through `pg`) and embedded PGlite run
 * the same SQL and must behave the same.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { loadMigrations, migrate } from '../../../db/migrate.js';
import { allocateRunNumbers, getSweep, insertSweep, runCounts, transitionSweep } from '../../../db/sweeps.js';
import {
  bestCurve,
  bestRun,
  rebuildBest,
  recordEndedValue,
  cancelQueuedRuns,
  claimRun,
  crashStaleRuns,
  endRun,
  getRun,
  insertRuns,
  listRuns,
  requeueRun,
  runEvents,
  strategyHistory,
  touchHeartbeats,
} from '../../../db/runs.js';
import { attemptPoints, insertPoints, metricCurves, runHistory, updateSummaries, type PointRow } from '../../../db/metrics.js';
import { runSummary } from '../../../controller/serialize.js';

const opts = await needServices();

for (const backend of BACKENDS) {
  describe(`storage on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    async function sweepWithRuns(id: string, n: number) {
      await insertSweep(db, {
        id,
        name: 'test',
        method: 'random',
        spec: { method: 'random' },
        configText: 'method: random',
        seed: 1,
        metricName: 'loss',
        goal: 'minimize',
        runCap: null,
        expectedRuns: null,
      });
      const first = await allocateRunNumbers(db, id, n);
      await insertRuns(
        db,
        Array.from({ length: n }, (_, i) => ({
          id: `${id}-${first + i}`,
          sweepId: id,
          number: first + i,
          params: { x: i },
          paramsHash: `h${i}`,
          proposal: { source: 'test' },
        })),
        'proposed',
      );
    }

    test('migrations applied twice change nothing', async () => {
      assert.deepEqual(await migrate(db), []);
      const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM harrow_migrations');
      assert.equal(rows[0]!.n, (await loadMigrations()).length, 'one ledger row per migration file');
    });

    test('run numbers are allocated consecutively', async () => {
      await sweepWithRuns('nums', 3);
      assert.equal(await allocateRunNumbers(db, 'nums', 2), 4);
      assert.equal(await allocateRunNumbers(db, 'nums', 1), 6);
      assert.deepEqual((await runCounts(db, 'nums')).queued, 3);
    });

    test('first claim wins; a second token is refused; the same token is a duplicate', async () => {
      await sweepWithRuns('claim', 1);
      const a = await claimRun(db, { runId: 'claim-1', token: 'A', agentId: 'ag1', host: 'h', gpu: '0' });
      assert.equal(a.status, 'accepted');
      assert.equal(a.status === 'accepted' && a.run.attempt, 1);
      assert.equal((await claimRun(db, { runId: 'claim-1', token: 'A', agentId: 'ag1', host: 'h', gpu: '0' })).status, 'duplicate');
      const b = await claimRun(db, { runId: 'claim-1', token: 'B', agentId: 'ag2', host: 'h', gpu: null });
      assert.equal(b.status, 'refused');
      assert.equal((await getRun(db, 'claim-1'))!.token, 'A');
    });

    test('a stale attempt cannot end the retry; crash, retry and end are each recorded once', async () => {
      await sweepWithRuns('fence', 1);
      await claimRun(db, { runId: 'fence-1', token: 'T1', agentId: 'ag1', host: 'h', gpu: null });
      // Heartbeat is old enough to be stale with a zero timeout.
      await db.query(`UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = 'fence-1'`);
      const crashed = await crashStaleRuns(db, 60_000);
      assert.deepEqual(crashed.map((r) => r.id), ['fence-1']);
      assert.ok(await requeueRun(db, 'fence-1', 'retry: attempt 2 of 3'));
      const c2 = await claimRun(db, { runId: 'fence-1', token: 'T2', agentId: 'ag2', host: 'h', gpu: null });
      assert.equal(c2.status === 'accepted' && c2.run.attempt, 2);
      const stale = await endRun(db, { runId: 'fence-1', token: 'T1', state: 'finished', exitCode: 0, signal: null, reason: 'exit 0', tail: '' });
      assert.equal(stale.status, 'refused');
      assert.equal(await touchHeartbeats(db, [{ runId: 'fence-1', token: 'T1' }]), 0);
      assert.equal(await touchHeartbeats(db, [{ runId: 'fence-1', token: 'T2' }]), 1);
      const ok = await endRun(db, { runId: 'fence-1', token: 'T2', state: 'failed', exitCode: 3, signal: null, reason: 'exit code 3', tail: 'boom' });
      assert.equal(ok.status, 'ended');
      const again = await endRun(db, { runId: 'fence-1', token: 'T2', state: 'failed', exitCode: 3, signal: null, reason: 'exit code 3', tail: 'boom' });
      assert.equal(again.status, 'duplicate');
      const events = await runEvents(db, 'fence-1');
      assert.deepEqual(
        events.map((e) => `${e.attempt}:${e.from_state ?? '-'}>${e.to_state}`),
        ['0:->queued', '1:queued>running', '1:running>crashed', '1:crashed>queued', '2:queued>running', '2:running>failed'],
      );
      const run = (await getRun(db, 'fence-1'))!;
      assert.equal(run.exit_code, 3);
      assert.equal(run.output_tail, 'boom');
    });

    const put = (points: PointRow[]) => db.transaction((tx) => insertPoints(tx, points));

    test('metric points are stored exactly once, non-finite values included', async () => {
      await sweepWithRuns('met', 1);
      await claimRun(db, { runId: 'met-1', token: 'T', agentId: 'a', host: 'h', gpu: null });
      const t = new Date();
      const batch = [
        { runId: 'met-1', attempt: 1, seq: 1, step: 0, name: 'loss', value: 1.5, time: t },
        { runId: 'met-1', attempt: 1, seq: 2, step: 1, name: 'loss', value: 0.5, time: t },
        { runId: 'met-1', attempt: 1, seq: 3, step: 2, name: 'loss', value: Number.NaN, time: t },
      ];
      assert.equal(await put(batch), 3);
      assert.equal(await put(batch), 0, 'a re-delivered batch inserts nothing');
      const again = [...batch.slice(1), { runId: 'met-1', attempt: 1, seq: 4, step: 3, name: 'loss', value: 0.25, time: t }];
      assert.equal(await put(again), 1, 'only the new point of a partly re-delivered batch is stored');
      assert.deepEqual(
        (await attemptPoints(db, [{ runId: 'met-1', attempt: 1 }])).map((p) => p.seq),
        [1, 2, 3, 4],
      );
      const history = await runHistory(db, 'met-1', 1);
      assert.deepEqual(history.map((h) => h.value).slice(0, 2), [1.5, 0.5]);
      assert.ok(Number.isNaN(history[2]!.value));
      assert.deepEqual((await metricCurves(db, 'met', 'loss')).get('met-1')!.slice(0, 2), [1.5, 0.5]);
    });

    test('a re-delivered point keeps the rest of its transaction: what came before it and what follows are committed', async () => {
      await sweepWithRuns('redel', 1);
      await claimRun(db, { runId: 'redel-1', token: 'T-redel', agentId: 'a', host: 'h', gpu: null });
      const t = new Date();
      const point = (seq: number) => ({ runId: 'redel-1', attempt: 1, seq, step: seq, name: 'loss', value: seq / 10, time: t });
      assert.equal(await put([point(1), point(2)]), 2);
      // A batch that repeats a stored point, and one point twice within itself, among new ones: the
      // plain insert meets the key, and the redo skips exactly the points already there.
      const stored = await db.transaction(async (tx) => {
        await tx.query(`UPDATE runs SET heartbeat_at = now() - interval '1 hour' WHERE id = 'redel-1'`);
        const n = await insertPoints(tx, [point(2), point(3), point(4), point(4)]);
        await tx.query(`UPDATE runs SET metric_count = 42 WHERE id = 'redel-1'`);
        return n;
      });
      assert.equal(stored, 2, 'points 3 and 4 are new; 2 was stored and 4 came twice');
      assert.deepEqual((await attemptPoints(db, [{ runId: 'redel-1', attempt: 1 }])).map((p) => p.seq), [1, 2, 3, 4]);
      const run = await getRun(db, 'redel-1');
      assert.equal(run!.metric_count, 42, 'the statement after the redo was committed');
      assert.ok(Date.now() - run!.heartbeat_at!.getTime() > 30 * 60_000, 'the statement before the insert survived its rollback to the savepoint');
    });

    test('metric values and times come back exactly: infinities, extremes, subnormals, odd decimals, millisecond times', async () => {
      await sweepWithRuns('exact', 1);
      await claimRun(db, { runId: 'exact-1', token: 'T-exact', agentId: 'a', host: 'h', gpu: null });
      const values = [Infinity, -Infinity, Number.MAX_VALUE, -Number.MAX_VALUE, Number.MIN_VALUE, 1e-300, 0.1 + 0.2, -0.0000123456789, 123456789.12345679, 2 ** 53 + 2, 0];
      const t0 = Date.UTC(2026, 11, 7, 12, 34, 56, 789);
      const points = values.map((value, i) => ({ runId: 'exact-1', attempt: 1, seq: i + 1, step: 2 ** 31 - 1 - i, name: 'v', value, time: new Date(t0 + i) }));
      assert.equal(await put(points), values.length);
      const back = await attemptPoints(db, [{ runId: 'exact-1', attempt: 1 }]);
      assert.deepEqual(
        back.map((p) => p.value),
        values,
      );
      assert.deepEqual(
        back.map((p) => p.step),
        points.map((p) => p.step),
      );
      assert.deepEqual(
        back.map((p) => new Date(p.time).getTime()),
        points.map((p) => p.time.getTime()),
      );
    });

    test('best run, best-so-far curve, sorted and filtered run lists', async () => {
      await sweepWithRuns('best', 5);
      const values = [3, 1, 2, 0.5, 0.5];
      for (let i = 0; i < 5; i++) {
        const id = `best-${i + 1}`;
        await claimRun(db, { runId: id, token: `t${i}`, agentId: 'a', host: 'h', gpu: null });
        await updateSummaries(db, [
          {
            runId: id,
            summary: { loss: { last: values[i]!, min: values[i]!, max: values[i]!, count: 1, step: 0 } },
            objective: values[i]!,
            objectiveStep: 0,
            latestValue: values[i]!,
            metricCount: 1,
          },
        ]);
        if (i < 4) {
          const ended = await endRun(db, { runId: id, token: `t${i}`, state: 'finished', exitCode: 0, signal: null, reason: 'exit 0', tail: '' });
          assert.equal(ended.status, 'ended');
          if (ended.status === 'ended') {
            // Improves at runs 1, 2 and 4 (3 → 1 → 0.5); run 3's 2 is no improvement.
            assert.equal(await recordEndedValue(db, ended.run), i !== 2);
          }
          await db.query(`UPDATE runs SET ended_at = now() + ($2::int * interval '1 second') WHERE id = $1`, [id, i]);
        }
      }
      assert.equal((await bestRun(db, 'best', 'minimize'))!.id, 'best-4');
      assert.equal((await bestRun(db, 'best', 'maximize'))!.id, 'best-1');
      const curve = await bestCurve(db, 'best');
      assert.equal(curve.counted, 4);
      assert.deepEqual(curve.points.map((p) => [p.index, p.value]), [[1, 3], [2, 1], [4, 0.5]]);
      // Rebuilding from the runs (as the migration does for older sweeps) gives the same curve.
      await rebuildBest(db, 'best');
      const rebuilt = await bestCurve(db, 'best');
      assert.deepEqual(rebuilt.points.map((p) => [p.index, p.runId, p.value]), curve.points.map((p) => [p.index, p.runId, p.value]));
      assert.equal(rebuilt.counted, 4);
      const byMetric = await listRuns(db, { sweepId: 'best', sort: 'metric', goal: 'minimize', limit: 2, offset: 0 });
      assert.equal(byMetric.total, 5);
      assert.deepEqual(byMetric.runs.map((r) => r.id), ['best-4', 'best-5']);
      const running = await listRuns(db, { sweepId: 'best', states: ['running'], sort: '-number', goal: 'minimize', limit: 10, offset: 0 });
      assert.deepEqual(running.runs.map((r) => r.id), ['best-5']);
      const page2 = await listRuns(db, { sweepId: 'best', sort: 'number', goal: 'minimize', limit: 2, offset: 2 });
      assert.deepEqual(page2.runs.map((r) => r.number), [3, 4]);
      // A page prints its timestamps in Postgres (ListedRun): the same text the Date of the run's
      // row prints, null where the row has none, and the order by start time still by time.
      await db.query(`UPDATE runs SET started_at = started_at + interval '123.456789 seconds' WHERE id = 'best-2'`);
      const all = await listRuns(db, { sweepId: 'best', sort: 'started', goal: 'minimize', limit: 10, offset: 0 });
      const text = (d: Date | null) => (d === null ? null : d.toISOString());
      for (const listed of all.runs) {
        const row = (await getRun(db, listed.id))!;
        assert.deepEqual([listed.created_at, listed.started_at, listed.ended_at], [text(row.created_at), text(row.started_at), text(row.ended_at)], listed.id);
        assert.deepEqual(runSummary(listed), runSummary(row), listed.id);
      }
      assert.equal(all.runs.at(-1)!.id, 'best-2');
      assert.ok(all.runs.some((r) => r.ended_at === null));
      const hist = await strategyHistory(db, 'best');
      assert.equal(hist.ended.length, 4);
      assert.equal(hist.pending.length, 1);
    });

    test('sweep transitions are guarded and queued runs can be canceled', async () => {
      await sweepWithRuns('sw', 2);
      assert.ok(await transitionSweep(db, 'sw', ['running'], 'paused', 'user'));
      assert.equal(await transitionSweep(db, 'sw', ['running'], 'paused', 'user'), null);
      const fin = await transitionSweep(db, 'sw', ['running', 'paused'], 'finished', 'stopped by user');
      assert.equal(fin?.previous, 'paused');
      assert.ok(fin?.row.ended_at);
      assert.equal((await cancelQueuedRuns(db, 'sw', 'sweep stopped')).length, 2);
      assert.equal((await getSweep(db, 'sw'))!.state, 'finished');
    });
  });
}
