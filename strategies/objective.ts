/**
 * The one notion of "better" for a sweep's metric, used by everything that ranks values: run
 * summaries, a sweep's best and its best-so-far curve, run lists, `metric.target`, the Bayesian
 * strategy's training targets and early termination. Pure (it lives in `strategies/`, which every
 * other part may import).
 *
 * - A run's value is the best finite value it logged of the sweep metric (W&B's summary min/max).
 * - A sweep's best is the best value among its runs whose state counts for the best (finished and
 *   stopped, see `protocol/run-states.ts`); ties go to the earlier run (lower run number).
 * - Non-finite values (NaN, ±Infinity) are never better than anything: a diverged run is kept in
 *   the time series but is nobody's best.
 */
import type { Goal } from './types.js';

/** Whether `a` is strictly better than `b` (anything finite beats no value). */
export function isBetter(goal: Goal, a: number, b: number | null | undefined): boolean {
  if (!Number.isFinite(a)) return false;
  if (b === null || b === undefined || !Number.isFinite(b)) return true;
  return goal === 'minimize' ? a < b : a > b;
}

/**
 * A sort comparator that puts better values first; missing and non-finite values go last, in
 * their given order (the sort is stable).
 */
export function compareValues(goal: Goal, a: number | null | undefined, b: number | null | undefined): number {
  const fa = typeof a === 'number' && Number.isFinite(a);
  const fb = typeof b === 'number' && Number.isFinite(b);
  if (!fa || !fb) return fa === fb ? 0 : fa ? -1 : 1;
  return lowerIsBetterSign(goal) * (a - b);
}

/** Ranks runs: better value first, then the earlier run (the tie rule of a sweep's best). */
export function compareRuns(goal: Goal, a: { value: number | null; number: number }, b: { value: number | null; number: number }): number {
  return compareValues(goal, a.value, b.value) || a.number - b.number;
}

/** The best of some values (null when none is finite); the first of equal values wins. */
export function bestValue(goal: Goal, values: Iterable<number | null | undefined>): number | null {
  let best: number | null = null;
  for (const v of values) if (typeof v === 'number' && isBetter(goal, v, best)) best = v;
  return best;
}

/** Whether `value` meets `metric.target` (at or beyond it in the goal's direction). */
export function reachesTarget(goal: Goal, value: number, target: number): boolean {
  if (!Number.isFinite(value)) return false;
  return goal === 'minimize' ? value <= target : value >= target;
}

/** 1 for minimize, -1 for maximize: `sign · value` is then lower-is-better (W&B negates maximize metrics). */
export function lowerIsBetterSign(goal: Goal): 1 | -1 {
  return goal === 'maximize' ? -1 : 1;
}

/** 1 for maximize, -1 for minimize: `sign · value` is then higher-is-better (what a GP maximizes). */
export function higherIsBetterSign(goal: Goal): 1 | -1 {
  return goal === 'maximize' ? 1 : -1;
}

/** The SQL `ORDER BY` direction that lists the best value first. */
export function bestFirstOrder(goal: Goal): 'ASC' | 'DESC' {
  return goal === 'maximize' ? 'DESC' : 'ASC';
}
