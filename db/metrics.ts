/** SQL for the metric time series and the per-run summaries derived from it. */
import type { Queryable, Transaction } from './database.js';
import type { MetricSummary } from './runs.js';

export interface PointRow {
  runId: string;
  attempt: number;
  seq: number;
  step: number;
  name: string;
  value: number;
  time: Date;
}

/**
 * Appends points; a point already stored (same run, attempt, seq) is skipped. Returns how many
 * were stored now. When that is fewer than given, some were re-delivered (a controller restarted
 * before acknowledging them): the caller then rebuilds what it derives from points, such as run
 * summaries, from what is stored, so every point counts exactly once without probing for
 * duplicates on the common path.
 *
 * The common path is a plain INSERT: `ON CONFLICT DO NOTHING` costs a speculative insertion per
 * row (a probe of the key, then the insert, then its confirmation), about 40% more time per point
 * than the insert itself (`npm run bench -- --scale`, ingestion against COPY). Re-delivery is
 * rare, so the batch is tried plainly under a savepoint, and only a batch that hits a stored key
 * (unique_violation) is redone with `ON CONFLICT DO NOTHING`. One savepoint per call, not per
 * statement: a transaction with more than 64 subtransactions slows every other session's snapshots.
 */
const INSERT_CHUNK = 10_000;
const UNIQUE_VIOLATION = '23505';

export async function insertPoints(tx: Transaction, points: readonly PointRow[]): Promise<number> {
  if (points.length === 0) return 0;
  // One statement per attempt, with its few metric names sent once and referenced by index, and
  // times as epoch milliseconds: encoding a text array element by element is the costly part of
  // sending thousands of rows, so the repetitive columns are not sent as arrays at all.
  const groups = new Map<string, PointRow[]>();
  for (const p of points) {
    const key = `${p.runId}\u0000${p.attempt}`;
    let g = groups.get(key);
    if (!g) groups.set(key, (g = []));
    g.push(p);
  }
  // At most INSERT_CHUNK points per statement: encoding the arrays of one statement is synchronous
  // work for the driver, and a batch of big reports is up to 500,000 points.
  const chunks = [...groups.values()].flatMap((g) => Array.from({ length: Math.ceil(g.length / INSERT_CHUNK) }, (_, i) => g.slice(i * INSERT_CHUNK, (i + 1) * INSERT_CHUNK)));
  await tx.query('SAVEPOINT harrow_points');
  let stored: number;
  try {
    stored = await insertChunks(tx, chunks, false);
  } catch (err) {
    if ((err as { code?: unknown }).code !== UNIQUE_VIOLATION) throw err;
    await tx.query('ROLLBACK TO SAVEPOINT harrow_points');
    stored = await insertChunks(tx, chunks, true);
  }
  await tx.query('RELEASE SAVEPOINT harrow_points');
  return stored;
}

async function insertChunks(tx: Transaction, chunks: readonly PointRow[][], skipStored: boolean): Promise<number> {
  let stored = 0;
  for (const group of chunks) {
    const names: string[] = [];
    const nameIndex = new Map<string, number>();
    const ni = group.map((p) => {
      let i = nameIndex.get(p.name);
      if (i === undefined) {
        i = names.push(p.name);
        nameIndex.set(p.name, i);
      }
      return i;
    });
    const { rowCount } = await tx.query(
      `INSERT INTO metrics (run_id, attempt, seq, step, name, value, time)
       SELECT $1, $2, u.seq, u.step, ($3::text[])[u.ni], u.value, to_timestamp(u.t / 1000.0)
       FROM unnest($4::int[], $5::int[], $6::int[], $7::float8[], $8::float8[]) AS u(seq, step, ni, value, t)
       ${skipStored ? 'ON CONFLICT DO NOTHING' : ''}`,
      [
        group[0]!.runId,
        group[0]!.attempt,
        names,
        numbersLiteral(group.map((p) => p.seq)),
        numbersLiteral(group.map((p) => p.step)),
        numbersLiteral(ni),
        // NaN and ±Infinity print as 'NaN' / 'Infinity' / '-Infinity', which float8 accepts.
        numbersLiteral(group.map((p) => p.value)),
        numbersLiteral(group.map((p) => p.time.getTime())),
      ],
    );
    stored += rowCount;
  }
  return stored;
}

/**
 * A numeric array as Postgres' text literal (`{1,2.5,NaN}`), sent as one string parameter and cast
 * by the statement: the driver's array encoding (a type check, a quoting and an escape per element)
 * was most of the controller's own time when storing points. Numbers need neither quotes nor
 * escapes, and JavaScript prints each one in a form float8 and int4 read back exactly.
 */
export function numbersLiteral(values: readonly number[]): string {
  return `{${values.join(',')}}`;
}

/** Every stored point of these attempts, in seq order per run. */
export async function attemptPoints(q: Queryable, attempts: ReadonlyArray<{ runId: string; attempt: number }>): Promise<PointRow[]> {
  const { rows } = await q.query<{ run_id: string; attempt: number; seq: number; step: number; name: string; value: number; time: Date }>(
    `SELECT m.run_id, m.attempt, m.seq, m.step, m.name, m.value, m.time
     FROM metrics m JOIN unnest($1::text[], $2::int[]) AS k(run_id, attempt) ON m.run_id = k.run_id AND m.attempt = k.attempt
     ORDER BY m.run_id, m.seq`,
    [attempts.map((a) => a.runId), attempts.map((a) => a.attempt)],
  );
  return rows.map((r) => ({ runId: r.run_id, attempt: r.attempt, seq: r.seq, step: r.step, name: r.name, value: r.value, time: r.time }));
}

export interface SummaryUpdate {
  runId: string;
  summary: Record<string, MetricSummary>;
  objective: number | null;
  objectiveStep: number | null;
  latestValue: number | null;
  metricCount: number;
}

export async function updateSummaries(q: Queryable, updates: readonly SummaryUpdate[]): Promise<void> {
  if (updates.length === 0) return;
  await q.query(
    `UPDATE runs r SET summary = u.summary, objective = u.objective, objective_step = u.objective_step,
       latest_value = u.latest_value, metric_count = u.metric_count, heartbeat_at = now()
     FROM unnest($1::text[], $2::jsonb[], $3::float8[], $4::int[], $5::float8[], $6::int[])
       AS u(id, summary, objective, objective_step, latest_value, metric_count)
     WHERE r.id = u.id`,
    [
      updates.map((u) => u.runId),
      updates.map((u) => JSON.stringify(u.summary)),
      updates.map((u) => u.objective),
      updates.map((u) => u.objectiveStep),
      updates.map((u) => u.latestValue),
      updates.map((u) => u.metricCount),
    ],
  );
}

export async function runHistory(
  q: Queryable,
  runId: string,
  attempt: number,
  names?: readonly string[],
): Promise<Array<{ step: number; name: string; value: number; time: Date }>> {
  const { rows } = await q.query<{ step: number; name: string; value: number; time: Date }>(
    `SELECT step, name, value, time FROM metrics WHERE run_id = $1 AND attempt = $2
       AND ($3::text[] IS NULL OR name = ANY($3::text[])) ORDER BY seq`,
    [runId, attempt, names && names.length > 0 ? names : null],
  );
  return rows;
}

/** The sweep metric's values per run (current attempt, logged order): the input of early termination. */
export async function metricCurves(q: Queryable, sweepId: string, name: string): Promise<Map<string, number[]>> {
  const { rows } = await q.query<{ run_id: string; value: number }>(
    `SELECT m.run_id, m.value FROM metrics m JOIN runs r ON r.id = m.run_id AND m.attempt = r.attempt
     WHERE r.sweep_id = $1 AND m.name = $2 ORDER BY m.run_id, m.seq`,
    [sweepId, name],
  );
  const out = new Map<string, number[]>();
  for (const r of rows) {
    let values = out.get(r.run_id);
    if (!values) out.set(r.run_id, (values = []));
    values.push(r.value);
  }
  return out;
}

/**
 * Locks the sweeps' rows (their curves cannot change until this transaction ends) and returns
 * their curve versions (`0004_curve_version.sql`). Versions are decimal strings: bigint.
 */
export async function lockCurveVersions(q: Queryable, sweepIds: readonly string[]): Promise<Map<string, string>> {
  if (sweepIds.length === 0) return new Map();
  // NO KEY UPDATE: serializes writers of the sweep's curves without blocking the scheduler's
  // inserts of new runs, which only take a key-share lock on the sweep.
  const { rows } = await q.query<{ id: string; v: string }>(
    `SELECT id, curve_version::text AS v FROM sweeps WHERE id = ANY($1::text[]) ORDER BY id FOR NO KEY UPDATE`,
    [sweepIds],
  );
  return new Map(rows.map((r) => [r.id, r.v]));
}

/** The sweep's curve version as this transaction sees it. */
export async function curveVersion(q: Queryable, sweepId: string): Promise<string> {
  const { rows } = await q.query<{ v: string }>(`SELECT curve_version::text AS v FROM sweeps WHERE id = $1`, [sweepId]);
  return rows[0]?.v ?? '0';
}

/** One claimed run's current attempt as stored: what early termination rebuilds itself from. */
export interface StoredCurve {
  runId: string;
  attempt: number;
  state: string;
  /** Highest seq stored for the attempt, any metric name; 0 when none. */
  lastSeq: number;
  /** The metric's values, in seq order. */
  values: number[];
}

/** Every claimed run of a sweep with its current attempt's curve of `name`, in run-number order. */
export async function storedCurves(q: Queryable, sweepId: string, name: string): Promise<StoredCurve[]> {
  const { rows: runs } = await q.query<{ id: string; attempt: number; state: string; last_seq: number }>(
    `SELECT r.id, r.attempt, r.state, coalesce(l.last_seq, 0)::int AS last_seq
     FROM runs r
     LEFT JOIN (SELECT m.run_id, max(m.seq) AS last_seq FROM metrics m JOIN runs x ON x.id = m.run_id AND m.attempt = x.attempt
                WHERE x.sweep_id = $1 GROUP BY m.run_id) l ON l.run_id = r.id
     WHERE r.sweep_id = $1 AND r.attempt > 0 ORDER BY r.number`,
    [sweepId],
  );
  const values = await metricCurves(q, sweepId, name);
  return runs.map((r) => ({ runId: r.id, attempt: r.attempt, state: r.state, lastSeq: r.last_seq, values: values.get(r.id) ?? [] }));
}

/** The running best of a run's curve at some positions (1-based, ascending, each below `length`). */
export interface CurvePrefix {
  at: number[];
  best: number[];
}

/**
 * What the multi-fidelity model reads of ended runs' curves of `name` (current attempt, finite
 * values in logged order): the running best at each of `positions` below the run's length, for
 * the `perKind` most recently ended runs of each kind (`finished`; `stopped` or `preempted`),
 * keyed by run id. The run's last position and best are on its row (`metric_count`,
 * `objective`), so they are not read here.
 *
 * Bounded: at most 2·perKind runs, and from each at most min(metric_count − 1, max(positions))
 * values, read in seq order from the primary key with the scan cut off by LIMIT, so a 10,000-run
 * sweep reads the same few thousand points per proposal as a 300-run one.
 */
export async function curvePrefixes(
  q: Queryable,
  sweepId: string,
  name: string,
  o: { goal: 'minimize' | 'maximize'; positions: readonly number[]; perKind: number },
): Promise<Map<string, CurvePrefix>> {
  const out = new Map<string, CurvePrefix>();
  if (o.positions.length === 0 || o.perKind <= 0) return out;
  const limit = Math.max(...o.positions);
  const { rows } = await q.query<{ id: string; pos: number; lo: number; hi: number }>(
    `WITH picked AS (
       SELECT id, attempt, metric_count FROM (
         SELECT id, attempt, metric_count,
                row_number() OVER (PARTITION BY state = 'finished' ORDER BY ended_at DESC NULLS LAST, number DESC) AS k
         FROM runs WHERE sweep_id = $1 AND state IN ('finished', 'stopped', 'preempted') AND metric_count > 1
       ) r WHERE k <= $3
     )
     SELECT p.id, c.pos::int AS pos, c.lo, c.hi FROM picked p
     CROSS JOIN LATERAL (
       SELECT pos, lo, hi FROM (
         SELECT row_number() OVER w AS pos, min(v.value) OVER w AS lo, max(v.value) OVER w AS hi
         FROM (SELECT m.seq, m.value FROM metrics m
               WHERE m.run_id = p.id AND m.attempt = p.attempt AND m.name = $2
                 AND m.value <> 'NaN'::float8 AND m.value <> 'Infinity'::float8 AND m.value <> '-Infinity'::float8
               ORDER BY m.seq LIMIT least(p.metric_count - 1, $4)) v
         WINDOW w AS (ORDER BY v.seq ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW)
       ) w WHERE w.pos = ANY($5::int[])
     ) c
     ORDER BY p.id, c.pos`,
    [sweepId, name, o.perKind, limit, [...o.positions]],
  );
  for (const r of rows) {
    let c = out.get(r.id);
    if (!c) out.set(r.id, (c = { at: [], best: [] }));
    c.at.push(r.pos);
    c.best.push(o.goal === 'maximize' ? r.hi : r.lo);
  }
  return out;
}
