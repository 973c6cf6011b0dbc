import type { Goal, HyperbandSpec } from '../types.js';
import { checkpointsBetween, largestAtMost, type TerminationRule } from './termination-rule.js';

/**
 * W&B's hyperband early termination (`sweeps/hyperband_stopping.py`), decision for decision:
 *
 * - the value a run records at band b is its b-th finite value (history[b − 1]);
 * - the threshold at b is sorted(values at b)[int((1/eta) · len)] — computed as W&B does, with
 *   r = 1/eta first, because (1/eta)·len and len/eta truncate differently (eta 49, len 49 gives
 *   0.999… → index 0, not 1);
 * - a run is judged at the largest band ≤ its count, comparing its value at that band
 *   (`strict`) or its best so far over its whole history (non-strict), and stopped when that is
 *   strictly worse than the threshold. The first run to reach a band is never stopped there: the
 *   threshold is then its own value.
 */
export function hyperbandRule(spec: HyperbandSpec, _goal: Goal): TerminationRule {
  const bands = spec.bands;
  const r = 1 / spec.eta;
  return {
    name: 'hyperband',
    checkpointFor: (count) => largestAtMost(bands, count),
    checkpointsIn: (from, to) => checkpointsBetween(bands, from, to),
    recorded: (h, band) => h.valueAt(band),
    judge(runId, h, band, atBand) {
      // W&B would raise IndexError at r = 1; the parser rejects eta ≤ 1, the clamp keeps us total.
      const threshold = atBand.at(Math.min(Math.trunc(r * atBand.length), atBand.length - 1));
      const value = spec.strict ? h.valueAt(band) : h.best;
      if (!(value > threshold)) return undefined;
      const v = h.raw(value);
      const t = h.raw(threshold);
      return {
        runId,
        rule: 'hyperband',
        at: h.count,
        band,
        threshold: t,
        value: v,
        message: `Run: ${runId} Step: ${h.count} (Band: ${band} Metric: ${v} Threshold: ${t}) STOP`,
      };
    },
  };
}
