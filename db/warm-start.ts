/**
 * SQL for results imported into a sweep (`controller/warm-start.ts`) and for the versions of an
 * edited spec (`controller/spec-edit.ts`).
 */
import type { Queryable } from './database.js';
import type { SweepRow } from './sweeps.js';

export interface ImportedRow {
  id: string;
  sweep_id: string;
  source: string;
  source_run: string | null;
  params: Record<string, unknown>;
  state: 'finished' | 'failed' | 'crashed' | 'stopped' | 'canceled';
  value: number | null;
  imported_at: Date;
}

export interface NewImported {
  source: string;
  sourceRun: string | null;
  params: Record<string, unknown>;
  state: ImportedRow['state'];
  value: number | null;
}

/** One insert for all rows (a W&B export can hold thousands). */
export async function insertImported(q: Queryable, sweepId: string, rows: readonly NewImported[]): Promise<number> {
  if (rows.length === 0) return 0;
  const { rows: out } = await q.query<{ n: number }>(
    `WITH ins AS (
       INSERT INTO imported_observations (sweep_id, source, source_run, params, state, value)
       SELECT $1, x.source, x.source_run, x.params, x.state, x.value
       FROM jsonb_to_recordset($2::jsonb) AS x(source text, source_run text, params jsonb, state text, value double precision)
       RETURNING 1)
     SELECT count(*)::int AS n FROM ins`,
    [sweepId, JSON.stringify(rows.map((r) => ({ source: r.source, source_run: r.sourceRun, params: r.params, state: r.state, value: r.value })))],
  );
  return out[0]!.n;
}

/** A sweep's imported results, in import order. */
export async function importedObservations(q: Queryable, sweepId: string): Promise<ImportedRow[]> {
  const { rows } = await q.query<ImportedRow>(`SELECT * FROM imported_observations WHERE sweep_id = $1 ORDER BY id`, [sweepId]);
  return rows;
}

/** How many results each source gave a sweep. */
export async function importedCounts(q: Queryable, sweepId: string): Promise<Array<{ source: string; count: number }>> {
  const { rows } = await q.query<{ source: string; count: number }>(
    `SELECT source, count(*)::int AS count FROM imported_observations WHERE sweep_id = $1 GROUP BY source ORDER BY min(id)`,
    [sweepId],
  );
  return rows;
}

export interface SpecVersionRow {
  sweep_id: string;
  version: number;
  spec: unknown;
  config_text: string;
  author: string | null;
  changes: string[];
  created_at: Date;
}

/** The sweep's spec version, and its spec only when it differs from `known` (a cache's check). */
export async function specIfChanged(q: Queryable, sweepId: string, known: number): Promise<{ version: number; spec: unknown } | null> {
  const { rows } = await q.query<{ version: number; spec: unknown }>(
    `SELECT spec_version AS version, CASE WHEN spec_version = $2 THEN NULL ELSE spec END AS spec FROM sweeps WHERE id = $1`,
    [sweepId, known],
  );
  return rows[0] ?? null;
}

/**
 * Records a new version of a sweep's spec and makes it the sweep's: the version row, then the sweep
 * row (spec, file text, version, run_cap, expected_runs). Version 1 (the spec the sweep was created
 * with) is written first when this is the first edit. Call under the sweep lock.
 */
export async function saveSpecVersion(
  q: Queryable,
  sweep: SweepRow,
  next: { spec: unknown; configText: string; author: string | null; changes: string[]; runCap: number | null; expectedRuns: number | null },
): Promise<SweepRow> {
  await q.query(
    `INSERT INTO sweep_spec_versions (sweep_id, version, spec, config_text, author, changes, created_at)
     VALUES ($1, 1, $2, $3, $4, '["created"]'::jsonb, $5)
     ON CONFLICT (sweep_id, version) DO NOTHING`,
    [sweep.id, JSON.stringify(sweep.spec), sweep.config_text, sweep.created_by, sweep.created_at],
  );
  const version = sweep.spec_version + 1;
  await q.query(
    `INSERT INTO sweep_spec_versions (sweep_id, version, spec, config_text, author, changes) VALUES ($1, $2, $3, $4, $5, $6)`,
    [sweep.id, version, JSON.stringify(next.spec), next.configText, next.author, JSON.stringify(next.changes)],
  );
  const { rows } = await q.query<SweepRow>(
    `UPDATE sweeps SET spec = $2, config_text = $3, spec_version = $4, run_cap = $5, expected_runs = $6, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [sweep.id, JSON.stringify(next.spec), next.configText, version, next.runCap, next.expectedRuns],
  );
  return rows[0]!;
}

/** Every version of a sweep's spec, oldest first; a sweep never edited has its creation as version 1. */
export async function specVersions(q: Queryable, sweep: SweepRow): Promise<SpecVersionRow[]> {
  const { rows } = await q.query<SpecVersionRow>(`SELECT * FROM sweep_spec_versions WHERE sweep_id = $1 ORDER BY version`, [sweep.id]);
  if (rows.length > 0) return rows;
  return [{ sweep_id: sweep.id, version: 1, spec: sweep.spec, config_text: sweep.config_text, author: sweep.created_by, changes: ['created'], created_at: sweep.created_at }];
}

/** Every run of a sweep with what an import needs (id, number, state, params, objective), by number. */
export async function runResults(q: Queryable, sweepId: string): Promise<Array<{ id: string; number: number; state: string; params: Record<string, unknown>; objective: number | null }>> {
  const { rows } = await q.query<{ id: string; number: number; state: string; params: Record<string, unknown>; objective: number | null }>(
    `SELECT id, number, state, params, objective FROM runs WHERE sweep_id = $1 ORDER BY number`,
    [sweepId],
  );
  return rows;
}
