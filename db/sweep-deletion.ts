/**
 * Deleting a sweep and everything of it from Postgres (`harrow delete`). Every table that holds
 * a sweep's data hangs off `sweeps` or `runs` with ON DELETE CASCADE (migrations 0001-0006:
 * sweep_events, runs, run_attempts, metrics, run_events, best_points, metric_rejects); the rows
 * are still deleted here table by table, children first, so the counts can be reported and no
 * cascade has to look rows up through an unindexed foreign key (best_points.run_id has none).
 *
 * The audit trail (audit_log) is deliberately kept: it has no foreign key to sweeps, it is
 * append-only, and the record of the deletion itself is part of it.
 */
import type { Queryable } from './database.js';
import { lockSweep } from './sweeps.js';

/** Rows removed per table, for the audit entry and the CLI's summary. */
export type DeletedRows = Record<'sweeps' | 'sweep_events' | 'runs' | 'run_attempts' | 'metrics' | 'run_events' | 'best_points' | 'metric_rejects', number>;

/** Children first; each statement selects the sweep's rows through `runs.sweep_id` (indexed). */
const STATEMENTS: ReadonlyArray<[keyof DeletedRows, string]> = [
  ['best_points', 'DELETE FROM best_points WHERE sweep_id = $1'],
  ['metrics', 'DELETE FROM metrics WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = $1)'],
  ['metric_rejects', 'DELETE FROM metric_rejects WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = $1)'],
  ['run_events', 'DELETE FROM run_events WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = $1)'],
  ['run_attempts', 'DELETE FROM run_attempts WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = $1)'],
  // A rerun in another sweep cannot point here (reruns stay in their sweep), but the FK says SET NULL anyway.
  ['runs', 'DELETE FROM runs WHERE sweep_id = $1'],
  ['sweep_events', 'DELETE FROM sweep_events WHERE sweep_id = $1'],
  ['sweeps', 'DELETE FROM sweeps WHERE id = $1'],
];

/** The ids of a sweep's runs (their Redis control keys are named after them). */
export async function runIdsOfSweep(q: Queryable, sweepId: string): Promise<string[]> {
  const { rows } = await q.query<{ id: string }>('SELECT id FROM runs WHERE sweep_id = $1 ORDER BY number', [sweepId]);
  return rows.map((r) => r.id);
}

/**
 * Deletes the sweep's rows in the caller's transaction, under the sweep's advisory lock (the one
 * the scheduler records runs under, so no pass of any replica inserts a run meanwhile).
 */
export async function deleteSweepRows(tx: Queryable, sweepId: string): Promise<DeletedRows> {
  await lockSweep(tx, sweepId);
  const out = {} as DeletedRows;
  for (const [table, sql] of STATEMENTS) out[table] = (await tx.query(sql, [sweepId])).rowCount ?? 0;
  return out;
}
