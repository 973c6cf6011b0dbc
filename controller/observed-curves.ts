/**
 * The learning curves a Bayesian sweep with `harrow.bayes.multi_fidelity: true` gives its strategy
 * (issue 17, point 1): each ended run's `Observation.curve`, read from Postgres as a
 * `CurveSummary` at the positions the multi-fidelity model uses (strategies/bayes/multi-fidelity.ts).
 *
 * Cost per proposal, whatever the sweep's size: every ended run gets its last point from its row
 * (`metric_count` values, best `objective`), which the history query reads anyway; only the
 * MF_CURVE_RUNS most recently ended finished runs and as many stopped ones get their earlier
 * points, read with one bounded query (db/metrics.ts `curvePrefixes`): at most MF_CURVE_MAX_POSITION
 * values per run. That is what the model can use: it keeps at most 300 (configuration, budget)
 * points, finished runs' ends first, then stopped runs' last points, then earlier points of the
 * most recent runs. Queued and running runs stay pending (no curve): the strategy's fantasies
 * account for them, as without curves.
 */
import { CURVE_POSITION_RATIO } from '../strategies/bayes/index.js';
import type { CurveSummary, Goal } from '../strategies/types.js';
import type { Queryable } from '../db/database.js';
import { curvePrefixes } from '../db/metrics.js';
import type { RunRow } from '../db/runs.js';

/** Finished runs, and stopped ones, whose earlier points are read: each kind's most recent. */
export const MF_CURVE_RUNS = 100;
/**
 * The last position read before a run's end (3⁶): a 10,000-step curve gives points at 1, 3, …,
 * 729 and its end. Bounds the values read per run to 729 however long runs log.
 */
export const MF_CURVE_MAX_POSITION = 729;

const POSITIONS: number[] = [];
for (let t = 1; t <= MF_CURVE_MAX_POSITION; t *= CURVE_POSITION_RATIO) POSITIONS.push(t);

type EndedRun = Pick<RunRow, 'id' | 'state' | 'objective' | 'metric_count'>;

/** Each ended finished, stopped or preempted run's curve summary, by run id. */
export async function observedCurves(
  q: Queryable,
  sweepId: string,
  metric: { name: string; goal: Goal },
  ended: readonly EndedRun[],
  perKind = MF_CURVE_RUNS,
): Promise<Map<string, CurveSummary>> {
  const prefixes = await curvePrefixes(q, sweepId, metric.name, { goal: metric.goal, positions: POSITIONS, perKind });
  const out = new Map<string, CurveSummary>();
  for (const r of ended) {
    if (r.state !== 'finished' && r.state !== 'stopped' && r.state !== 'preempted') continue;
    if (r.metric_count < 1 || r.objective === null) continue;
    const p = prefixes.get(r.id);
    const at = [...(p?.at ?? []), r.metric_count];
    const best = [...(p?.best ?? []), r.objective];
    out.set(r.id, { length: r.metric_count, at, best });
  }
  return out;
}
