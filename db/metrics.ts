/** SQL for the metric time series and the per-run summaries derived from it. */
import type { Queryable } from './database.js';
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
 * Appends points; points already stored (same run, attempt, seq) are skipped. Returns the points
 * inserted now, so summaries count each point exactly once however often a report is delivered.
 *
 * Duplicates are found first by probing the primary key (re-deliveries are rare, so this
 * usually returns nothing), which is cheaper than having the insert return every row it wrote.
 * ON CONFLICT stays as the guarantee should two deliveries of the same batch ever race.
 */
export async function insertPoints(q: Queryable, points: readonly PointRow[]): Promise<PointRow[]> {
  if (points.length === 0) return [];
  const { rows: stored } = await q.query<{ run_id: string; attempt: number; seq: number }>(
    `SELECT m.run_id, m.attempt, m.seq FROM metrics m
     JOIN unnest($1::text[], $2::int[], $3::int[]) AS k(run_id, attempt, seq)
       ON m.run_id = k.run_id AND m.attempt = k.attempt AND m.seq = k.seq`,
    [points.map((p) => p.runId), points.map((p) => p.attempt), points.map((p) => p.seq)],
  );
  const key = (runId: string, attempt: number, seq: number) => `${runId}\u0000${attempt}\u0000${seq}`;
  const skip = new Set(stored.map((r) => key(r.run_id, r.attempt, r.seq)));
  const unique: PointRow[] = [];
  for (const p of points) {
    const k = key(p.runId, p.attempt, p.seq);
    // Also drops a point repeated within this batch (the same report delivered twice).
    if (skip.has(k)) continue;
    skip.add(k);
    unique.push(p);
  }
  unique.sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.seq - b.seq));
  if (unique.length === 0) return [];
  await q.query(
    `INSERT INTO metrics (run_id, attempt, seq, step, name, value, time)
     SELECT * FROM unnest($1::text[], $2::int[], $3::int[], $4::int[], $5::text[], $6::float8[], $7::timestamptz[])
     ON CONFLICT DO NOTHING`,
    [
      unique.map((p) => p.runId),
      unique.map((p) => p.attempt),
      unique.map((p) => p.seq),
      unique.map((p) => p.step),
      unique.map((p) => p.name),
      // pg sends numbers as text: NaN and ±Infinity become 'NaN' / 'Infinity', which float8 accepts.
      unique.map((p) => p.value),
      unique.map((p) => p.time.toISOString()),
    ],
  );
  return unique;
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
