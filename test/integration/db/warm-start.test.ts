/**
 * The storage of warm starts and spec versions (db/warm-start.ts) on real Postgres and on PGlite:
 * imported observations stored apart from runs and counted by source; spec versions with version 1
 * written at the first edit; and a second controller's spec cache (another replica) seeing an edit
 * at its next read through the version check, dropping what it built from the old spec.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { getSweep, insertSweep } from '../../../db/sweeps.js';
import { importedCounts, importedObservations, insertImported, saveSpecVersion, specVersions } from '../../../db/warm-start.js';
import { SpecCache } from '../../../controller/context.js';

const opts = await needServices();

for (const backend of BACKENDS) {
  describe(`warm start and spec versions on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    const spec = (max: number) => ({ method: 'random', parameters: { x: { distribution: 'uniform', min: 0, max } }, harrow: {} });
    async function sweep(id: string): Promise<void> {
      await insertSweep(db, { id, name: id, method: 'random', spec: spec(1), configText: 'v1', seed: 1, metricName: 'loss', goal: 'minimize', runCap: 10, expectedRuns: null, createdBy: 'ana' });
    }

    test('imported observations: stored in one insert, read in order, counted by source, never runs', async () => {
      await sweep('sw-imp');
      const n = await insertImported(db, 'sw-imp', [
        { source: 'file:a.csv', sourceRun: 'r1', params: { x: 0.1 }, state: 'finished', value: 0.5 },
        { source: 'file:a.csv', sourceRun: null, params: { x: 0.2 }, state: 'failed', value: null },
        { source: 'sweep:other', sourceRun: 'other-1', params: { x: 0.3 }, state: 'finished', value: -1e-300 },
      ]);
      assert.equal(n, 3);
      const rows = await importedObservations(db, 'sw-imp');
      assert.deepEqual(rows.map((r) => [r.source_run, r.params, r.state, r.value]), [
        ['r1', { x: 0.1 }, 'finished', 0.5],
        [null, { x: 0.2 }, 'failed', null],
        ['other-1', { x: 0.3 }, 'finished', -1e-300],
      ]);
      assert.deepEqual(await importedCounts(db, 'sw-imp'), [
        { source: 'file:a.csv', count: 2 },
        { source: 'sweep:other', count: 1 },
      ]);
      assert.equal(await insertImported(db, 'sw-imp', []), 0);
      const runs = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = 'sw-imp'`);
      assert.equal(runs.rows[0]!.n, 0);
    });

    test('spec versions: version 1 written at the first edit, each with author and changes; another replica sees the edit', async () => {
      await sweep('sw-ver');
      const changed: string[] = [];
      const replicaA = new SpecCache();
      const replicaB = new SpecCache((id) => changed.push(id));
      assert.equal(((await replicaB.get(db, 'sw-ver')) as unknown as ReturnType<typeof spec>).parameters.x.max, 1);
      assert.equal((await replicaB.versioned(db, 'sw-ver')).version, 1);
      let row = (await getSweep(db, 'sw-ver'))!;
      assert.deepEqual((await specVersions(db, row)).map((v) => [v.version, v.author, v.changes]), [[1, 'ana', ['created']]]);

      row = await db.transaction((tx) => saveSpecVersion(tx, row, { spec: spec(2), configText: 'v2', author: 'bob', changes: ['parameters.x: widened'], runCap: 12, expectedRuns: null }));
      assert.equal(row.spec_version, 2);
      assert.equal(row.run_cap, 12);
      assert.equal(row.config_text, 'v2');
      const versions = await specVersions(db, row);
      assert.deepEqual(versions.map((v) => [v.version, v.author, v.config_text, v.changes]), [
        [1, 'ana', 'v1', ['created']],
        [2, 'bob', 'v2', ['parameters.x: widened']],
      ]);

      // Replica B cached version 1: its next read returns version 2 and tells its holder.
      assert.equal(((await replicaB.get(db, 'sw-ver')) as unknown as ReturnType<typeof spec>).parameters.x.max, 2);
      assert.equal((await replicaB.versioned(db, 'sw-ver')).version, 2);
      assert.deepEqual(changed, ['sw-ver']);
      // An unchanged version is answered from the cache (the same object), without a new change.
      const again = await replicaB.get(db, 'sw-ver');
      assert.equal(again, await replicaB.get(db, 'sw-ver'));
      assert.deepEqual(changed, ['sw-ver']);
      assert.equal(((await replicaA.get(db, 'sw-ver')) as unknown as ReturnType<typeof spec>).parameters.x.max, 2);
    });
  });
}
