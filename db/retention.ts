/**
 * Retention (HARROW_RETENTION_DAYS): the bulky detail of sweeps that ended long ago goes, their
 * summary stays. What goes: every metric point (`metrics`), every refused point
 * (`metric_rejects`) and each run's output tail (`runs.output_tail`). What stays: the sweep
 * (spec, file, state, best, best-so-far curve in `best_points`), and each run's state, parameters,
 * summary (last/min/max per metric), objective, warnings, attempts and state changes.
 *
 * A sweep qualifies once it has ended (finished or canceled) before the cutoff and none of its
 * runs is still live. Passes are idempotent: a sweep whose detail is gone no longer qualifies.
 */
import type { Queryable } from './database.js';
import { ENDED_SWEEP_STATES, LIVE_RUN_STATES } from '../protocol/run-states.js';

/** Arbitrary constant: the advisory lock that lets one controller replica at a time run a pass. */
const RETENTION_LOCK_ID = 7_244_014;

export interface ExpiringSweep {
  id: string;
  name: string | null;
  ended_at: Date;
  /** Runs whose output tail would go. */
  tails: number;
  /** Metric points (kept and refused) that would go. */
  points: number;
}

const QUALIFIES = `s.state = ANY($2::text[]) AND s.ended_at < $1
  AND NOT EXISTS (SELECT 1 FROM runs l WHERE l.sweep_id = s.id AND l.state = ANY($3::text[]))`;

/** The sweeps whose detail a pass with this cutoff removes, with how much of it, oldest first. */
export async function expiringSweeps(q: Queryable, cutoff: Date, limit = 1000): Promise<ExpiringSweep[]> {
  const { rows } = await q.query<ExpiringSweep>(
    `SELECT s.id, s.name, s.ended_at, d.tails, d.points FROM sweeps s
     CROSS JOIN LATERAL (
       SELECT count(*) FILTER (WHERE r.output_tail IS NOT NULL)::int AS tails,
              (coalesce(sum((SELECT count(*) FROM metrics m WHERE m.run_id = r.id)), 0)
               + coalesce(sum((SELECT count(*) FROM metric_rejects x WHERE x.run_id = r.id)), 0))::int AS points
       FROM runs r WHERE r.sweep_id = s.id
     ) d
     WHERE ${QUALIFIES} AND (d.tails > 0 OR d.points > 0)
     ORDER BY s.ended_at, s.id LIMIT $4`,
    [cutoff, ENDED_SWEEP_STATES, LIVE_RUN_STATES, limit],
  );
  return rows;
}

/**
 * Takes the retention lock for the caller's transaction; false when another replica holds it
 * (that replica is running the pass). Transaction-scoped, so it suits a transaction-mode pooler.
 */
export async function tryRetentionLock(tx: Queryable): Promise<boolean> {
  const { rows } = await tx.query<{ ok: boolean }>('SELECT pg_try_advisory_xact_lock($1) AS ok', [RETENTION_LOCK_ID]);
  return rows[0]!.ok;
}

/**
 * Removes the detail of these sweeps, re-checking in the statement that each still qualifies
 * (a sweep extended since it was listed is left alone). Returns what went.
 */
export async function expireSweepDetail(tx: Queryable, sweepIds: readonly string[], cutoff: Date): Promise<{ sweeps: string[]; tails: number; points: number }> {
  const { rows } = await tx.query<{ id: string }>(`SELECT s.id FROM sweeps s WHERE s.id = ANY($4::text[]) AND ${QUALIFIES} FOR UPDATE`, [
    cutoff,
    ENDED_SWEEP_STATES,
    LIVE_RUN_STATES,
    sweepIds,
  ]);
  const ids = rows.map((r) => r.id);
  if (ids.length === 0) return { sweeps: [], tails: 0, points: 0 };
  const points = (await tx.query('DELETE FROM metrics WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = ANY($1::text[]))', [ids])).rowCount;
  const rejects = (await tx.query('DELETE FROM metric_rejects WHERE run_id IN (SELECT id FROM runs WHERE sweep_id = ANY($1::text[]))', [ids])).rowCount;
  const tails = (await tx.query('UPDATE runs SET output_tail = NULL WHERE sweep_id = ANY($1::text[]) AND output_tail IS NOT NULL', [ids])).rowCount;
  // The stored curves changed: a controller caching them for early termination must reload them
  // should the sweep run again (`harrow extend`); the insert trigger of 0004 only counts new points.
  await tx.query(`UPDATE sweeps SET curve_version = curve_version + 1 WHERE id = ANY($1::text[]) AND spec ? 'earlyTerminate'`, [ids]);
  return { sweeps: ids, tails, points: points + rejects };
}
