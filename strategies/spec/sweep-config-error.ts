import type { Issue } from '../types.js';

/**
 * A sweep file Harrow refuses. `issues` holds every problem found (not just the first), each with a
 * dotted path into the file and a message that says how to fix it. The controller maps this to
 * `INVALID_SWEEP_CONFIG` (see `protocol/errors.ts`, which duck-types on `issues`).
 */
export class SweepConfigError extends Error {
  override readonly name = 'SweepConfigError';
  readonly issues: Issue[];
  /** Non-fatal findings made on the way, kept so a caller can show them with the errors. */
  readonly warnings: Issue[];

  constructor(issues: Issue[], warnings: Issue[] = []) {
    super(formatIssues(issues));
    this.issues = issues;
    this.warnings = warnings;
  }
}

/** `PATH: message` per line; a problem with the file as a whole (empty path) is its message alone. */
export function formatIssue(issue: Issue): string {
  return issue.path === '' ? issue.message : `${issue.path}: ${issue.message}`;
}

function formatIssues(issues: Issue[]): string {
  const head =
    issues.length === 1 ? 'invalid sweep config (1 problem):' : `invalid sweep config (${issues.length} problems):`;
  return [head, ...issues.map((i) => `  ${formatIssue(i)}`)].join('\n');
}
