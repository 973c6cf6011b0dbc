/**
 * The vocabulary of early termination: what the controller hands in (each run's metric curve and
 * state) and what comes back (which runs to stop, and why, in words and numbers).
 */

/** The run states of `protocol/run-states.ts`, repeated because `strategies/` imports nothing of ours. */
export type RunCurveState = 'queued' | 'running' | 'finished' | 'failed' | 'crashed' | 'stopped' | 'canceled' | 'preempted';

/** One run's metric, as logged so far. */
export interface RunCurve {
  runId: string;
  state: RunCurveState;
  /**
   * The metric's logged values in logged order. Non-finite values (NaN, ±Infinity) may be present:
   * they are skipped, as W&B's `metric_history(filter_invalid=True)` skips them, so they neither
   * count as an iteration nor compete.
   */
  values: readonly number[];
}

export type StopRuleName = 'hyperband' | 'asha' | 'median' | 'model';

/** A decision to stop one running run, with the numbers behind it (in the metric's own sign). */
export interface StopDecision {
  runId: string;
  rule: StopRuleName;
  /** The run's iteration count (finite logged values) when decided. */
  at: number;
  /** Hyperband: the band the run was compared at. */
  band?: number;
  /** ASHA: the rung the run was compared at. */
  rung?: number;
  /** What `value` had to beat (hyperband/ASHA: the cut-off at the band/rung; median: the median; model: the best finished run's value). */
  threshold: number;
  /** The run's compared value (at the band/rung, or its best so far; model: its predicted final value, the posterior mean). */
  value: number;
  /** Model: the optimistic bound on its final value (`z` posterior sds better than `value`) that lost to `threshold`. */
  optimistic?: number;
  /** One line for logs and `harrow runs`, in the form of W&B's `early_terminate_info`. */
  message: string;
}
