/**
 * SQL for what a run's warnings record (`0005_run_warnings.sql`): metric points refused alone,
 * and points the agent sent that never arrived. Each warning is recomputed from what is stored,
 * so a re-delivered report or end changes nothing.
 */
import type { Queryable } from './database.js';

export interface RefusedPointRow {
  runId: string;
  attempt: number;
  seq: number | null;
  step: string | null;
  name: string | null;
  reason: string;
}

/** Stores refused points (each once) and refreshes the `points_refused` warning of their attempts. */
export async function recordRefusedPoints(q: Queryable, refused: readonly RefusedPointRow[]): Promise<void> {
  if (refused.length === 0) return;
  await q.query(
    `INSERT INTO metric_rejects (run_id, attempt, seq, step, name, reason)
     SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::text[], $5::text[], $6::text[])
     ON CONFLICT DO NOTHING`,
    [
      refused.map((r) => r.runId),
      refused.map((r) => r.attempt),
      refused.map((r) => r.seq),
      refused.map((r) => r.step),
      refused.map((r) => r.name),
      refused.map((r) => r.reason),
    ],
  );
  const runs = [...new Set(refused.map((r) => r.runId))];
  await q.query(
    `UPDATE runs r SET warnings = harrow_put_warning(r.warnings, jsonb_build_object(
        'kind', 'points_refused', 'attempt', a.attempt, 'count', a.n,
        'message', format('%s metric point%s could not be stored and %s refused alone (the other points were kept); first: %s',
                          a.n, CASE WHEN a.n = 1 THEN '' ELSE 's' END, CASE WHEN a.n = 1 THEN 'was' ELSE 'were' END, a.first),
        'examples', a.examples))
     FROM (SELECT run_id, attempt, count(*)::int AS n,
             (array_agg(coalesce('''' || name || ''' ', '') || coalesce('step ' || step || ' ', '') || '(' || reason || ')' ORDER BY id))[1] AS first,
             to_jsonb((array_agg(jsonb_build_object('seq', seq, 'name', name, 'step', step, 'reason', reason) ORDER BY id))[1:5]) AS examples
           FROM metric_rejects WHERE run_id = ANY($1::text[]) GROUP BY run_id, attempt) a
     WHERE r.id = a.run_id`,
    [runs],
  );
}

/**
 * How many of the points up to `lastSeq` of an attempt are neither stored nor refused yet (read
 * only: an end report that arrives before its points may wait for them, see the ingestor).
 */
export async function missingPoints(q: Queryable, runId: string, attempt: number, lastSeq: number): Promise<number> {
  if (lastSeq <= 0) return 0;
  const { rows } = await q.query<{ missing: number }>(
    `SELECT ($3::int - (SELECT count(*) FROM metrics WHERE run_id = $1 AND attempt = $2 AND seq <= $3)
                    - (SELECT count(*) FROM metric_rejects WHERE run_id = $1 AND attempt = $2 AND seq <= $3))::int AS missing`,
    [runId, attempt, lastSeq],
  );
  return rows[0]?.missing ?? 0;
}

/**
 * The seqs up to `lastSeq` of an attempt that are neither stored nor refused, as inclusive ranges
 * in order (at most `limit`): what the controller asks the agent to send again. One pass over the
 * attempt's stored seqs (its primary key), however long the gaps are.
 */
export async function missingRanges(q: Queryable, runId: string, attempt: number, lastSeq: number, limit: number): Promise<Array<[number, number]>> {
  if (lastSeq <= 0) return [];
  const { rows } = await q.query<{ first: number; last: number }>(
    `SELECT prev + 1 AS first, seq - 1 AS last
     FROM (SELECT seq, lag(seq, 1, 0) OVER (ORDER BY seq) AS prev
           FROM (SELECT seq FROM metrics WHERE run_id = $1 AND attempt = $2 AND seq <= $3
                 UNION SELECT seq FROM metric_rejects WHERE run_id = $1 AND attempt = $2 AND seq <= $3
                 UNION SELECT $3::int + 1) s) g
     WHERE seq > prev + 1
     ORDER BY first
     LIMIT $4`,
    [runId, attempt, lastSeq, limit],
  );
  return rows.map((r) => [Number(r.first), Number(r.last)]);
}

/**
 * After a run's end report: checks that every point up to `lastSeq` (the highest the agent sent)
 * was stored or refused. Missing ones (lost on the way: Redis flushed or restarted without
 * persistence) are recorded as a `data_loss` warning. Returns how many are missing.
 */
export async function checkPointsComplete(q: Queryable, runId: string, attempt: number, lastSeq: number): Promise<number> {
  if (lastSeq <= 0) return 0;
  const { rows } = await q.query<{ missing: number }>(
    `WITH c AS (
       SELECT (SELECT count(*) FROM metrics WHERE run_id = $1 AND attempt = $2 AND seq <= $3)::int AS stored,
              (SELECT count(*) FROM metric_rejects WHERE run_id = $1 AND attempt = $2 AND seq <= $3)::int AS refused)
     UPDATE runs r SET warnings = harrow_put_warning(r.warnings, jsonb_build_object(
         'kind', 'data_loss', 'attempt', $2::int, 'count', $3 - c.stored - c.refused,
         'lastSeq', $3::int, 'stored', c.stored, 'refused', c.refused,
         'message', format('data loss: %s of the %s metric points the agent sent never reached the controller (Redis lost them?); %s stored%s',
                           $3 - c.stored - c.refused, $3::int, c.stored, CASE WHEN c.refused > 0 THEN format(', %s refused', c.refused) ELSE '' END)))
     FROM c WHERE r.id = $1 AND $3 - c.stored - c.refused > 0
     RETURNING ($3 - c.stored - c.refused)::int AS missing`,
    [runId, attempt, lastSeq],
  );
  return rows[0]?.missing ?? 0;
}
