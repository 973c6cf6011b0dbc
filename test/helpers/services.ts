/**
 * Real Postgres and Redis for integration tests. Each test gets its own schema and key prefix and
 * closes what it opens. In CI (CI=true) a missing service fails the run; locally the tests skip
 * with a loud message saying how to start the services.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openPostgres, openPglite, type Database } from '../../db/database.js';
import { migrate } from '../../db/migrate.js';
import { urlAnswers } from '../../cli/net.js';

export const PG_URL = process.env.HARROW_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
export const REDIS_URL = process.env.HARROW_TEST_REDIS_URL ?? 'redis://127.0.0.1:6379';

const HOW_TO_START = [
  'Start them with:',
  '  pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start',
  '  redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no',
  'or point HARROW_TEST_DATABASE_URL / HARROW_TEST_REDIS_URL at yours.',
].join('\n');

let checked: Promise<string | null> | undefined;

/** null when Postgres and Redis answer; else why not. */
export function servicesProblem(): Promise<string | null> {
  checked ??= (async () => {
    const [p, r] = await Promise.all([urlAnswers(PG_URL, 5432), urlAnswers(REDIS_URL, 6379)]);
    if (p && r) return null;
    return `${p ? '' : `Postgres at ${PG_URL} does not answer. `}${r ? '' : `Redis at ${REDIS_URL} does not answer. `}`;
  })();
  return checked;
}

/**
 * Options for `describe`/`test`: `{ skip: message }` when services are missing locally; throws in
 * CI so a broken environment can never pass as green.
 */
export async function needServices(): Promise<{ skip?: string }> {
  const problem = await servicesProblem();
  if (!problem) return {};
  if (process.env.CI) throw new Error(`integration tests need Postgres and Redis in CI: ${problem}\n${HOW_TO_START}`);
  const message = `SKIPPED integration tests: ${problem}\n${HOW_TO_START}`;
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}

/** `{ skip }` without Redis locally (for suites that need only Redis); in CI it fails the run. */
export async function needRedis(what = 'agent integration tests'): Promise<{ skip?: string }> {
  if (await urlAnswers(REDIS_URL, 6379)) return {};
  const message = `SKIPPED ${what}: Redis at ${REDIS_URL} does not answer.\n${HOW_TO_START}`;
  if (process.env.CI) throw new Error(message);
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}

export function uniqueName(tag: string): string {
  return `t_${tag}_${randomBytes(4).toString('hex')}`;
}

/** A migrated database in a fresh schema; `drop()` removes the schema. */
export async function freshPostgres(tag = 'db'): Promise<{ db: Database; schema: string; url: string; drop: () => Promise<void> }> {
  const schema = uniqueName(tag);
  // Strict: a query through the pool from inside a transaction fails the test (see TransactionGuard).
  const db = await openPostgres({ connectionString: PG_URL, schema, max: 5, strictTransactions: true });
  await migrate(db);
  const url = withSearchPath(PG_URL, schema);
  return {
    db,
    schema,
    url,
    drop: async () => {
      await db.close();
      const admin = new pg.Client({ connectionString: PG_URL });
      await admin.connect();
      try {
        await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}

/** A DATABASE_URL whose connections use `schema` (for child processes such as the controller). */
export function withSearchPath(url: string, schema: string): string {
  const u = new URL(url);
  u.searchParams.set('options', `-c search_path=${schema}`);
  return u.toString();
}

export async function freshPglite(): Promise<{ db: Database; drop: () => Promise<void> }> {
  const db = await openPglite();
  await migrate(db);
  return { db, drop: () => db.close() };
}

/** Both storage back ends, for suites that must pass on each. */
export const BACKENDS = [
  { name: 'postgres', open: () => freshPostgres() },
  { name: 'pglite', open: () => freshPglite() },
] as const;
