/**
 * The one database interface the rest of Harrow sees. Two implementations run the same SQL:
 * real Postgres through `pg` (when DATABASE_URL is set) and an embedded PGlite database in a
 * local data directory (one box, no server). Queries live in the other files of `db/` as small
 * named functions taking a `Queryable`.
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import pg from 'pg';
import type { PGlite } from '@electric-sql/pglite';
import { HarrowError } from '../protocol/errors.js';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

export interface Queryable {
  query<R = Record<string, unknown>>(text: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
}

/** A connection inside a transaction; `exec` runs a script of several statements. */
export interface Transaction extends Queryable {
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  readonly kind: 'postgres' | 'pglite';
  /**
   * Runs `fn` in one transaction on one connection; rolls back if it throws. Everything `fn` does
   * on the database goes through the `tx` it is given: see `TransactionGuard` for what happens to
   * a query on this handle from inside `fn`.
   */
  transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T>;
  /** Runs a script of several statements (migrations). */
  exec(sql: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Catches a query made on the shared handle from inside one of its own transactions. On PGlite
 * (one connection) such a query waits for the transaction, which waits for it: nothing is ever
 * committed again and every later query, /healthz included, hangs. On Postgres it silently takes a
 * second pooled connection and reads outside the transaction's snapshot and locks. Either way the
 * code meant `tx`. The transaction running in the current async context is tracked with
 * AsyncLocalStorage, so a concurrent request of its own (another async context) is unaffected.
 *
 * `strict` makes the guard throw: always on PGlite (throwing beats hanging forever), on Postgres
 * when asked (`strictTransactions`, which the test suites set so they catch the pattern there too).
 */
class TransactionGuard {
  private readonly current = new AsyncLocalStorage<{ open: boolean }>();

  constructor(
    private readonly kind: Database['kind'],
    private readonly strict: boolean,
  ) {}

  /** Throws when called from inside an open transaction of this handle. */
  outside(what: string): void {
    if (!this.strict || this.current.getStore()?.open !== true) return;
    throw new HarrowError(
      'INTERNAL',
      `${what} on the shared ${this.kind} handle from inside one of its transactions: pass the transaction (tx) down instead${this.kind === 'pglite' ? ' (on the embedded database this would wait for itself forever)' : ''}`,
    );
  }

  /** Runs `fn` as the open transaction of its async context; `tx` refuses use once it has ended. */
  run<T>(fn: (tx: Transaction) => Promise<T>, inner: Transaction): Promise<T> {
    const marker = { open: true };
    const tx: Transaction = {
      query: (text, params) => {
        if (!marker.open) return Promise.reject(ended());
        return inner.query(text, params);
      },
      exec: (sql) => {
        if (!marker.open) return Promise.reject(ended());
        return inner.exec(sql);
      },
    };
    const body = async () => {
      try {
        return await fn(tx);
      } finally {
        marker.open = false;
      }
    };
    // Not strict: no AsyncLocalStorage at all, so production Postgres pays for no promise hooks.
    return this.strict ? this.current.run(marker, body) : body();
  }
}

function ended(): HarrowError {
  return new HarrowError('INTERNAL', 'query on a transaction that has already ended: finish every query before the transaction callback returns');
}

// int8 (counts, sums) as JS numbers: every int8 Harrow reads fits in 2^53.
pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));

export interface PostgresOptions {
  connectionString: string;
  /** Schema to use (created if missing); tests get one each. */
  schema?: string;
  max?: number;
  /** Called for connection-level errors of idle clients (Postgres restarted, network cut). */
  onError?: (err: Error) => void;
  /** Throw on a query through the pool from inside one of its transactions (tests set it). */
  strictTransactions?: boolean;
}

function toResult<R>(r: { rows: unknown[]; rowCount?: number | null; affectedRows?: number }): QueryResult<R> {
  return { rows: r.rows as R[], rowCount: r.rowCount ?? r.affectedRows ?? r.rows.length };
}

export async function openPostgres(options: PostgresOptions): Promise<Database> {
  const { schema } = options;
  if (schema !== undefined && !/^[a-z_][a-z0-9_]*$/.test(schema)) {
    throw new Error(`invalid schema name '${schema}': use lower-case letters, digits and underscores`);
  }
  if (schema) {
    const admin = new pg.Client({ connectionString: options.connectionString });
    await admin.connect();
    try {
      await admin.query(`CREATE SCHEMA IF NOT EXISTS ${schema}`);
    } finally {
      await admin.end();
    }
  }
  const pool = new pg.Pool({
    connectionString: options.connectionString,
    max: options.max ?? 10,
    connectionTimeoutMillis: 5000,
    ...(schema ? { options: `-c search_path=${schema}` } : {}),
  });
  // An idle client losing its connection must not crash the process: the pool replaces it.
  pool.on('error', (err) => options.onError?.(err));
  const guard = new TransactionGuard('postgres', options.strictTransactions ?? false);
  return {
    kind: 'postgres',
    async query<R>(text: string, params?: readonly unknown[]) {
      guard.outside('query');
      return toResult<R>(await pool.query(text, params as unknown[] | undefined));
    },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      guard.outside('transaction');
      const client = await pool.connect();
      // A connection that dies while checked out emits 'error' on the client, which the pool only
      // handles for idle clients; unhandled, it would kill the process. The failure reaches the
      // caller through the rejected query anyway.
      const onError = (err: Error) => options.onError?.(err);
      client.on('error', onError);
      try {
        await client.query('BEGIN');
        const tx: Transaction = {
          async query<R>(text: string, params?: readonly unknown[]) {
            return toResult<R>(await client.query(text, params as unknown[] | undefined));
          },
          async exec(sql: string) {
            await client.query(sql);
          },
        };
        const result = await guard.run(fn, tx);
        await client.query('COMMIT');
        client.off('error', onError);
        client.release();
        return result;
      } catch (err) {
        // A broken connection cannot roll back; release it destroyed so the pool drops it.
        try {
          await client.query('ROLLBACK');
          client.off('error', onError);
          client.release();
        } catch {
          client.off('error', onError);
          client.release(true);
        }
        throw err;
      }
    },
    async exec(sql: string) {
      guard.outside('exec');
      await pool.query(sql);
    },
    async close() {
      await pool.end();
    },
  };
}

export interface PgliteOptions {
  /** Directory of the embedded database; in memory when omitted (tests). */
  dataDir?: string;
}

export async function openPglite(options: PgliteOptions = {}): Promise<Database> {
  const { PGlite } = await import('@electric-sql/pglite');
  if (options.dataDir) {
    const { mkdir } = await import('node:fs/promises');
    await mkdir(options.dataDir, { recursive: true });
  }
  const db: PGlite = await PGlite.create(options.dataDir ? { dataDir: options.dataDir } : {});
  // Always strict: with one connection, a nested query is a deadlock, never a slower success.
  const guard = new TransactionGuard('pglite', true);
  return {
    kind: 'pglite',
    async query<R>(text: string, params?: readonly unknown[]) {
      guard.outside('query');
      return toResult<R>(await db.query(text, params as unknown[] | undefined));
    },
    async transaction<T>(fn: (tx: Transaction) => Promise<T>): Promise<T> {
      guard.outside('transaction');
      return db.transaction(async (t) =>
        guard.run(fn, {
          async query<R>(text: string, params?: readonly unknown[]) {
            return toResult<R>(await t.query(text, params as unknown[] | undefined));
          },
          async exec(sql: string) {
            await t.exec(sql);
          },
        }),
      );
    },
    async exec(sql: string) {
      guard.outside('exec');
      await db.exec(sql);
    },
    async close() {
      await db.close();
    },
  };
}

/** Postgres when a URL is given, else the embedded database in `dataDir`. */
export async function openDatabase(options: {
  databaseUrl?: string | undefined;
  dataDir: string;
  schema?: string;
  onError?: (err: Error) => void;
  /** See `PostgresOptions.strictTransactions`; the embedded database is always strict. */
  strictTransactions?: boolean;
}): Promise<Database> {
  if (options.databaseUrl) {
    return openPostgres({
      connectionString: options.databaseUrl,
      ...(options.schema ? { schema: options.schema } : {}),
      ...(options.onError ? { onError: options.onError } : {}),
      ...(options.strictTransactions ? { strictTransactions: true } : {}),
    });
  }
  return openPglite({ dataDir: options.dataDir });
}

/** Runs several reads on one snapshot, so what they return agrees (counts with the best run, say). */
export function readSnapshot<T>(db: Database, fn: (tx: Queryable) => Promise<T>): Promise<T> {
  return db.transaction(async (tx) => {
    await tx.query('SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY');
    return fn(tx);
  });
}
