/**
 * evaluate.py's SPACES (W&B parameter forms) as sweep files for Harrow's strategies.
 */
import { parseSweepConfig } from '../../strategies/index.js';
import type { SweepSpec } from '../../strategies/types.js';

/** A parameter as evaluate.py writes it: W&B's sweep-file form. */
export type ParameterSpecInput = Record<string, unknown>;

/** `bayes`: the sweep file's `harrow.bayes` block (an ablation), used with method bayes only. */
export function sweepFor(method: 'bayes' | 'random', parameters: Record<string, ParameterSpecInput>, runCap: number, bayes: Record<string, unknown> = {}): SweepSpec {
  return parseSweepConfig({
    method,
    program: 'train.py',
    metric: { name: 'cv_error', goal: 'minimize' },
    parameters,
    run_cap: runCap,
    ...(method === 'bayes' && Object.keys(bayes).length > 0 ? { harrow: { bayes } } : {}),
  });
}
