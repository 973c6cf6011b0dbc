/**
 * SQL for steering a sweep (`controller/steering.ts`): its run_cap raised, the runs to rerun, the
 * run time and GPU time it has spent (`harrow.budget`), and the runs past `harrow.run_timeout`.
 */
import type { Queryable } from './database.js';
import type { SweepRow } from './sweeps.js';
import type { RunRow } from './runs.js';
import { LIVE_RUN_STATES, LIVE_SWEEP_STATES, type RunState } from '../protocol/run-states.js';

export async function setRunCap(q: Queryable, sweepId: string, runCap: number | null): Promise<SweepRow> {
  const { rows } = await q.query<SweepRow>(`UPDATE sweeps SET run_cap = $2, updated_at = now() WHERE id = $1 RETURNING *`, [sweepId, runCap]);
  return rows[0]!;
}

/**
 * Ended runs of a sweep in `states` that no run reruns yet, oldest first: a failed run is rerun
 * once (its rerun, should it fail too, can be rerun in turn).
 */
export async function runsToRerun(q: Queryable, sweepId: string, states: readonly RunState[]): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>(
    `SELECT r.* FROM runs r
     WHERE r.sweep_id = $1 AND r.state = ANY($2::text[])
       AND NOT EXISTS (SELECT 1 FROM runs n WHERE n.rerun_of = r.id)
     ORDER BY r.number`,
    [sweepId, states],
  );
  return rows;
}

/** Runs a user added to a sweep (reruns, enqueued and cloned configurations), not proposed by its strategy. */
export async function addedRuns(q: Queryable, sweepId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND (rerun_of IS NOT NULL OR proposal->>'source' IN ('user', 'rerun'))`,
    [sweepId],
  );
  return rows[0]!.n;
}

/**
 * Hours spent by each sweep's attempts: wall-clock time from the claim to the end (to now for
 * attempts still running), and the same multiplied by the GPUs each attempt held (its `gpu` field,
 * a comma-separated list; none held counts 0 GPU-hours). Every attempt counts: a crash's retry
 * spent GPU time too.
 */
export async function spentHours(q: Queryable, sweepIds: readonly string[]): Promise<Map<string, { runHours: number; gpuHours: number }>> {
  const { rows } = await q.query<{ sweep_id: string; run_hours: number; gpu_hours: number }>(
    `SELECT r.sweep_id,
       coalesce(sum(h.hours), 0)::float8 AS run_hours,
       coalesce(sum(h.hours * coalesce(array_length(string_to_array(nullif(a.gpu, ''), ','), 1), 0)), 0)::float8 AS gpu_hours
     FROM runs r
     JOIN run_attempts a ON a.run_id = r.id
     CROSS JOIN LATERAL (SELECT greatest(0, extract(epoch FROM coalesce(a.ended_at, now()) - a.started_at)) / 3600.0 AS hours) h
     WHERE r.sweep_id = ANY($1::text[])
     GROUP BY r.sweep_id`,
    [sweepIds],
  );
  const out = new Map(sweepIds.map((id) => [id, { runHours: 0, gpuHours: 0 }]));
  for (const r of rows) out.set(r.sweep_id, { runHours: Number(r.run_hours), gpuHours: Number(r.gpu_hours) });
  return out;
}

/** Sweeps that have not ended and have a `harrow.budget`. */
export async function liveSweepsWithBudget(q: Queryable): Promise<SweepRow[]> {
  const { rows } = await q.query<SweepRow>(
    `SELECT * FROM sweeps WHERE state = ANY($1::text[]) AND spec->'harrow'->'budget' IS NOT NULL ORDER BY id`,
    [LIVE_SWEEP_STATES],
  );
  return rows;
}

/**
 * Running runs whose current attempt started longer ago than their sweep's `harrow.run_timeout`,
 * and that are not being stopped already.
 */
export async function runsPastTimeout(q: Queryable): Promise<Array<RunRow & { timeout_text: string }>> {
  const { rows } = await q.query<RunRow & { timeout_text: string }>(
    `SELECT r.*, s.spec->'harrow'->'runTimeout'->>'text' AS timeout_text
     FROM runs r JOIN sweeps s ON s.id = r.sweep_id
     WHERE r.state = ANY($1::text[]) AND r.stop_info IS NULL
       AND s.spec->'harrow'->'runTimeout' IS NOT NULL
       AND r.started_at < now() - ((s.spec->'harrow'->'runTimeout'->>'ms')::float8 * interval '1 millisecond')
     ORDER BY r.started_at`,
    [LIVE_RUN_STATES],
  );
  return rows;
}
