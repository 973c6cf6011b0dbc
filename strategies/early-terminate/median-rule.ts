import type { Goal, MedianSpec } from '../types.js';
import type { TerminationRule } from './termination-rule.js';

/**
 * The median stopping rule (Golovin et al., "Google Vizier", 2017). A run with t values is judged
 * at step t: it is stopped when its best value so far is strictly worse than the median of the
 * running averages (mean of the first t values) of the OTHER runs that have reached step t, in any
 * state. No decision before t ≥ `minSteps`, nor while fewer than `minRuns` (at least 1) other runs
 * have reached step t.
 *
 * Vizier takes the median over completed trials only; counting every run that reached the step
 * lets the rule act from the start of a sweep, when few runs have finished, and `minRuns` is the
 * guard against deciding on too few.
 */
export function medianRule(spec: MedianSpec, _goal: Goal): TerminationRule {
  const first = Math.max(1, Math.ceil(spec.minSteps));
  const minOthers = Math.max(1, spec.minRuns);
  return {
    name: 'median',
    checkpointFor: (count) => (count >= first ? count : undefined),
    checkpointsIn(from, to) {
      const out: number[] = [];
      for (let t = Math.max(from + 1, first); t <= to; t++) out.push(t);
      return out;
    },
    recorded: (h, t) => h.averageTo(t),
    judge(runId, h, t, averages) {
      const others = averages.length - 1;
      if (others < minOthers) return undefined;
      const median = averages.medianWithout(h.averageTo(t));
      if (median === undefined) return undefined;
      const value = h.best;
      if (!(value > median)) return undefined;
      const v = h.raw(value);
      const m = h.raw(median);
      return {
        runId,
        rule: 'median',
        at: t,
        threshold: m,
        value: v,
        message: `Run: ${runId} Step: ${t} (Best: ${v} Median: ${m} of ${others} other runs' running averages) STOP`,
      };
    },
  };
}
