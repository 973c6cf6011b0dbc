/**
 * `EarlyStopper` against the database directly (Postgres and PGlite): after every transaction its
 * decision equals `decideStops` over the curves stored at that moment, whatever happened to its
 * cache — another replica's points, a re-delivered batch, points arriving out of order, a retry
 * that empties a run's curve, a transaction that rolled back after the stopper absorbed it.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { EarlyStopper, type Candidate } from '../../../controller/early-stopper.js';
import { openPglite, type Database, type Queryable } from '../../../db/database.js';
import { migrate } from '../../../db/migrate.js';
import { insertSweep } from '../../../db/sweeps.js';
import { claimRun, endRun, insertRuns, requeueRun } from '../../../db/runs.js';
import { insertPoints, lockCurveVersions, storedCurves, type PointRow } from '../../../db/metrics.js';
import { decideStops, type RunCurveState, type StopDecision } from '../../../strategies/early-terminate/index.js';
import type { CurveRuleSpec } from '../../../strategies/types.js';
import { freshPostgres, needServices } from '../../helpers/services.js';

const opts = await needServices();
const SPEC: CurveRuleSpec = { type: 'hyperband', bands: [2, 4, 8], eta: 2, strict: false };
const METRIC = { name: 'loss', goal: 'minimize' as const };
const SWEEP = 'sw';
const RUNS = ['sw-1', 'sw-2', 'sw-3', 'sw-4'];

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`EarlyStopper equals decideStops over storage (${backend})`, { ...opts, timeout: 60_000 }, () => {
    let db: Database;
    let cleanup: () => Promise<void>;
    const seqs = new Map<string, number>();
    const tokens = new Map<string, string>();
    const attempts = new Map<string, number>();

    before(async () => {
      if (backend === 'postgres') {
        const pg = await freshPostgres('stopper');
        db = pg.db;
        cleanup = pg.drop;
      } else {
        const dir = await mkdtemp(join(tmpdir(), 'harrow-stopper-'));
        db = await openPglite({ dataDir: dir });
        await migrate(db);
        cleanup = async () => {
          await db.close();
          await rm(dir, { recursive: true, force: true });
        };
      }
      await insertSweep(db, { id: SWEEP, name: null, method: 'random', spec: { earlyTerminate: SPEC }, configText: '', seed: 1, metricName: 'loss', goal: 'minimize', runCap: null, expectedRuns: null });
      await insertRuns(db, RUNS.map((id, i) => ({ id, sweepId: SWEEP, number: i + 1, params: {}, paramsHash: id, proposal: null })), 'test');
      for (const id of RUNS) await claim(id);
    });
    after(async () => {
      await cleanup?.();
    });

    async function claim(id: string): Promise<void> {
      const token = `${id}-t${(attempts.get(id) ?? 0) + 1}`;
      const r = await claimRun(db, { runId: id, token, agentId: 'a', host: 'h', gpu: null });
      assert.equal(r.status, 'accepted');
      tokens.set(id, token);
      attempts.set(id, (attempts.get(id) ?? 0) + 1);
      seqs.set(id, 0);
    }

    /** Points of one run with the next seqs (or the given ones), as a report would carry them. */
    function points(id: string, values: number[], o: { seqs?: number[]; name?: string } = {}): PointRow[] {
      return values.map((value, k) => {
        const seq = o.seqs?.[k] ?? seqs.get(id)! + 1;
        seqs.set(id, Math.max(seqs.get(id)!, seq));
        return { runId: id, attempt: attempts.get(id)!, seq, step: seq, name: o.name ?? 'loss', value, time: new Date() };
      });
    }

    /** One ingesting transaction, as the controller runs it; returns the stopper's decision. */
    async function ingest(stopper: EarlyStopper, given: PointRow[], o: { failAfter?: boolean } = {}): Promise<StopDecision[]> {
      let out: StopDecision[] = [];
      try {
        await db.transaction(async (tx) => {
          const versions = await lockCurveVersions(tx, [SWEEP]);
          await insertPoints(tx, given);
          const candidates: Candidate[] = [...new Set(given.filter((p) => p.name === 'loss').map((p) => p.runId))].map((id) => ({ id, attempt: attempts.get(id)!, state: 'running' }));
          out = await stopper.decide(tx, { sweepId: SWEEP, spec: SPEC, metric: METRIC, versionBefore: versions.get(SWEEP)!, given, candidates });
          if (o.failAfter) throw new Error('the batch failed after the stopper absorbed it');
        });
        stopper.committed();
      } catch (err) {
        stopper.rolledBack();
        if (!o.failAfter) throw err;
      }
      return out;
    }

    /** decideStops over what is stored now, judging the runs of `given`. */
    async function reference(q: Queryable, given: PointRow[]): Promise<StopDecision[]> {
      const curves = await storedCurves(q, SWEEP, 'loss');
      const candidates = [...new Set(given.filter((p) => p.name === 'loss').map((p) => p.runId))];
      return decideStops(SPEC, 'minimize', curves.map((c) => ({ runId: c.runId, state: c.state as RunCurveState, values: c.values })), candidates);
    }

    const sortById = (d: StopDecision[]) => [...d].sort((a, b) => (a.runId < b.runId ? -1 : 1));

    async function check(stopper: EarlyStopper, given: PointRow[], what: string): Promise<StopDecision[]> {
      const got = await ingest(stopper, given);
      assert.deepEqual(sortById(got), sortById(await reference(db, given)), what);
      return got;
    }

    test('one stopper, one report after another: one build, then every decision equals storage', async () => {
      const s = new EarlyStopper();
      await check(s, points('sw-1', [1.0, 0.9]), 'first report (the build)');
      await check(s, points('sw-2', [2.0, 1.9]), 'a worse run at band 2');
      await check(s, [...points('sw-3', [0.5]), ...points('sw-3', [7], { name: 'acc' })], 'another metric alongside');
      const d = await check(s, points('sw-3', [0.4]), 'sw-3 reaches band 2');
      assert.deepEqual(d, [], 'the best run is not stopped');
      assert.equal(s.rebuilds, 1);
    });

    test('two replicas alternating: each catches up from storage and decides as storage says', async () => {
      const a = new EarlyStopper();
      const b = new EarlyStopper();
      await check(a, points('sw-4', [3.0]), 'replica a');
      const stop = await check(b, points('sw-4', [3.1]), 'replica b, after a stored a point it never saw');
      assert.deepEqual(stop.map((x) => [x.runId, x.band]), [['sw-4', 2]], 'sw-4 is the worst at band 2');
      await check(a, points('sw-1', [0.8]), 'replica a again, behind b');
      assert.ok(a.rebuilds >= 2 && b.rebuilds >= 1, `rebuilds: a ${a.rebuilds}, b ${b.rebuilds}`);
    });

    test('a re-delivered batch, and points arriving out of order, are never counted twice or out of seq order', async () => {
      const s = new EarlyStopper();
      const batch = points('sw-2', [1.8, 1.7]);
      await check(s, batch, 'the batch');
      const before = s.rebuilds;
      await check(s, batch, 're-delivered: nothing new is stored');
      assert.equal(s.rebuilds, before + 1, 'a batch that was not all new is not appended');
      // seqs 7..8 arrive before 5..6 (another replica took over 5..6 late).
      const base = seqs.get('sw-2')!;
      await check(s, points('sw-2', [1.4, 1.3], { seqs: [base + 3, base + 4] }), 'the later points first');
      const r = s.rebuilds;
      await check(s, points('sw-2', [1.6, 1.5], { seqs: [base + 1, base + 2] }), 'the earlier points last');
      assert.equal(s.rebuilds, r + 1, 'points older than what the cache saw make it rebuild');
      const stored = (await storedCurves(db, SWEEP, 'loss')).find((c) => c.runId === 'sw-2')!;
      assert.deepEqual(stored.values.slice(-6), [1.8, 1.7, 1.6, 1.5, 1.4, 1.3]);
    });

    test('a retry empties the run\'s curve; a rolled-back transaction leaves nothing in the cache', async () => {
      const s = new EarlyStopper();
      await check(s, points('sw-1', [0.7]), 'warm');
      // sw-1 fails and is retried: its new attempt starts an empty curve.
      await endRun(db, { runId: 'sw-1', token: tokens.get('sw-1')!, state: 'failed', exitCode: 1, signal: null, reason: 'exit 1', tail: '' });
      await requeueRun(db, 'sw-1', 'retry');
      await claim('sw-1');
      await check(s, points('sw-1', [5.0, 5.0]), 'the retried run at band 2 again, judged on its new attempt only');
      // A batch that rolls back after the stopper absorbed it: the next decision must not see it.
      await ingest(s, points('sw-4', [0.01, 0.01, 0.01, 0.01, 0.01, 0.01]), { failAfter: true });
      seqs.set('sw-4', seqs.get('sw-4')! - 6);
      // Another replica then stores as many points (other values, same seqs): the sweep's version
      // is back where the rolled-back transaction had left this stopper's cache.
      await check(new EarlyStopper(), points('sw-4', [9, 9, 9, 9, 9, 9]), 'another replica');
      // sw-1 (best 2 at band 4) is below the stored bar; the rolled-back 0.01s would have stopped it.
      const d = await check(s, points('sw-1', [2, 2]), 'after the rollback');
      assert.deepEqual(d, [], 'judged on what is stored, sw-1 goes on');
    });
  });
}
