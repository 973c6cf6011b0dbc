/** Reads for the analysis views (parameter importance): the runs that have a value, and a cheap version stamp. */
import type { Queryable } from './database.js';
import type { RunState } from '../protocol/run-states.js';

/**
 * Runs whose value counts for analysis. A stopped run's value is what it reached before it was
 * stopped: real, if pessimistic, evidence about its configuration.
 */
export const ANALYZED_RUN_STATES: readonly RunState[] = ['finished', 'stopped'];

/** Changes whenever a run enters or leaves the analyzed set, or its value changes (ended_at moves). */
export async function analyzedRunsVersion(q: Queryable, sweepId: string): Promise<string> {
  const { rows } = await q.query<{ n: number; last: Date | null; total: number | null }>(
    `SELECT count(*)::int AS n, max(ended_at) AS last, sum(objective) AS total FROM runs
     WHERE sweep_id = $1 AND objective IS NOT NULL AND state = ANY($2::text[])`,
    [sweepId, ANALYZED_RUN_STATES],
  );
  const r = rows[0];
  return `${r?.n ?? 0}:${r?.last ? new Date(r.last).getTime() : 0}:${r?.total ?? 0}`;
}

export async function analyzedRuns(q: Queryable, sweepId: string): Promise<Array<{ params: Record<string, unknown>; value: number }>> {
  const { rows } = await q.query<{ params: Record<string, unknown>; value: number }>(
    `SELECT params, objective AS value FROM runs
     WHERE sweep_id = $1 AND objective IS NOT NULL AND state = ANY($2::text[]) ORDER BY number`,
    [sweepId, ANALYZED_RUN_STATES],
  );
  return rows;
}
