/**
 * SQL for runs: creation, the guarded state transitions of the run state machine
 * (`protocol/run-states.ts`), fencing by attempt token, and the read models of the API.
 * Every transition writes one `run_events` row.
 */
import type { Queryable } from './database.js';
import type { RunState } from '../protocol/run-states.js';

export interface RunRow {
  id: string;
  sweep_id: string;
  number: number;
  state: RunState;
  params: Record<string, unknown>;
  params_hash: string;
  proposal: Record<string, unknown> | null;
  attempt: number;
  token: string | null;
  agent_id: string | null;
  host: string | null;
  gpu: string | null;
  exit_code: number | null;
  signal: string | null;
  reason: string | null;
  stop_info: Record<string, unknown> | null;
  output_tail: string | null;
  summary: Record<string, MetricSummary>;
  objective: number | null;
  objective_step: number | null;
  latest_value: number | null;
  metric_count: number;
  /** Refused metric points and data loss, per attempt (`db/run-warnings.ts`). */
  warnings: RunWarning[];
  created_at: Date;
  started_at: Date | null;
  heartbeat_at: Date | null;
  ended_at: Date | null;
}

/** One warning recorded on a run; `message` says it in words. */
export interface RunWarning {
  kind: 'points_refused' | 'data_loss';
  attempt: number;
  count: number;
  message: string;
  [detail: string]: unknown;
}

/** Per-metric summary kept with each run so best-so-far queries never scan history. */
export interface MetricSummary {
  last: number;
  min: number;
  max: number;
  count: number;
  /** Step of the last value. */
  step: number;
}

export interface NewRun {
  id: string;
  sweepId: string;
  number: number;
  params: Record<string, unknown>;
  paramsHash: string;
  proposal: Record<string, unknown> | null;
}

export async function insertRuns(q: Queryable, runs: readonly NewRun[], reason: string): Promise<RunRow[]> {
  if (runs.length === 0) return [];
  const { rows } = await q.query<RunRow>(
    `INSERT INTO runs (id, sweep_id, number, state, params, params_hash, proposal, reason)
     SELECT u.id, u.sweep_id, u.number, 'queued', u.params, u.hash, u.proposal, $7
     FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::jsonb[])
       AS u(id, sweep_id, number, params, hash, proposal)
     RETURNING *`,
    [
      runs.map((r) => r.id),
      runs.map((r) => r.sweepId),
      runs.map((r) => r.number),
      runs.map((r) => JSON.stringify(r.params)),
      runs.map((r) => r.paramsHash),
      runs.map((r) => (r.proposal ? JSON.stringify(r.proposal) : null)),
      reason,
    ],
  );
  await q.query(
    `INSERT INTO run_events (run_id, attempt, from_state, to_state, reason)
     SELECT id, 0, NULL, 'queued', $2 FROM unnest($1::text[]) AS id`,
    [runs.map((r) => r.id), reason],
  );
  return rows.sort((a, b) => a.number - b.number);
}

export async function getRun(q: Queryable, id: string): Promise<RunRow | null> {
  const { rows } = await q.query<RunRow>(`SELECT * FROM runs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

export async function getRunsForUpdate(q: Queryable, ids: readonly string[]): Promise<Map<string, RunRow>> {
  const { rows } = await q.query<RunRow>(`SELECT * FROM runs WHERE id = ANY($1::text[]) ORDER BY id FOR UPDATE`, [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

async function recordEvent(
  q: Queryable,
  run: Pick<RunRow, 'id' | 'attempt'>,
  from: RunState | null,
  to: RunState,
  reason: string,
  details: unknown = null,
): Promise<void> {
  await q.query(
    `INSERT INTO run_events (run_id, attempt, from_state, to_state, reason, details) VALUES ($1, $2, $3, $4, $5, $6)`,
    [run.id, run.attempt, from, to, reason, details === null ? null : JSON.stringify(details)],
  );
}

export type ClaimResult =
  | { status: 'accepted'; run: RunRow }
  | { status: 'duplicate'; run: RunRow }
  | { status: 'refused'; run: RunRow | null; why: string };

/** First claim of a queued run wins; it becomes a new attempt with the claim's token. */
export async function claimRun(
  q: Queryable,
  c: { runId: string; token: string; agentId: string; host: string; gpu: string | null },
): Promise<ClaimResult> {
  // One statement (a claim is on every run's path): the run, its attempt and its event.
  const { rows } = await q.query<RunRow>(
    `WITH u AS (
       UPDATE runs SET state = 'running', attempt = attempt + 1, token = $2, agent_id = $3, host = $4, gpu = $5,
         started_at = now(), heartbeat_at = now(), ended_at = NULL, exit_code = NULL, signal = NULL,
         reason = 'claimed by agent ' || $3,
         -- A new attempt starts from nothing: its value, summary and stop are its own.
         summary = '{}'::jsonb, objective = NULL, objective_step = NULL, latest_value = NULL, metric_count = 0,
         stop_info = NULL, output_tail = NULL
       WHERE id = $1 AND state = 'queued' RETURNING *),
     a AS (
       INSERT INTO run_attempts (run_id, attempt, token, agent_id, host, gpu, state)
       SELECT id, attempt, $2, $3, $4, $5, 'running' FROM u),
     e AS (
       INSERT INTO run_events (run_id, attempt, from_state, to_state, reason, details)
       SELECT id, attempt, 'queued', 'running', 'claimed by agent ' || $3 || ' (attempt ' || attempt || ')', $6::jsonb FROM u)
     SELECT * FROM u`,
    [c.runId, c.token, c.agentId, c.host, c.gpu, JSON.stringify({ agentId: c.agentId, host: c.host, gpu: c.gpu })],
  );
  const run = rows[0];
  if (run) return { status: 'accepted', run };
  const current = await getRun(q, c.runId);
  if (!current) return { status: 'refused', run: null, why: 'no such run' };
  if (current.token === c.token) return { status: 'duplicate', run: current };
  return { status: 'refused', run: current, why: `run is ${current.state} (attempt ${current.attempt})` };
}

/** Refreshes liveness of the attempts an agent says it runs; stale tokens are ignored. */
export async function touchHeartbeats(q: Queryable, pairs: ReadonlyArray<{ runId: string; token: string }>): Promise<number> {
  if (pairs.length === 0) return 0;
  const { rowCount } = await q.query(
    `UPDATE runs r SET heartbeat_at = now()
     FROM unnest($1::text[], $2::text[]) AS u(id, token)
     WHERE r.id = u.id AND r.token = u.token AND r.state = 'running'`,
    [pairs.map((p) => p.runId), pairs.map((p) => p.token)],
  );
  return rowCount;
}

export interface EndRun {
  runId: string;
  token: string;
  state: Extract<RunState, 'finished' | 'failed' | 'stopped' | 'canceled'>;
  exitCode: number | null;
  signal: string | null;
  reason: string;
  tail: string;
}

export type EndResult = { status: 'ended'; run: RunRow } | { status: 'duplicate' } | { status: 'refused'; why: string };

/** Ends the current attempt; a report with a stale token is refused. */
export async function endRun(q: Queryable, e: EndRun): Promise<EndResult> {
  const { rows } = await q.query<RunRow>(
    `WITH u AS (
       UPDATE runs SET state = $3, exit_code = $4, signal = $5, reason = $6, output_tail = $7, ended_at = now()
       WHERE id = $1 AND token = $2 AND state = 'running' RETURNING *),
     a AS (
       UPDATE run_attempts SET state = $3, exit_code = $4, reason = $6, ended_at = now() WHERE run_id = $1 AND token = $2
         AND EXISTS (SELECT 1 FROM u)),
     e AS (
       INSERT INTO run_events (run_id, attempt, from_state, to_state, reason, details)
       SELECT id, attempt, 'running', $3, $6, $8::jsonb FROM u)
     SELECT * FROM u`,
    [e.runId, e.token, e.state, e.exitCode, e.signal, e.reason, e.tail, JSON.stringify({ exitCode: e.exitCode, signal: e.signal })],
  );
  const run = rows[0];
  if (!run) {
    const current = await getRun(q, e.runId);
    if (current && current.token === e.token && current.state !== 'running') return { status: 'duplicate' };
    return { status: 'refused', why: current ? `stale attempt: run is ${current.state}, attempt ${current.attempt}` : 'no such run' };
  }
  return { status: 'ended', run };
}

/** Marks running runs whose heartbeat is older than `timeoutMs` as crashed. */
export async function crashStaleRuns(q: Queryable, timeoutMs: number): Promise<RunRow[]> {
  const reason = `no heartbeat for ${Math.round(timeoutMs / 1000)} s (agent lost)`;
  const { rows } = await q.query<RunRow>(
    `UPDATE runs SET state = 'crashed', reason = $2, ended_at = now()
     WHERE state = 'running' AND heartbeat_at < now() - ($1::float8 * interval '1 millisecond')
     RETURNING *`,
    [timeoutMs, reason],
  );
  for (const run of rows) {
    await q.query(`UPDATE run_attempts SET state = 'crashed', reason = $3, ended_at = now() WHERE run_id = $1 AND attempt = $2`, [
      run.id,
      run.attempt,
      reason,
    ]);
    await recordEvent(q, run, 'running', 'crashed', reason);
  }
  return rows;
}

/** A retry: the run goes back to the queue for a new attempt. */
export async function requeueRun(q: Queryable, runId: string, reason: string): Promise<RunRow | null> {
  const { rows } = await q.query<RunRow & { previous: RunState }>(
    `WITH prev AS (SELECT state FROM runs WHERE id = $1 FOR UPDATE)
     UPDATE runs r SET state = 'queued', token = NULL, reason = $2, ended_at = NULL, heartbeat_at = NULL
     FROM prev WHERE r.id = $1 AND prev.state IN ('failed', 'crashed')
     RETURNING r.*, prev.state AS previous`,
    [runId, reason],
  );
  const row = rows[0];
  if (!row) return null;
  const { previous, ...run } = row;
  await recordEvent(q, run, previous, 'queued', reason);
  return run;
}

/** Cancels queued runs of a sweep (a stopped or canceled sweep starts nothing new). */
export async function cancelQueuedRuns(q: Queryable, sweepId: string, reason: string): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>(
    `UPDATE runs SET state = 'canceled', reason = $2, ended_at = now() WHERE sweep_id = $1 AND state = 'queued' RETURNING *`,
    [sweepId, reason],
  );
  for (const run of rows) await recordEvent(q, run, 'queued', 'canceled', reason);
  return rows;
}

/** Records why a running run is being stopped; the agent's end report then moves it to `stopped`. */
export async function setStopInfo(q: Queryable, runId: string, info: Record<string, unknown>): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE runs SET stop_info = $2 WHERE id = $1 AND state = 'running' AND stop_info IS NULL`,
    [runId, JSON.stringify(info)],
  );
  return rowCount > 0;
}

export async function runsInStates(q: Queryable, sweepId: string, states: readonly RunState[]): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>(`SELECT * FROM runs WHERE sweep_id = $1 AND state = ANY($2::text[]) ORDER BY number`, [
    sweepId,
    states,
  ]);
  return rows;
}

export async function queuedRunsOfRunningSweeps(q: Queryable): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>(
    `SELECT r.* FROM runs r JOIN sweeps s ON s.id = r.sweep_id
     WHERE r.state = 'queued' AND s.state IN ('running', 'paused') ORDER BY r.sweep_id, r.number`,
  );
  return rows;
}

/** What a strategy sees: ended runs, and the params of queued and running ones. */
export async function strategyHistory(
  q: Queryable,
  sweepId: string,
): Promise<{
  ended: Array<Pick<RunRow, 'params' | 'state' | 'objective' | 'latest_value'>>;
  pending: Array<Record<string, unknown>>;
}> {
  const { rows } = await q.query<Pick<RunRow, 'params' | 'state' | 'objective' | 'latest_value'>>(
    // Ended runs in the order they ended: each pass then sees the previous one's observations
    // followed by the new ones, which lets the GP extend its factorization instead of redoing it.
    `SELECT params, state, objective, latest_value FROM runs WHERE sweep_id = $1 ORDER BY ended_at NULLS LAST, number`,
    [sweepId],
  );
  const ended = rows.filter((r) => r.state !== 'queued' && r.state !== 'running');
  const pending = rows.filter((r) => r.state === 'queued' || r.state === 'running').map((r) => r.params);
  return { ended, pending };
}

/** Every column but the output tail (up to 16 KiB a run), which lists never show. */
const LIST_COLUMNS = `id, sweep_id, number, state, params, params_hash, proposal, attempt, token, agent_id, host, gpu,
  exit_code, signal, reason, stop_info, NULL::text AS output_tail, summary, objective, objective_step, latest_value,
  metric_count, warnings, created_at, started_at, heartbeat_at, ended_at`;

export type RunSort = 'number' | '-number' | 'metric' | '-metric' | 'started' | '-started';

export async function listRuns(
  q: Queryable,
  o: { sweepId: string; states?: readonly RunState[]; sort: RunSort; goal: 'minimize' | 'maximize' | null; limit: number; offset: number },
): Promise<{ runs: RunRow[]; total: number }> {
  const bestFirst = o.goal === 'maximize' ? 'DESC' : 'ASC';
  const worstFirst = o.goal === 'maximize' ? 'ASC' : 'DESC';
  const order = {
    number: 'number ASC',
    '-number': 'number DESC',
    // "metric" sorts best first whatever the goal; runs without a value come last either way.
    metric: `objective ${bestFirst} NULLS LAST, number ASC`,
    '-metric': `objective ${worstFirst} NULLS LAST, number ASC`,
    started: 'started_at ASC NULLS LAST, number ASC',
    '-started': 'started_at DESC NULLS LAST, number DESC',
  }[o.sort];
  const states = o.states && o.states.length > 0 ? o.states : null;
  // One statement, one snapshot: the page always agrees with its total, even while the
  // scheduler is creating runs. With an empty page the single row carries only the total.
  const { rows } = await q.query<RunRow & { total: number }>(
    `SELECT t.total, p.* FROM
       (SELECT count(*)::int AS total FROM runs WHERE sweep_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[]))) t
     LEFT JOIN LATERAL
       (SELECT ${LIST_COLUMNS} FROM runs WHERE sweep_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[]))
        ORDER BY ${order} LIMIT $3 OFFSET $4) p ON true
     ORDER BY ${order}`,
    [o.sweepId, states, o.limit, o.offset],
  );
  const total = rows[0]?.total ?? 0;
  const runs = rows
    .filter((r) => r.id !== null)
    .map(({ total: _total, ...run }) => run);
  return { runs, total };
}

/** The best finished run of a sweep (by its best logged value of the sweep metric). */
export async function bestRun(q: Queryable, sweepId: string, goal: 'minimize' | 'maximize'): Promise<RunRow | null> {
  const { rows } = await q.query<RunRow>(
    `SELECT * FROM runs WHERE sweep_id = $1 AND state = 'finished' AND objective IS NOT NULL
     ORDER BY objective ${goal === 'maximize' ? 'DESC' : 'ASC'}, number ASC LIMIT 1`,
    [sweepId],
  );
  return rows[0] ?? null;
}

export async function bestRunsMany(q: Queryable, sweeps: ReadonlyArray<{ id: string; goal: 'minimize' | 'maximize' }>): Promise<Map<string, RunRow>> {
  const out = new Map<string, RunRow>();
  for (const s of sweeps) {
    const best = await bestRun(q, s.id, s.goal);
    if (best) out.set(s.id, best);
  }
  return out;
}

export interface CurvePoint {
  /** 1-based index among finished runs with a value, in the order they finished. */
  index: number;
  runId: string;
  number: number;
  value: number;
  at: Date;
}

/**
 * Counts a run that finished with a value and, when it beats the sweep's best, appends a point to
 * the best-so-far curve. Called in the transaction that ends the run; the sweep row lock orders
 * concurrent finishes. Returns whether the best improved.
 */
export async function recordFinishedValue(
  q: Queryable,
  run: Pick<RunRow, 'id' | 'sweep_id' | 'objective'>,
  goal: 'minimize' | 'maximize',
): Promise<boolean> {
  if (run.objective === null) return false;
  const { rows } = await q.query<{ finished_count: number; best_value: number | null }>(
    `UPDATE sweeps SET finished_count = finished_count + 1 WHERE id = $1 RETURNING finished_count, best_value`,
    [run.sweep_id],
  );
  const row = rows[0];
  if (!row) return false;
  const better = row.best_value === null || (goal === 'minimize' ? run.objective < row.best_value : run.objective > row.best_value);
  if (!better) return false;
  await q.query(`UPDATE sweeps SET best_value = $2 WHERE id = $1`, [run.sweep_id, run.objective]);
  await q.query(`INSERT INTO best_points (sweep_id, idx, run_id, value, at) VALUES ($1, $2, $3, $4, now())`, [
    run.sweep_id,
    row.finished_count,
    run.id,
    run.objective,
  ]);
  return true;
}

/** The best-so-far curve over finished runs: the points where the best improved. */
export async function bestCurve(q: Queryable, sweepId: string): Promise<{ points: CurvePoint[]; finished: number }> {
  const { rows } = await q.query<{ idx: number; run_id: string; number: number; value: number; at: Date; finished: number }>(
    `SELECT b.idx, b.run_id, r.number, b.value, b.at, s.finished_count AS finished
     FROM sweeps s LEFT JOIN best_points b ON b.sweep_id = s.id LEFT JOIN runs r ON r.id = b.run_id
     WHERE s.id = $1 ORDER BY b.idx`,
    [sweepId],
  );
  const points = rows
    .filter((r) => r.idx !== null)
    .map((r) => ({ index: r.idx, runId: r.run_id, number: r.number, value: r.value, at: r.at }));
  return { points, finished: rows[0]?.finished ?? 0 };
}

export async function runEvents(
  q: Queryable,
  runId: string,
): Promise<Array<{ attempt: number; from_state: RunState | null; to_state: RunState; reason: string; details: unknown; at: Date }>> {
  const { rows } = await q.query<{ attempt: number; from_state: RunState | null; to_state: RunState; reason: string; details: unknown; at: Date }>(
    `SELECT attempt, from_state, to_state, reason, details, at FROM run_events WHERE run_id = $1 ORDER BY id`,
    [runId],
  );
  return rows;
}
