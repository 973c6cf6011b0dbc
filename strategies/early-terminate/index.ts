/**
 * Early termination: W&B's hyperband rule exactly, plus ASHA, the median stopping rule and
 * model-based stopping on the multi-fidelity curve model (`ModelStopRule`, judged off the event loop).
 * Pure: curves in, stop decisions out. The controller keeps an `EarlyTerminator` per sweep
 * (controller/early-stopper.ts keeps it equal to the stored curves) and asks it each time a run
 * reports new values of the sweep's metric; `decideStops` is the stateless reference it equals.
 */
export { hyperbandBands, type HyperbandBandsOptions } from './bands.js';
export { ashaRungs } from './asha-rule.js';
export { decideStops } from './decide-stops.js';
export { isCurveRule } from './create-rule.js';
export { EarlyTerminator } from './early-terminator.js';
export { ModelStopRule, MODEL_STOP_DEFAULT_AT, MODEL_STOP_DEFAULT_Z, type RunningCurve } from './model-stop-rule.js';
export type { RunCurve, RunCurveState, StopDecision, StopRuleName } from './types.js';
