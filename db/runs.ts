/**
 * SQL for runs: creation, the guarded state transitions of the run state machine
 * (`protocol/run-states.ts`), fencing by attempt token, and the read models of the API.
 * Every transition writes one `run_events` row.
 */
import type { Queryable } from './database.js';
import { HarrowError } from '../protocol/errors.js';
import {
  ACTIVE_RUN_STATES,
  BEST_RUN_STATES,
  FAILURE_RUN_STATES,
  INITIAL_RUN_STATE,
  LIVE_RUN_STATES,
  RUN_STATE_TRAITS,
  isTerminalRunState,
  runStatesLeadingTo,
  LIVE_SWEEP_STATES,
  ENDED_SWEEP_STATES,
  INITIAL_SWEEP_STATE,
  OUTCOME_RUN_STATES,
  type RunState,
} from '../protocol/run-states.js';
import { ERROR_TAIL_CHARS } from '../protocol/output-errors.js';
import { bestFirstOrder, isBetter } from '../strategies/objective.js';
import type { Goal } from '../strategies/types.js';

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
  /** The run this one reruns (`harrow rerun`, migration 0006), or null. */
  rerun_of: string | null;
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
  /** The failed or crashed run this one reruns. */
  rerunOf?: string | null;
}

export async function insertRuns(q: Queryable, runs: readonly NewRun[], reason: string): Promise<RunRow[]> {
  if (runs.length === 0) return [];
  const { rows } = await q.query<RunRow>(
    `INSERT INTO runs (id, sweep_id, number, state, params, params_hash, proposal, reason, rerun_of)
     SELECT u.id, u.sweep_id, u.number, $8, u.params, u.hash, u.proposal, $7, u.rerun_of
     FROM unnest($1::text[], $2::text[], $3::int[], $4::jsonb[], $5::text[], $6::jsonb[], $9::text[])
       AS u(id, sweep_id, number, params, hash, proposal, rerun_of)
     RETURNING *`,
    [
      runs.map((r) => r.id),
      runs.map((r) => r.sweepId),
      runs.map((r) => r.number),
      runs.map((r) => JSON.stringify(r.params)),
      runs.map((r) => r.paramsHash),
      runs.map((r) => (r.proposal ? JSON.stringify(r.proposal) : null)),
      reason,
      INITIAL_RUN_STATE,
      runs.map((r) => r.rerunOf ?? null),
    ],
  );
  await q.query(
    `INSERT INTO run_events (run_id, attempt, from_state, to_state, reason)
     SELECT id, 0, NULL, $3, $2 FROM unnest($1::text[]) AS id`,
    [runs.map((r) => r.id), reason, INITIAL_RUN_STATE],
  );
  // The sweeps' run counts (migration 0011), in the same transaction.
  await q.query(
    `INSERT INTO run_state_counts (sweep_id, state, n) SELECT sweep_id, $2, count(*) FROM unnest($1::text[]) AS sweep_id GROUP BY sweep_id`,
    [runs.map((r) => r.sweepId), INITIAL_RUN_STATE],
  );
  return rows.sort((a, b) => a.number - b.number);
}

export async function getRun(q: Queryable, id: string): Promise<RunRow | null> {
  const { rows } = await q.query<RunRow>(`SELECT * FROM runs WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** These runs by id (those that exist), without locking them. */
export function getRuns(q: Queryable, ids: readonly string[]): Promise<Map<string, RunRow>> {
  return runsById(q, ids, '');
}

export function getRunsForUpdate(q: Queryable, ids: readonly string[]): Promise<Map<string, RunRow>> {
  return runsById(q, ids, ' FOR UPDATE');
}

async function runsById(q: Queryable, ids: readonly string[], lock: '' | ' FOR UPDATE'): Promise<Map<string, RunRow>> {
  const { rows } = await q.query<RunRow>(`SELECT * FROM runs WHERE id = ANY($1::text[]) ORDER BY id${lock}`, [ids]);
  return new Map(rows.map((r) => [r.id, r]));
}

/** Which runs a transition applies to. */
export type RunSelector =
  /** One run; with `token`, only while that attempt is current (fencing). */
  | { runId: string; token?: string }
  /** Every run of a sweep that is in a from-state. */
  | { sweepId: string }
  /** Live runs whose heartbeat is older than this. */
  | { heartbeatOlderThanMs: number };

export interface RunTransition {
  to: RunState;
  /** Narrows the from-states the table allows (cancel only queued runs, say); never widens them. */
  from?: readonly RunState[];
  reason: string;
  details?: Record<string, unknown> | null;
  /** Entering `running`: the new attempt's fencing token and where it runs. */
  attempt?: { token: string; agentId: string; host: string; gpu: string | null };
  /** An end the agent reported: how the command exited and its output tail. */
  exit?: { exitCode: number | null; signal: string | null; tail: string };
}

export interface TransitionedRun {
  run: RunRow;
  from: RunState;
}

/** A new attempt starts from nothing: its value, summary and stop are its own. */
const NEW_ATTEMPT = `attempt = r.attempt + 1, started_at = now(), heartbeat_at = now(), ended_at = NULL, exit_code = NULL,
  signal = NULL, summary = '{}'::jsonb, objective = NULL, objective_step = NULL, latest_value = NULL, metric_count = 0,
  stop_info = NULL, output_tail = NULL`;

/**
 * What a transition did to its sweeps' run counts (migration 0011), from the moved runs `u`:
 * -k from each previous state, +k to the new one. Appended, never updated: no lock on a counter.
 */
const COUNT_CHANGES = `INSERT INTO run_state_counts (sweep_id, state, n)
       SELECT sweep_id, state, sum(d)::int FROM (
         SELECT sweep_id, previous AS state, -1 AS d FROM u UNION ALL SELECT sweep_id, state, 1 FROM u) x
       GROUP BY sweep_id, state HAVING sum(d) <> 0`;

/**
 * The one guarded run transition: moves the selected runs that are in a state the table
 * (`protocol/run-states.ts`) allows to lead to `t.to`, applies what entering that state means
 * (a new attempt, an end, a return to the queue), keeps the attempt's row in step, and records
 * exactly one run_events row per run moved. One statement, so a claim or an end (hot paths) costs
 * one round trip. Returns the runs moved; none when another writer moved them first.
 */
export async function transitionRun(q: Queryable, selector: RunSelector, t: RunTransition): Promise<TransitionedRun[]> {
  const allowed = runStatesLeadingTo(t.to);
  const from = t.from ?? allowed;
  const illegal = from.filter((s) => !allowed.includes(s));
  if (illegal.length > 0 || from.length === 0) {
    throw new HarrowError('INTERNAL', `run state machine: ${illegal.join(', ') || 'nothing'} → ${t.to} is not an allowed transition`);
  }
  if (RUN_STATE_TRAITS[t.to].live && !t.attempt) throw new HarrowError('INTERNAL', 'entering running needs the new attempt (token, agent)');
  const params: unknown[] = [from, t.to, t.reason, t.details ? JSON.stringify(t.details) : null];
  const p = (v: unknown): string => `$${params.push(v)}`;

  let where: string;
  if ('runId' in selector) {
    where = `id = ${p(selector.runId)}${selector.token !== undefined ? ` AND token = ${p(selector.token)}` : ''}`;
  } else if ('sweepId' in selector) {
    where = `sweep_id = ${p(selector.sweepId)}`;
  } else {
    where = `state = ANY(${p(LIVE_RUN_STATES)}::text[]) AND heartbeat_at < now() - (${p(selector.heartbeatOlderThanMs)}::float8 * interval '1 millisecond')`;
  }

  let enter: string;
  let attempts = '';
  if (RUN_STATE_TRAITS[t.to].live) {
    const a = t.attempt!;
    enter = `${NEW_ATTEMPT}, token = ${p(a.token)}, agent_id = ${p(a.agentId)}, host = ${p(a.host)}, gpu = ${p(a.gpu)}`;
    attempts = `, a AS (INSERT INTO run_attempts (run_id, attempt, token, agent_id, host, gpu, state)
       SELECT id, attempt, token, agent_id, host, gpu, state FROM u)`;
  } else if (isTerminalRunState(t.to)) {
    enter = 'ended_at = now()';
    if (t.exit) enter += `, exit_code = ${p(t.exit.exitCode)}, signal = ${p(t.exit.signal)}, output_tail = ${p(t.exit.tail)}`;
    // Only a run that held a live attempt has a token (a queued run's is cleared): that attempt ends too.
    attempts = `, a AS (UPDATE run_attempts a SET state = u.state, exit_code = u.exit_code, reason = u.reason, ended_at = u.ended_at
       FROM u WHERE a.run_id = u.id AND a.token = u.token)`;
  } else {
    // Back to the queue for a new attempt: the old token is void, so its late reports are refused.
    enter = 'token = NULL, ended_at = NULL, heartbeat_at = NULL';
  }

  const { rows } = await q.query<RunRow & { previous: RunState }>(
    `WITH prev AS (
       SELECT id, state AS previous FROM runs WHERE ${where} AND state = ANY($1::text[]) ORDER BY id FOR UPDATE),
     u AS (
       UPDATE runs r SET state = $2, reason = $3, ${enter}
       FROM prev WHERE r.id = prev.id
       RETURNING r.*, prev.previous)${attempts},
     e AS (
       INSERT INTO run_events (run_id, attempt, from_state, to_state, reason, details)
       SELECT id, attempt, previous, $2, $3, $4::jsonb FROM u),
     c AS (${COUNT_CHANGES})
     SELECT * FROM u ORDER BY number`,
    params,
  );
  return rows.map(({ previous, ...run }) => ({ run, from: previous }));
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
  const [moved] = await transitionRun(
    q,
    { runId: c.runId },
    {
      to: 'running',
      reason: `claimed by agent ${c.agentId}`,
      details: { agentId: c.agentId, host: c.host, gpu: c.gpu },
      attempt: { token: c.token, agentId: c.agentId, host: c.host, gpu: c.gpu },
    },
  );
  if (moved) return { status: 'accepted', run: moved.run };
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
     WHERE r.id = u.id AND r.token = u.token AND r.state = ANY($3::text[])`,
    [pairs.map((p) => p.runId), pairs.map((p) => p.token), LIVE_RUN_STATES],
  );
  return rowCount;
}

export interface EndRun {
  runId: string;
  token: string;
  state: Extract<RunState, 'finished' | 'failed' | 'crashed' | 'stopped' | 'canceled' | 'preempted'>;
  exitCode: number | null;
  signal: string | null;
  reason: string;
  tail: string;
  /** Recorded with the event (a failure policy that matched, say). */
  details?: Record<string, unknown>;
}

export type EndResult = { status: 'ended'; run: RunRow } | { status: 'duplicate' } | { status: 'refused'; why: string };

/** Ends the current attempt; a report with a stale token is refused. */
export async function endRun(q: Queryable, e: EndRun): Promise<EndResult> {
  const [moved] = await transitionRun(
    q,
    { runId: e.runId, token: e.token },
    {
      to: e.state,
      from: LIVE_RUN_STATES,
      reason: e.reason,
      details: { exitCode: e.exitCode, signal: e.signal, ...e.details },
      exit: { exitCode: e.exitCode, signal: e.signal, tail: e.tail },
    },
  );
  if (moved) return { status: 'ended', run: moved.run };
  const current = await getRun(q, e.runId);
  if (current && current.token === e.token && !LIVE_RUN_STATES.includes(current.state)) return { status: 'duplicate' };
  return { status: 'refused', why: current ? `stale attempt: run is ${current.state}, attempt ${current.attempt}` : 'no such run' };
}

/** Marks live runs whose heartbeat is older than `timeoutMs` as crashed. */
export async function crashStaleRuns(q: Queryable, timeoutMs: number): Promise<RunRow[]> {
  const reason = `no heartbeat for ${Math.round(timeoutMs / 1000)} s (agent lost)`;
  const moved = await transitionRun(q, { heartbeatOlderThanMs: timeoutMs }, { to: 'crashed', reason });
  return moved.map((m) => m.run);
}

/**
 * How many of the run's attempts ended in a failure (failed, crashed): what `harrow.retry` counts.
 * Preempted attempts are not failures and do not count.
 */
export async function failedAttemptCount(q: Queryable, runId: string): Promise<number> {
  const { rows } = await q.query<{ n: number }>(
    `SELECT count(*)::int AS n FROM run_attempts WHERE run_id = $1 AND state = ANY($2::text[])`,
    [runId, FAILURE_RUN_STATES],
  );
  return rows[0]!.n;
}

/** A retry: the run goes back to the queue for a new attempt. */
export async function requeueRun(q: Queryable, runId: string, reason: string): Promise<RunRow | null> {
  const [moved] = await transitionRun(q, { runId }, { to: INITIAL_RUN_STATE, reason });
  return moved?.run ?? null;
}

/** Cancels queued runs of a sweep (a stopped or canceled sweep starts nothing new). */
export async function cancelQueuedRuns(q: Queryable, sweepId: string, reason: string): Promise<RunRow[]> {
  const moved = await transitionRun(q, { sweepId }, { to: 'canceled', from: [INITIAL_RUN_STATE], reason });
  return moved.map((m) => m.run);
}

/** Cancels one queued run (a user stopped it before it started); null when it is no longer queued. */
export async function cancelQueuedRun(q: Queryable, runId: string, reason: string): Promise<RunRow | null> {
  const [moved] = await transitionRun(q, { runId }, { to: 'canceled', from: [INITIAL_RUN_STATE], reason });
  return moved?.run ?? null;
}

export interface OutcomeRow {
  number: number;
  state: RunState;
  reason: string | null;
}

/**
 * The first `first` and the last `last` runs of a sweep to end with an outcome (finished, stopped,
 * failed or crashed; a canceled run says nothing about the command) since the sweep last started
 * or resumed, in the order they ended. What the pause-on-failures rules look at.
 */
export async function outcomesSinceResume(q: Queryable, sweepId: string, first: number, last: number): Promise<{ first: OutcomeRow[]; last: OutcomeRow[] }> {
  const { rows } = await q.query<OutcomeRow & { part: 'first' | 'last' }>(
    `WITH since AS (
       SELECT coalesce(max(at), '-infinity'::timestamptz) AS t FROM sweep_events WHERE sweep_id = $1 AND to_state = $2),
     o AS (
       SELECT r.number, r.state, r.reason, r.ended_at FROM runs r, since
       WHERE r.sweep_id = $1 AND r.state = ANY($3::text[]) AND r.ended_at >= since.t)
     (SELECT 'first' AS part, number, state, reason FROM o ORDER BY ended_at, number LIMIT $4)
     UNION ALL
     (SELECT 'last' AS part, number, state, reason FROM o ORDER BY ended_at DESC, number DESC LIMIT $5)`,
    [sweepId, INITIAL_SWEEP_STATE, OUTCOME_RUN_STATES, first, last],
  );
  const pick = (part: 'first' | 'last') => rows.filter((r) => r.part === part).map(({ number, state, reason }) => ({ number, state, reason }));
  return { first: pick('first'), last: pick('last') };
}

/** Records why a running run is being stopped; the agent's end report then moves it to `stopped`. */
export async function setStopInfo(q: Queryable, runId: string, info: Record<string, unknown>): Promise<boolean> {
  const { rowCount } = await q.query(
    `UPDATE runs SET stop_info = $2 WHERE id = $1 AND state = ANY($3::text[]) AND stop_info IS NULL`,
    [runId, JSON.stringify(info), LIVE_RUN_STATES],
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

/** Queued runs of sweeps that have not ended: what Redis must hold. */
export async function queuedRunsOfRunningSweeps(q: Queryable): Promise<RunRow[]> {
  const { rows } = await q.query<RunRow>(
    `SELECT r.* FROM runs r JOIN sweeps s ON s.id = r.sweep_id
     WHERE r.state = $1 AND s.state = ANY($2::text[]) ORDER BY r.sweep_id, r.number`,
    [INITIAL_RUN_STATE, LIVE_SWEEP_STATES],
  );
  return rows;
}

/**
 * Sweeps that ended yet still hold queued runs: a broken invariant (no agent takes a run of an
 * ended sweep), left by a retry decided on a sweep row read before a concurrent stop committed.
 */
export async function endedSweepsWithQueuedRuns(q: Queryable): Promise<string[]> {
  const { rows } = await q.query<{ sweep_id: string }>(
    `SELECT DISTINCT r.sweep_id FROM runs r JOIN sweeps s ON s.id = r.sweep_id
     WHERE r.state = $1 AND s.state = ANY($2::text[])`,
    [INITIAL_RUN_STATE, ENDED_SWEEP_STATES],
  );
  return rows.map((r) => r.sweep_id);
}

/** What a strategy sees: ended runs, and the params of queued and running ones. */
export async function strategyHistory(
  q: Queryable,
  sweepId: string,
): Promise<{
  ended: Array<Pick<RunRow, 'id' | 'params' | 'state' | 'objective' | 'latest_value' | 'metric_count'>>;
  pending: Array<Record<string, unknown>>;
}> {
  const { rows } = await q.query<Pick<RunRow, 'id' | 'params' | 'state' | 'objective' | 'latest_value' | 'metric_count'>>(
    // Ended runs in the order they ended: each pass then sees the previous one's observations
    // followed by the new ones, which lets the GP extend its factorization instead of redoing it.
    `SELECT id, params, state, objective, latest_value, metric_count FROM runs WHERE sweep_id = $1 ORDER BY ended_at NULLS LAST, number`,
    [sweepId],
  );
  const ended = rows.filter((r) => isTerminalRunState(r.state));
  const pending = rows.filter((r) => ACTIVE_RUN_STATES.includes(r.state)).map((r) => r.params);
  return { ended, pending };
}

/**
 * What a runs page shows of a run (`runSummary`), and nothing else: the proposal's details, the
 * claim's token and the bookkeeping columns stay in the database (the driver parses every column
 * it is sent).
 */
export type ListedRun = Omit<RunRow, 'params_hash' | 'proposal' | 'token' | 'signal' | 'metric_count' | 'heartbeat_at' | 'created_at' | 'started_at' | 'ended_at'> & {
  /** ISO 8601 in UTC with milliseconds, as `Date.toISOString()` prints it (see LIST_OUTER). */
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
};

const LIST_COLUMNS = `id, sweep_id, number, state, params, attempt, agent_id, host, gpu, exit_code, reason, stop_info,
  output_tail, summary, objective, objective_step, latest_value, warnings, created_at, started_at, ended_at, rerun_of`;
/**
 * The output tail (up to 16 KiB a run) is never listed whole: a failed or crashed run's last
 * ERROR_TAIL_CHARS + 1 characters are read, for its error line (one more than the window, so
 * `lastErrorLine` can tell whether the window starts mid-line). It is cut from the page's rows
 * only, outside the LIMIT/OFFSET: an expression in the paged SELECT is computed for every row the
 * OFFSET skips too, and `right()` decompresses each failed run's stored tail. At 10,000 runs, 10%
 * failed, the page at offset 9,000 took 36.5 ms that way against 2.8 ms without the tail (EXPLAIN
 * ANALYZE); a bare column passes its stored value along without reading it.
 */
const LIST_OUTER = LIST_COLUMNS.split(',')
  .map((c) => c.trim())
  .map((c) =>
    c === 'output_tail'
      ? `CASE WHEN p.state = ANY('{${FAILURE_RUN_STATES.join(',')}}'::text[]) THEN right(p.output_tail, ${ERROR_TAIL_CHARS + 1}) END AS output_tail`
      : c.endsWith('_at')
        ? `${isoText(`p.${c}`)} AS ${c}`
        : `p.${c}`,
  )
  .join(', ');

/**
 * A timestamp as the API prints it (`Date.toISOString()`: UTC, milliseconds, `Z`), made by
 * Postgres. The driver would otherwise parse each into a Date for the server to print again: for
 * a page of 1,000 runs, three timestamps each, that was a fifth of the server's CPU per page.
 * In UTC, the text sorts as the time does (ORDER BY on the alias stays right).
 */
function isoText(column: string): string {
  return `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
}

export type RunSort = 'number' | '-number' | 'metric' | '-metric' | 'started' | '-started';

export async function listRuns(
  q: Queryable,
  o: { sweepId: string; states?: readonly RunState[]; sort: RunSort; goal: Goal | null; limit: number; offset: number; after?: number },
): Promise<{ runs: ListedRun[]; total: number }> {
  const bestFirst = bestFirstOrder(o.goal ?? 'minimize');
  const worstFirst = bestFirst === 'ASC' ? 'DESC' : 'ASC';
  const order = {
    number: 'number ASC',
    '-number': 'number DESC',
    // "metric" sorts best first whatever the goal; runs without a value come last either way.
    metric: `objective ${bestFirst} NULLS LAST, number ASC`,
    '-metric': `objective ${worstFirst} NULLS LAST, number ASC`,
    started: 'started_at ASC NULLS LAST, number ASC',
    '-started': 'started_at DESC NULLS LAST, number DESC',
  }[o.sort];
  // A cursor (protocol/run-cursor.ts) starts the page after a run number: an index probe, where an
  // offset walks every run before the page.
  let after = '';
  if (o.after !== undefined) {
    if (o.sort !== 'number' && o.sort !== '-number') throw new HarrowError('INTERNAL', `listRuns: a cursor needs the order by number (got ${o.sort})`);
    after = ` AND number ${o.sort === 'number' ? '>' : '<'} $5`;
  }
  const states = o.states && o.states.length > 0 ? o.states : null;
  // One statement, one snapshot: the page always agrees with its total, even while the
  // scheduler is creating runs. The total sums the sweep's run counts per state (migration 0011)
  // instead of counting its runs (11 ms at 90,000 matching runs). With an empty page the single
  // row carries only the total.
  const { rows } = await q.query<ListedRun & { total: number }>(
    `SELECT t.total, ${LIST_OUTER} FROM
       (SELECT coalesce(sum(n), 0)::int AS total FROM run_state_counts WHERE sweep_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[]))) t
     LEFT JOIN LATERAL
       (SELECT ${LIST_COLUMNS} FROM runs WHERE sweep_id = $1 AND ($2::text[] IS NULL OR state = ANY($2::text[]))${after}
        ORDER BY ${order} LIMIT $3 OFFSET $4) p ON true
     ORDER BY ${order}`,
    [o.sweepId, states, o.limit, o.offset, ...(o.after !== undefined ? [o.after] : [])],
  );
  const total = rows[0]?.total ?? 0;
  // The rows keep their `total` column: copying 30 fields of each of 1,000 rows to drop it cost
  // more than the rest of this function (readers take the fields they name).
  const runs: ListedRun[] = rows.filter((r) => r.id !== null);
  return { runs, total };
}

/**
 * A sweep's best run: the best value among runs whose state counts for the best (finished and
 * stopped, `BEST_RUN_STATES`); ties go to the earlier run. The same rule as `compareRuns` in
 * `strategies/objective.ts`, written as an ORDER BY.
 */
export async function bestRun(q: Queryable, sweepId: string, goal: Goal): Promise<RunRow | null> {
  const best = await bestRunsMany(q, [{ id: sweepId, goal }]);
  return best.get(sweepId) ?? null;
}

/** The best run of each sweep, in one statement per goal. */
export async function bestRunsMany(q: Queryable, sweeps: ReadonlyArray<{ id: string; goal: Goal }>): Promise<Map<string, RunRow>> {
  const out = new Map<string, RunRow>();
  for (const goal of ['minimize', 'maximize'] as const) {
    const ids = sweeps.filter((s) => s.goal === goal).map((s) => s.id);
    if (ids.length === 0) continue;
    // The best of each (sweep, state) pair from the (sweep_id, state, objective) index, then the
    // best of those: a few index probes per sweep. (One DISTINCT ON over both states sorted every
    // finished and stopped run of the sweep: 20 ms at 10,000 runs, on every best-so-far request.)
    const order = `objective ${bestFirstOrder(goal)}, number ASC`;
    const { rows } = await q.query<RunRow>(
      `SELECT best.* FROM unnest($1::text[]) AS s(id)
       CROSS JOIN LATERAL (
         SELECT per_state.* FROM unnest($2::text[]) AS st(state)
         CROSS JOIN LATERAL (
           SELECT * FROM runs WHERE sweep_id = s.id AND state = st.state AND objective IS NOT NULL ORDER BY ${order} LIMIT 1
         ) per_state
         ORDER BY ${order} LIMIT 1
       ) best`,
      [ids, BEST_RUN_STATES],
    );
    for (const r of rows) out.set(r.sweep_id, r);
  }
  return out;
}

export interface CurvePoint {
  /** 1-based index among the runs that count for the best, in the order they ended. */
  index: number;
  runId: string;
  number: number;
  value: number;
  at: Date;
}

/**
 * Counts a run that ended with a value in a state that counts for the best (finished, stopped)
 * and, when it beats the sweep's best, appends a point to the best-so-far curve. Called in the
 * transaction that ends the run; the sweep row lock orders concurrent ends. Returns whether the
 * best improved. A later run with an equal value is no improvement (the earlier run keeps it).
 */
export async function recordEndedValue(q: Queryable, run: Pick<RunRow, 'id' | 'sweep_id' | 'state' | 'objective'>): Promise<boolean> {
  if (run.objective === null || !BEST_RUN_STATES.includes(run.state)) return false;
  const { rows } = await q.query<{ counted_runs: number; best_value: number | null; goal: Goal | null }>(
    `UPDATE sweeps SET counted_runs = counted_runs + 1 WHERE id = $1 RETURNING counted_runs, best_value, goal`,
    [run.sweep_id],
  );
  const row = rows[0];
  if (!row?.goal) return false;
  if (!isBetter(row.goal, run.objective, row.best_value)) return false;
  await q.query(`UPDATE sweeps SET best_value = $2 WHERE id = $1`, [run.sweep_id, run.objective]);
  await q.query(`INSERT INTO best_points (sweep_id, idx, run_id, value, at) VALUES ($1, $2, $3, $4, now())`, [
    run.sweep_id,
    row.counted_runs,
    run.id,
    run.objective,
  ]);
  return true;
}

/** Recomputes a sweep's counter, best and curve from its runs (for runs loaded by SQL, say). */
export async function rebuildBest(q: Queryable, sweepId: string): Promise<void> {
  await q.query(`SELECT harrow_rebuild_best($1, $2::text[])`, [sweepId, BEST_RUN_STATES]);
}

/** Recounts a sweep's runs per state from its runs (for runs loaded or changed by SQL, say). */
export async function rebuildRunCounts(q: Queryable, sweepId: string): Promise<void> {
  await q.query(`SELECT harrow_rebuild_run_counts($1)`, [sweepId]);
}

/** The best-so-far curve: the points where the best improved, and how many runs were counted. */
export async function bestCurve(q: Queryable, sweepId: string): Promise<{ points: CurvePoint[]; counted: number }> {
  const { rows } = await q.query<{ idx: number; run_id: string; number: number; value: number; at: Date; counted: number }>(
    `SELECT b.idx, b.run_id, r.number, b.value, b.at, s.counted_runs AS counted
     FROM sweeps s LEFT JOIN best_points b ON b.sweep_id = s.id LEFT JOIN runs r ON r.id = b.run_id
     WHERE s.id = $1 ORDER BY b.idx`,
    [sweepId],
  );
  const points = rows
    .filter((r) => r.idx !== null)
    .map((r) => ({ index: r.idx, runId: r.run_id, number: r.number, value: r.value, at: r.at }));
  return { points, counted: rows[0]?.counted ?? 0 };
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
