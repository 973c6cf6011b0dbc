/** SQL for sweeps and their state changes. */
import type { Queryable } from './database.js';
import { HarrowError } from '../protocol/errors.js';
import {
  ACTIVE_RUN_STATES,
  ENDED_SWEEP_STATES,
  INITIAL_RUN_STATE,
  INITIAL_SWEEP_STATE,
  RUN_STATES,
  sweepStatesLeadingTo,
  type RunState,
  type SweepStateName,
} from '../protocol/run-states.js';

export interface SweepRow {
  id: string;
  name: string | null;
  state: SweepStateName;
  method: 'grid' | 'random' | 'bayes';
  spec: unknown;
  config_text: string;
  seed: number;
  metric_name: string | null;
  goal: 'minimize' | 'maximize' | null;
  run_cap: number | null;
  expected_runs: number | null;
  next_number: number;
  state_reason: string | null;
  created_at: Date;
  updated_at: Date;
  ended_at: Date | null;
  created_by: string | null;
  /** Bumped by each edit of the spec (`harrow edit`); caches compare it (controller/context.ts). */
  spec_version: number;
  /** Served first by agents of several sweeps (higher first); default 0. */
  priority: number;
  /** Most slots the sweep holds on one agent of several sweeps; null: no cap. */
  max_slots: number | null;
}

export interface NewSweep {
  id: string;
  name: string | null;
  method: SweepRow['method'];
  spec: unknown;
  configText: string;
  seed: number;
  metricName: string | null;
  goal: SweepRow['goal'];
  runCap: number | null;
  expectedRuns: number | null;
  /** The name of whoever created it (a token name, HARROW_TOKEN, anonymous). */
  createdBy?: string | null;
}


export async function insertSweep(q: Queryable, s: NewSweep): Promise<SweepRow> {
  const { rows } = await q.query<SweepRow>(
    `INSERT INTO sweeps (id, name, state, method, spec, config_text, seed, metric_name, goal, run_cap, expected_runs, created_by)
     VALUES ($1, $2, $11, $3, $4, $5, $6, $7, $8, $9, $10, $12)
     RETURNING *`,
    [s.id, s.name, s.method, JSON.stringify(s.spec), s.configText, s.seed, s.metricName, s.goal, s.runCap, s.expectedRuns, INITIAL_SWEEP_STATE, s.createdBy ?? null],
  );
  await q.query(`INSERT INTO sweep_events (sweep_id, from_state, to_state, reason) VALUES ($1, NULL, $2, 'created')`, [s.id, INITIAL_SWEEP_STATE]);
  return rows[0]!;
}

/** Sets a sweep's priority and slot cap (each only when given; maxSlots null removes the cap). */
export async function setSweepShare(q: Queryable, id: string, share: { priority?: number; maxSlots?: number | null }): Promise<SweepRow | null> {
  const { rows } = await q.query<SweepRow>(
    `UPDATE sweeps SET priority = coalesce($2, priority), max_slots = CASE WHEN $3 THEN $4 ELSE max_slots END, updated_at = now()
     WHERE id = $1 RETURNING *`,
    [id, share.priority ?? null, share.maxSlots !== undefined, share.maxSlots ?? null],
  );
  return rows[0] ?? null;
}

export async function getSweep(q: Queryable, id: string, opts: { forUpdate?: boolean } = {}): Promise<SweepRow | null> {
  const { rows } = await q.query<SweepRow>(
    `SELECT * FROM sweeps WHERE id = $1${opts.forUpdate ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

/**
 * A sweep's row without its spec and submitted text: what the control loops (scheduler, reaper,
 * the periodic pass) read every tick and after every report batch. Reading the whole row there
 * parsed the spec each time, which for a sweep file near the size limit held the event loop for
 * tens of milliseconds per read (bench:event-loop).
 */
export type SweepHead = Omit<SweepRow, 'spec' | 'config_text'>;
// Every column but the spec and the file text; a column added to SweepRow belongs here too.
const HEAD_COLUMNS = 'id, name, state, method, seed, metric_name, goal, run_cap, expected_runs, next_number, state_reason, created_at, updated_at, ended_at, created_by, spec_version, priority, max_slots';

export async function getSweepHead(q: Queryable, id: string): Promise<SweepHead | null> {
  const { rows } = await q.query<SweepHead>(`SELECT ${HEAD_COLUMNS} FROM sweeps WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Heads of every sweep (or those in `states`), newest first. */
export async function listSweepHeads(q: Queryable, opts: { states?: readonly SweepStateName[] } = {}): Promise<SweepHead[]> {
  const { rows } = await q.query<SweepHead>(
    `SELECT ${HEAD_COLUMNS} FROM sweeps WHERE ($1::text[] IS NULL OR state = ANY($1::text[])) ORDER BY created_at DESC, id`,
    [opts.states ?? null],
  );
  return rows;
}

/** The sweep a run belongs to. */
export async function sweepOfRun(q: Queryable, runId: string): Promise<SweepRow | null> {
  const { rows } = await q.query<SweepRow>(`SELECT s.* FROM sweeps s JOIN runs r ON r.sweep_id = s.id WHERE r.id = $1`, [runId]);
  return rows[0] ?? null;
}

export async function listSweeps(q: Queryable, opts: { states?: readonly SweepStateName[]; limit?: number } = {}): Promise<SweepRow[]> {
  const { rows } = await q.query<SweepRow>(
    `SELECT * FROM sweeps
     WHERE ($1::text[] IS NULL OR state = ANY($1::text[]))
     ORDER BY created_at DESC, id LIMIT $2`,
    [opts.states ?? null, opts.limit ?? 1000],
  );
  return rows;
}

/**
 * Moves a sweep to `to` if it is in one of `from`; records the event. Returns the updated row,
 * or null when the sweep was not in an allowed state (someone else moved it first).
 */
export async function transitionSweep(
  q: Queryable,
  id: string,
  from: readonly SweepStateName[],
  to: SweepStateName,
  reason: string,
): Promise<{ row: SweepRow; previous: SweepStateName } | null> {
  const allowed = sweepStatesLeadingTo(to);
  const illegal = from.filter((f) => !allowed.includes(f));
  if (illegal.length > 0) throw new HarrowError('INTERNAL', `sweep state machine: ${illegal.join(', ')} → ${to} is not an allowed transition`);
  const { rows } = await q.query<SweepRow & { previous: SweepStateName }>(
    `WITH prev AS (SELECT state FROM sweeps WHERE id = $1 FOR UPDATE)
     UPDATE sweeps s SET state = $3, state_reason = $4, updated_at = now(),
       ended_at = CASE WHEN $3 = ANY($5::text[]) THEN now() ELSE NULL END
     FROM prev WHERE s.id = $1 AND prev.state = ANY($2::text[])
     RETURNING s.*, prev.state AS previous`,
    [id, from, to, reason, ENDED_SWEEP_STATES],
  );
  const row = rows[0];
  if (!row) return null;
  await q.query(`INSERT INTO sweep_events (sweep_id, from_state, to_state, reason) VALUES ($1, $2, $3, $4)`, [
    id,
    row.previous,
    to,
    reason,
  ]);
  const { previous, ...sweep } = row;
  return { row: sweep, previous };
}

/** Reserves `n` consecutive run numbers; returns the first. */
export async function allocateRunNumbers(q: Queryable, sweepId: string, n: number): Promise<number> {
  const { rows } = await q.query<{ first: number }>(
    `UPDATE sweeps SET next_number = next_number + $2 WHERE id = $1 RETURNING next_number - $2 AS first`,
    [sweepId, n],
  );
  return rows[0]!.first;
}

/** Runs of a sweep waiting for an agent (an index-only count). */
export async function queuedRuns(q: Queryable, sweepId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(`SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND state = $2`, [
    sweepId,
    INITIAL_RUN_STATE,
  ]);
  return rows[0]!.n;
}

/** Runs of a sweep that are queued or running. */
export async function activeRuns(q: Queryable, sweepId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM runs WHERE sweep_id = $1 AND state = ANY($2::text[])`,
    [sweepId, ACTIVE_RUN_STATES],
  );
  return rows[0]!.n;
}

export type RunCounts = Record<RunState, number> & { total: number };

export async function runCounts(q: Queryable, sweepId: string): Promise<RunCounts> {
  const counts = await runCountsMany(q, [sweepId]);
  return counts.get(sweepId)!;
}

export function emptyCounts(): RunCounts {
  return { ...(Object.fromEntries(RUN_STATES.map((s) => [s, 0])) as Record<RunState, number>), total: 0 };
}

/**
 * Run counts per state, summed from the changes each statement that creates or moves runs
 * appended (migration 0011): a few rows per sweep, not one per run. Consistent with the runs in
 * the caller's snapshot, as each change is written in the transaction that made it.
 */
export async function runCountsMany(q: Queryable, sweepIds: readonly string[]): Promise<Map<string, RunCounts>> {
  const { rows } = await q.query<{ sweep_id: string; state: RunState; n: number }>(
    `SELECT sweep_id, state, sum(n)::int AS n FROM run_state_counts WHERE sweep_id = ANY($1::text[]) GROUP BY sweep_id, state`,
    [sweepIds],
  );
  const out = new Map(sweepIds.map((id) => [id, emptyCounts()]));
  for (const r of rows) {
    const c = out.get(r.sweep_id)!;
    c[r.state] = r.n;
    c.total += r.n;
  }
  return out;
}

/**
 * Folds each sweep's run count changes into one row per state, so reading its counts stays a few
 * rows however many runs moved. Per sweep, in the caller's transaction; the sweep row is taken
 * FOR KEY SHARE first (it conflicts only with deleting the sweep, never with the updates report
 * batches make), so a deletion waits for the fold or the fold skips the deleted sweep. Returns
 * whether it wrote anything.
 */
export async function compactRunCounts(q: Queryable, sweepId: string): Promise<boolean> {
  const { rowCount } = await q.query(
    `WITH s AS (SELECT id FROM sweeps WHERE id = $1 FOR KEY SHARE),
     gone AS (DELETE FROM run_state_counts c USING s WHERE c.sweep_id = s.id RETURNING c.state, c.n)
     INSERT INTO run_state_counts (sweep_id, state, n) SELECT $1, state, sum(n) FROM gone GROUP BY state HAVING sum(n) <> 0`,
    [sweepId],
  );
  return rowCount > 0;
}

/** Sweeps whose run counts hold more than one row for some state: what `compactRunCounts` folds. */
export async function sweepsWithUnfoldedCounts(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ sweep_id: string }>(
    `SELECT sweep_id FROM run_state_counts GROUP BY sweep_id HAVING count(*) > count(DISTINCT state) ORDER BY sweep_id`,
  );
  return rows.map((r) => r.sweep_id);
}

/** Per-sweep transaction-scoped lock: proposing and recording runs is serialized across replicas. */
export async function lockSweep(q: Queryable, sweepId: string): Promise<void> {
  await q.query(`SELECT pg_advisory_xact_lock(hashtext('harrow:sweep:' || $1))`, [sweepId]);
}
