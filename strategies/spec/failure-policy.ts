/**
 * The defaults of Harrow's failure policies (`harrow.pause_on_failures`, `harrow.fail_on`) and
 * how a spec's policies are read, in one place: the validator fills them in, and the controller
 * reads them through `pauseOnFailuresOf` / `failOnOf` (so specs stored before these settings
 * existed get the defaults too).
 */
import type { FailOnRule, PauseOnFailuresSpec, SweepSpec } from '../types.js';

/**
 * W&B's agent gives up after 3 failures in its first minute; Harrow pauses (a user can resume)
 * when the first 3 runs all fail, or 5 fail in a row later on: a broken command is caught before
 * it burns the run cap, while an occasional bad configuration is not.
 */
export const DEFAULT_PAUSE_ON_FAILURES: Readonly<PauseOnFailuresSpec> = { first: 3, consecutive: 5 };

/** The messages PyTorch, TensorFlow and JAX print when a GPU runs out of memory. */
export const DEFAULT_FAIL_ON: readonly FailOnRule[] = [
  { name: 'out of memory', pattern: 'CUDA out of memory|CUDA error: out of memory|OutOfMemoryError|RESOURCE_EXHAUSTED: Out of memory' },
];

export function pauseOnFailuresOf(spec: Pick<SweepSpec, 'harrow'>): PauseOnFailuresSpec {
  return spec.harrow.pauseOnFailures ?? { ...DEFAULT_PAUSE_ON_FAILURES };
}

export function failOnOf(spec: Pick<SweepSpec, 'harrow'>): readonly FailOnRule[] {
  return spec.harrow.failOn ?? DEFAULT_FAIL_ON;
}

/**
 * The first line of `output` matching a rule, checked rule by rule; null when none matches.
 * Patterns were compiled once by the validator, so they compile here.
 */
export function matchFailOn(rules: readonly FailOnRule[], output: string): { rule: FailOnRule; line: string } | null {
  if (output === '') return null;
  const lines = output.split(/\r?\n/);
  for (const rule of rules) {
    const re = new RegExp(rule.pattern);
    const line = lines.find((l) => re.test(l));
    if (line !== undefined) return { rule, line: line.trim() };
  }
  return null;
}
