/**
 * Early termination: W&B's hyperband rule exactly, plus ASHA and the median stopping rule.
 * Pure: curves in, stop decisions out. The controller keeps an `EarlyTerminator` per sweep
 * (controller/early-stopper.ts keeps it equal to the stored curves) and asks it each time a run
 * reports new values of the sweep's metric; `decideStops` is the stateless reference it equals.
 */
export { hyperbandBands, type HyperbandBandsOptions } from './bands.js';
export { ashaRungs } from './asha-rule.js';
export { decideStops } from './decide-stops.js';
export { EarlyTerminator } from './early-terminator.js';
export type { RunCurve, RunCurveState, StopDecision, StopRuleName } from './types.js';
