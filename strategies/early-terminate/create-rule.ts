import type { CurveRuleSpec, EarlyTerminateSpec, Goal } from '../types.js';
import { lowerIsBetterSign } from '../objective.js';
import { ashaRule } from './asha-rule.js';
import { hyperbandRule } from './hyperband-rule.js';
import { medianRule } from './median-rule.js';
import type { TerminationRule } from './termination-rule.js';

export function createRule(spec: CurveRuleSpec, goal: Goal): TerminationRule {
  switch (spec.type) {
    case 'hyperband':
      return hyperbandRule(spec, goal);
    case 'asha':
      return ashaRule(spec, goal);
    case 'median':
      return medianRule(spec, goal);
    default: {
      const never: never = spec;
      throw new TypeError(`unknown early_terminate type: ${JSON.stringify(never)}`);
    }
  }
}

/** W&B negates `maximize` metrics so that lower is always better (the one definition is in objective.ts). */
export const goalSign = lowerIsBetterSign;

/** The rules `EarlyTerminator` and `decideStops` judge from the curves alone (all but `model`, which needs the GP). */
export function isCurveRule(spec: EarlyTerminateSpec): spec is CurveRuleSpec {
  return spec.type !== 'model';
}
