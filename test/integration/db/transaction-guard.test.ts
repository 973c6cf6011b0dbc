/**
 * A query on the shared database handle from inside one of its own transactions fails loudly
 * instead of hanging (PGlite: one connection, the transaction holds it) or silently taking a second
 * connection outside the transaction (Postgres). The test suites open Postgres strict, as here.
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices, PG_URL, uniqueName } from '../../helpers/services.js';
import { openPostgres, readSnapshot, type Database, type Transaction } from '../../../db/database.js';
import { HarrowError } from '../../../protocol/errors.js';

const opts = await needServices();

/** Rejects with the guard's error, or fails the test if `p` settles otherwise (or hangs 5 s). */
async function refused(p: Promise<unknown>, what: RegExp): Promise<void> {
  const outcome = await Promise.race([
    p.then(
      () => 'resolved',
      (err: unknown) => err,
    ),
    new Promise((r) => setTimeout(() => r('hung'), 5000)),
  ]);
  assert.ok(outcome instanceof HarrowError, `expected the guard's error, got: ${String(outcome)}`);
  assert.equal(outcome.code, 'INTERNAL');
  assert.match(outcome.message, what);
}

for (const backend of BACKENDS) {
  describe(`transaction guard on ${backend.name}`, { ...opts, timeout: 30_000 }, () => {
    let db: Database;
    let drop: () => Promise<void>;

    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    test('a query, exec or transaction on the handle from inside a transaction is refused, naming the fix', async () => {
      await refused(
        db.transaction(async () => db.query('SELECT 1')),
        /query on the shared \w+ handle from inside one of its transactions: pass the transaction \(tx\) down instead/,
      );
      await refused(
        db.transaction(async () => db.exec('SELECT 1')),
        /exec on the shared/,
      );
      await refused(
        db.transaction(async () => db.transaction(async (tx) => tx.query('SELECT 1'))),
        /transaction on the shared/,
      );
      await refused(
        db.transaction(async () => readSnapshot(db, (tx) => tx.query('SELECT 1'))),
        /transaction on the shared/,
      );
      // Deeper in the call tree, after other awaits, still inside the transaction's async context.
      await refused(
        db.transaction(async (tx) => {
          await tx.query('SELECT 1');
          await new Promise((r) => setTimeout(r, 10));
          return Promise.all([tx.query('SELECT 2'), (async () => db.query('SELECT 3'))()]);
        }),
        /query on the shared/,
      );
      // The handle still works afterwards: the refused transactions rolled back and let go of the connection.
      assert.equal((await db.query<{ n: number }>('SELECT 1 AS n')).rows[0]!.n, 1);
    });

    test('the same queries through tx succeed, and other async contexts use the handle during the transaction', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      let inside!: () => void;
      const entered = new Promise<void>((r) => (inside = r));
      const tx = db.transaction(async (t) => {
        const { rows } = await t.query<{ n: number }>('SELECT 2 AS n');
        inside();
        await held;
        return rows[0]!.n;
      });
      await entered;
      // A concurrent request (its own async context) is not refused: on Postgres it gets another
      // connection at once; on PGlite it waits for the transaction, which ends below.
      const concurrent = db.query<{ n: number }>('SELECT 3 AS n');
      release();
      assert.equal(await tx, 2);
      assert.equal((await concurrent).rows[0]!.n, 3);
      // After the transaction, code that ran inside it may use the handle again (its context is closed).
      let later: (() => Promise<unknown>) | undefined;
      await db.transaction((tx) => {
        later = () => db.query('SELECT 4');
        return tx.query('SELECT 1');
      });
      await later!();
    });

    test('a transaction used after it ended is refused instead of running outside it', async () => {
      let leaked: Transaction | undefined;
      await db.transaction((tx) => {
        leaked = tx;
        return tx.query('SELECT 1');
      });
      await refused(leaked!.query('SELECT 1'), /transaction that has already ended/);
    });
  });
}

describe('transaction guard on Postgres, not strict', opts, () => {
  test('a nested query goes through (on a second pooled connection): only the test suites ask for strictness', async () => {
    const schema = uniqueName('guard');
    const db = await openPostgres({ connectionString: PG_URL, schema, max: 2 });
    try {
      const n = await db.transaction(async () => (await db.query<{ n: number }>('SELECT 5 AS n')).rows[0]!.n);
      assert.equal(n, 5);
    } finally {
      await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await db.close();
    }
  });
});
