import type { CurveRuleSpec, Goal } from '../types.js';
import { createRule, goalSign } from './create-rule.js';
import { CurveHistory } from './curve-history.js';
import { SortedValues } from './sorted-values.js';
import type { RunCurve, StopDecision } from './types.js';

/**
 * Which running runs to stop now, under `spec`, given every run's metric curve.
 *
 * Pure and deterministic: decisions come in the order of `curves`. Only runs in state `running`
 * are judged, and of those only the ones named in `candidates` when it is given (the runs that
 * just reported). Every run's curve, in any state, sets the bars they are judged against.
 *
 * Cost, for N runs holding V logged values in all: O(V) to filter and normalize the curves, then
 * for each distinct checkpoint (band, rung or step) among the judged runs, O(N log N) to sort the
 * values recorded there, and O(1) per judged run. With `candidates` from one report batch that is
 * a handful of sorts; judging every run of a median-rule sweep is at worst one sort per distinct
 * step. For a 10,000-run sweep judged on every metric batch, `EarlyTerminator` keeps the sorted
 * values between calls and decides in O(log N) per report instead.
 */
export function decideStops(
  spec: CurveRuleSpec,
  goal: Goal,
  curves: readonly RunCurve[],
  candidates?: readonly string[],
): StopDecision[] {
  const rule = createRule(spec, goal);
  const sign = goalSign(goal);
  const histories = curves.map((c) => CurveHistory.of(c.values, sign));
  const wanted = candidates === undefined ? undefined : new Set(candidates);
  const atCheckpoint = new Map<number, SortedValues>();
  const decisions: StopDecision[] = [];
  curves.forEach((curve, i) => {
    if (curve.state !== 'running' || (wanted !== undefined && !wanted.has(curve.runId))) return;
    const h = histories[i]!;
    const c = rule.checkpointFor(h.count);
    if (c === undefined) return;
    let recorded = atCheckpoint.get(c);
    if (recorded === undefined) {
      const values: number[] = [];
      for (const other of histories) if (other.count >= c) values.push(rule.recorded(other, c));
      recorded = SortedValues.from(values);
      atCheckpoint.set(c, recorded);
    }
    const decision = rule.judge(curve.runId, h, c, recorded);
    if (decision !== undefined) decisions.push(decision);
  });
  return decisions;
}
