import type { CurveHistory } from './curve-history.js';
import type { SortedValues } from './sorted-values.js';
import type { StopDecision, StopRuleName } from './types.js';

/**
 * What every rule has in common, so the stateless `decideStops` and the incremental
 * `EarlyTerminator` share one definition of each rule and cannot drift apart:
 *
 * - a rule judges a run at one *checkpoint* (an iteration count) chosen from the run's count;
 * - every run that has reached a checkpoint records one value there (any state: finished,
 *   stopped and crashed runs still set the bar, as in W&B);
 * - the judgement looks only at the run and the sorted values recorded at its checkpoint.
 */
export interface TerminationRule {
  readonly name: StopRuleName;
  /** The checkpoint a run with `count` finite values is judged at, or `undefined` (not yet). */
  checkpointFor(count: number): number | undefined;
  /** Checkpoints c with from < c ≤ to, ascending: where a run growing from `from` to `to` records. */
  checkpointsIn(from: number, to: number): number[];
  /** The (normalized) value a run records at checkpoint `c` (requires `h.count ≥ c`). */
  recorded(h: CurveHistory, c: number): number;
  /** A stop decision, or `undefined` to let the run continue. `atCheckpoint` includes the run's own value. */
  judge(runId: string, h: CurveHistory, c: number, atCheckpoint: SortedValues): StopDecision | undefined;
}

/** Checkpoints of an ascending list that fall in (from, to]. */
export function checkpointsBetween(ascending: readonly number[], from: number, to: number): number[] {
  const out: number[] = [];
  for (const c of ascending) {
    if (c > to) break;
    if (c > from) out.push(c);
  }
  return out;
}

/** The largest element of an ascending list that is ≤ count (W&B's "closest band"). */
export function largestAtMost(ascending: readonly number[], count: number): number | undefined {
  let found: number | undefined;
  for (const c of ascending) {
    if (c > count) break;
    found = c;
  }
  return found;
}
