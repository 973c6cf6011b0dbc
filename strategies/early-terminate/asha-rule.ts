import type { AshaSpec, Goal } from '../types.js';
import { hyperbandBands } from './bands.js';
import { checkpointsBetween, largestAtMost, type TerminationRule } from './termination-rule.js';

/**
 * ASHA's rungs: int(gracePeriod · eta^k), computed like W&B's `min_iter` bands so that the same
 * numbers give the same milestones in both rules, and cut at `maxIter` when given.
 */
export function ashaRungs(spec: Pick<AshaSpec, 'gracePeriod' | 'eta' | 'maxIter'>): number[] {
  const rungs = hyperbandBands({ minIter: spec.gracePeriod, eta: spec.eta });
  return spec.maxIter === undefined ? rungs : rungs.filter((r) => r <= spec.maxIter!);
}

/**
 * Asynchronous successive halving in its stopping form (Li et al. 2020; what Ray Tune and Optuna
 * run). A run records its value at each rung it reaches (the value at that iteration). It is
 * judged at the largest rung ≤ its count: with n values recorded there (counting its own), it
 * continues only if it ranks within the top max(1, ⌊n/eta⌋); ties with the cut-off continue.
 * No decision while the rung holds fewer than `minRunsPerRung` values.
 *
 * Unlike Ray, which judges once on arrival at a rung, the run is re-judged each time it reports
 * while it sits between two rungs, against a rung that keeps filling. That is what lets a rung
 * too small to decide on at arrival decide later, and it makes the outcome a function of the
 * curves alone rather than of how reports were batched.
 */
export function ashaRule(spec: AshaSpec, _goal: Goal): TerminationRule {
  const rungs = ashaRungs(spec);
  const minValues = Math.max(1, spec.minRunsPerRung);
  return {
    name: 'asha',
    checkpointFor: (count) => largestAtMost(rungs, count),
    checkpointsIn: (from, to) => checkpointsBetween(rungs, from, to),
    recorded: (h, rung) => h.valueAt(rung),
    judge(runId, h, rung, atRung) {
      const n = atRung.length;
      if (n < minValues) return undefined;
      const keep = Math.max(1, Math.floor(n / spec.eta));
      const threshold = atRung.at(keep - 1);
      const value = h.valueAt(rung);
      if (!(value > threshold)) return undefined;
      const v = h.raw(value);
      const t = h.raw(threshold);
      return {
        runId,
        rule: 'asha',
        at: h.count,
        rung,
        threshold: t,
        value: v,
        message: `Run: ${runId} Step: ${h.count} (Rung: ${rung} Metric: ${v} Threshold: ${t}; top ${keep} of ${n} continue) STOP`,
      };
    },
  };
}
