/**
 * SpecCache: the spec and its version come back as one pair, whatever other reads do meanwhile.
 * The scheduler once read the spec, then the cache's version: a concurrent read that stored an
 * edit in between made a run proposed from version 1 record itself as proposed by version 2 (seen
 * in the warm-start-edit e2e test: a run outside the narrowed range, labelled with the new version).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Queryable } from '../../../db/database.js';
import { SpecCache } from '../../../controller/context.js';
import type { SweepSpec } from '../../../strategies/types.js';

/** A database whose answers the test releases one by one, in the order it chooses. */
class ManualDb implements Queryable {
  version = 1;
  readonly waiting: Array<() => void> = [];
  spec(v: number): SweepSpec {
    return { name: `v${v}` } as unknown as SweepSpec;
  }
  query<R>(text: string, params?: readonly unknown[]): Promise<{ rows: R[]; rowCount: number }> {
    // The answer is what the table holds when the test releases it.
    return new Promise((resolve) =>
      this.waiting.push(() => {
        const row = text.includes('CASE WHEN spec_version')
          ? { version: this.version, spec: params![1] === this.version ? null : this.spec(this.version) }
          : { spec_version: this.version, spec: this.spec(this.version) };
        resolve({ rows: [row as R], rowCount: 1 });
      }),
    );
  }
  release(): void {
    this.waiting.shift()!();
  }
}

const tick = () => new Promise((r) => setImmediate(r));

test('versioned: a read answered before an edit keeps its version, though a later read stored the edit first', async () => {
  const db = new ManualDb();
  const cache = new SpecCache();
  const first = cache.versioned(db, 's');
  db.release();
  assert.deepEqual(await first, { version: 1, spec: db.spec(1) });

  // A: asks whether version 1 is still current; the database says yes.
  const a = cache.versioned(db, 's');
  // The sweep is edited; B asks and stores version 2 before A's answer is read.
  const b = cache.versioned(db, 's');
  db.release(); // A's answer: unchanged (version 1)
  db.version = 2;
  db.release(); // B's answer: version 2
  await tick();
  const [ra, rb] = await Promise.all([a, b]);
  assert.deepEqual(ra, { version: 1, spec: db.spec(1) }, 'A: version 1 with the spec of version 1');
  assert.deepEqual(rb, { version: 2, spec: db.spec(2) });
  // And the cache now holds version 2.
  const c = cache.versioned(db, 's');
  db.release();
  assert.equal((await c).version, 2);
});
