/** Reads for the analysis views (parameter importance): the runs that have a value, and a cheap version stamp. */
import type { Queryable } from './database.js';
import { BEST_RUN_STATES, type RunState } from '../protocol/run-states.js';

/**
 * Runs whose value counts for analysis: the same as for a sweep's best (finished and stopped). A
 * stopped run's value is what it reached before it was stopped: real, if pessimistic, evidence
 * about its configuration.
 */
export const ANALYZED_RUN_STATES = BEST_RUN_STATES;

/**
 * Changes whenever a run enters the analyzed set (the runs that count for the best: a run that
 * ended in such a state with a value bumps `sweeps.counted_runs` in the transaction that ends it,
 * and none leaves the set, as those states are terminal) or the spec changes (an edit may change
 * the goal). One row read: counting the runs each time cost 700 ms at 100,000 runs.
 */
export async function analyzedRunsVersion(q: Queryable, sweepId: string): Promise<string> {
  const { rows } = await q.query<{ counted_runs: number; spec_version: number }>(`SELECT counted_runs, spec_version FROM sweeps WHERE id = $1`, [sweepId]);
  const r = rows[0];
  return `${r?.counted_runs ?? 0}:${r?.spec_version ?? 0}`;
}

export interface AnalyzedRun {
  id: string;
  number: number;
  state: RunState;
  params: Record<string, unknown>;
  value: number;
}

export async function analyzedRuns(q: Queryable, sweepId: string): Promise<AnalyzedRun[]> {
  const { rows } = await q.query<AnalyzedRun>(
    `SELECT id, number, state, params, objective AS value FROM runs
     WHERE sweep_id = $1 AND objective IS NOT NULL AND state = ANY($2::text[]) ORDER BY number`,
    [sweepId, ANALYZED_RUN_STATES],
  );
  return rows;
}

export interface RunCurve {
  runId: string;
  number: number;
  attempt: number;
  /** [step, value (null for NaN/±Inf), time in ms] in logged order. */
  points: Array<[number, number | null, number]>;
}

/**
 * One metric's curve for many runs of a sweep (their current attempts) in one query: what the
 * dashboard's learning-curve and compare views draw. A curve longer than `maxPoints` is thinned
 * evenly (its last point always kept), so a 100k-step run costs the page what a 1k-step one does.
 */
export async function runCurves(q: Queryable, sweepId: string, runIds: readonly string[], name: string, maxPoints: number): Promise<RunCurve[]> {
  // Each run's curve comes as one JSON array built by Postgres, [step, value, epoch ms] per point
  // (non-finite values as null, times floored as Date truncates them): node-postgres turning
  // 3,000 rows into objects, and their timestamptz into Dates, cost more than the query. 30 runs x
  // 100 points of a 100,000-run sweep: 10.3 ms p50 as rows, 6.3 ms as one array per run.
  const { rows } = await q.query<{ run_id: string; number: number; attempt: number; points: Array<[number, number | null, number]> }>(
    `SELECT r.id AS run_id, r.number, r.attempt, c.points
     FROM runs r CROSS JOIN LATERAL (
       SELECT json_agg(json_build_array(
           m.step,
           CASE WHEN m.value = ANY('{NaN,Infinity,-Infinity}'::float8[]) THEN NULL ELSE m.value END,
           floor(extract(epoch FROM m.time) * 1000)::float8
         ) ORDER BY m.seq) AS points
       FROM metrics m WHERE m.run_id = r.id AND m.attempt = r.attempt AND m.name = $3) c
     WHERE r.sweep_id = $1 AND r.id = ANY($2::text[]) AND c.points IS NOT NULL
     ORDER BY r.number`,
    [sweepId, runIds, name],
  );
  return rows.map((r) => ({ runId: r.run_id, number: r.number, attempt: r.attempt, points: thin(r.points, maxPoints) }));
}

function thin<T>(points: T[], max: number): T[] {
  if (points.length <= max) return points;
  const stride = (points.length - 1) / (max - 1);
  return Array.from({ length: max }, (_, i) => points[Math.round(i * stride)]!);
}
