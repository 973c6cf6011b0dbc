/**
 * Numbered, forward-only migrations (`db/migrations/NNNN_name.sql`), applied in order in one
 * transaction under an advisory lock, with a ledger table: two controllers starting at once
 * apply each migration exactly once, and applying twice is a no-op.
 */
import { readdir, readFile } from 'node:fs/promises';
import { createHash } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { Database } from './database.js';

/** `db/migrations` in the package (this file runs from `dist/db/`). */
export const MIGRATIONS_DIR = fileURLToPath(new URL('../../db/migrations/', import.meta.url));

/** Arbitrary constant: the advisory lock id that serializes migrators. */
const MIGRATION_LOCK_ID = 7_244_001;

export interface Migration {
  id: number;
  name: string;
  sql: string;
  checksum: string;
}

export async function loadMigrations(dir = MIGRATIONS_DIR): Promise<Migration[]> {
  const files = (await readdir(dir)).filter((f) => /^\d{4}_[a-z0-9_]+\.sql$/.test(f)).sort();
  return Promise.all(
    files.map(async (file) => {
      const sql = await readFile(new URL(file, `file://${dir.endsWith('/') ? dir : `${dir}/`}`), 'utf8');
      return {
        id: Number(file.slice(0, 4)),
        name: file.replace(/\.sql$/, ''),
        sql,
        checksum: createHash('sha256').update(sql).digest('hex'),
      };
    }),
  );
}

/** Applies pending migrations; returns the names applied now (empty when up to date). */
export async function migrate(db: Database, dir?: string): Promise<string[]> {
  const migrations = await loadMigrations(dir);
  return db.transaction(async (tx) => {
    // The ledger is created under the lock too: concurrent CREATE TABLE IF NOT EXISTS can race.
    await tx.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK_ID]);
    await tx.exec(`CREATE TABLE IF NOT EXISTS harrow_migrations (
      id integer PRIMARY KEY,
      name text NOT NULL,
      checksum text NOT NULL,
      applied_at timestamptz NOT NULL DEFAULT now()
    )`);
    const { rows } = await tx.query<{ id: number; name: string; checksum: string }>(
      'SELECT id, name, checksum FROM harrow_migrations ORDER BY id',
    );
    const applied = new Map(rows.map((r) => [r.id, r]));
    const done: string[] = [];
    for (const m of migrations) {
      const prior = applied.get(m.id);
      if (prior) {
        if (prior.checksum !== m.checksum) {
          throw new Error(
            `migration ${m.name} was changed after it was applied (checksum differs); migrations are forward-only: add a new numbered file instead`,
          );
        }
        continue;
      }
      await tx.exec(m.sql);
      await tx.query('INSERT INTO harrow_migrations (id, name, checksum) VALUES ($1, $2, $3)', [m.id, m.name, m.checksum]);
      done.push(m.name);
    }
    return done;
  });
}
