import type { EncodedSpace, MetricSpec, ModelStopSpec, Observation, Params, SweepSpec } from '../types.js';
import { encodeSpace } from '../space/index.js';
import { CurveImputer } from '../bayes/multi-fidelity.js';
import { priorPreset } from '../bayes/bayes-strategy.js';
import type { PriorPreset } from '../bayes/priors.js';
import { lowerIsBetterSign } from '../objective.js';
import { checkpointsBetween } from './termination-rule.js';
import type { StopDecision } from './types.js';

/** The checkpoints of `harrow.early_terminate: {type: model}` when `at` is left out. */
export const MODEL_STOP_DEFAULT_AT: readonly number[] = [3, 5, 8, 12, 18];
/** The optimism of the bound when `z` is left out: P(beating the best finished run) below 5%. */
export const MODEL_STOP_DEFAULT_Z = 1.645;

/** A running run as the rule judges it: its parameters and its metric's logged values so far. */
export interface RunningCurve {
  runId: string;
  params: Params;
  /** Logged values in logged order; non-finite ones are skipped (they are not iterations). */
  values: readonly number[];
}

/**
 * Model-based stopping (Domhan et al. 2015; freeze-thaw, Swersky et al. 2014), on the
 * multi-fidelity curve model of `bayes/multi-fidelity.ts` (a GP over configuration and budget):
 * when a running run reaches one of `at` finite logged values of the metric, it is stopped if
 * its predicted final value, `z` posterior standard deviations on the optimistic side, is still
 * worse than the best value any finished run logged, i.e. if P(it beats that run) < Φ(−z).
 *
 * Unlike hyperband, ASHA and the median rule it needs no comparison at equal steps: the model
 * reads every ended run's curve (finished ones teach it where curves end), so one run that is
 * merely slow to start but heads for a good end is kept, and one that can only end badly is
 * stopped as early as the model is sure.
 *
 * Stateful only as a cache: it keeps the curve model's hyperparameters and refits them when the
 * observations change in number (a run ended), then predicts each judged run on its own. Given
 * the same sequence of calls it gives the same decisions. No decision before a run has finished
 * and the model has its minimum of finished runs with full curves (3).
 *
 * Heavier than the other rules (a GP fit of up to a few hundred points on refit, a posterior of
 * up to 300 points per judged run): the controller runs it in the strategy worker thread.
 */
export class ModelStopRule {
  readonly name = 'model';
  private readonly imputer: CurveImputer;
  private readonly sign: 1 | -1;
  private fittedOn = -1;

  constructor(
    readonly spec: ModelStopSpec,
    space: EncodedSpace,
    metric: MetricSpec,
    preset: PriorPreset,
  ) {
    this.imputer = new CurveImputer(space, metric, { preset });
    this.sign = lowerIsBetterSign(metric.goal);
  }

  /** The rule of a sweep whose `earlyTerminate` is `type: model`, with the prior preset its GP uses. */
  static forSweep(spec: SweepSpec): ModelStopRule {
    const et = spec.earlyTerminate;
    if (et?.type !== 'model') throw new RangeError('ModelStopRule.forSweep: the sweep\'s early_terminate is not type: model');
    if (spec.metric === undefined) throw new RangeError('harrow.early_terminate type: model needs a metric to compare runs');
    const space = encodeSpace(spec);
    return new ModelStopRule(et, space, spec.metric, priorPreset(spec.harrow?.bayes?.prior, space.dimensions.length));
  }

  /**
   * The checkpoint a run whose finite value count grew from `from` to `to` is judged at (the
   * largest of `at` in (from, to]), or `undefined` when it crossed none.
   */
  checkpointIn(from: number, to: number): number | undefined {
    return checkpointsBetween(this.spec.at, from, to).at(-1);
  }

  /**
   * Decisions for `running` (each judged alone, in the given order) given the sweep's ended runs
   * (`observations` as the strategy sees them, with `curve` on the runs that have one: without
   * curves the model has nothing to learn from and stops nothing).
   */
  judge(observations: readonly Observation[], running: readonly RunningCurve[]): StopDecision[] {
    let best = Infinity;
    for (const o of observations) {
      if (o.state === 'finished' && o.value !== null && Number.isFinite(o.value)) best = Math.min(best, this.sign * o.value);
    }
    if (!Number.isFinite(best) || running.length === 0) return [];
    if (this.fittedOn !== observations.length) {
      this.imputer.impute(observations);
      this.fittedOn = observations.length;
    }
    const incumbent = this.sign * best;
    const decisions: StopDecision[] = [];
    for (const r of running) {
      const count = r.values.reduce((n, v) => (Number.isFinite(v) ? n + 1 : n), 0);
      const [p] = this.imputer.predictRunning(observations, [{ params: r.params, curve: r.values }], this.spec.z);
      if (p == null || !(this.sign * p.optimistic > best)) continue;
      decisions.push({
        runId: r.runId,
        rule: 'model',
        at: count,
        threshold: incumbent,
        value: p.mean,
        optimistic: p.optimistic,
        message: `model after ${count} values: predicted final ${short(p.mean)} (optimistic ${short(p.optimistic)}, z ${this.spec.z}) vs best finished ${short(incumbent)}: STOP`,
      });
    }
    return decisions;
  }
}

function short(x: number): string {
  return String(Number(x.toPrecision(5)));
}
