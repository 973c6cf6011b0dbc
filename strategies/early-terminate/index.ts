/**
 * Early termination: W&B's hyperband rule exactly, plus ASHA and the median stopping rule.
 * Pure: curves in, stop decisions out. The controller calls `decideStops` (or keeps an
 * `EarlyTerminator`) each time a run reports new values of the sweep's metric.
 */
export { hyperbandBands, type HyperbandBandsOptions } from './bands.js';
export { ashaRungs } from './asha-rule.js';
export { decideStops } from './decide-stops.js';
export { EarlyTerminator } from './early-terminator.js';
export type { RunCurve, RunCurveState, StopDecision, StopRuleName } from './types.js';
