/** Database rows to the API's response shapes (`protocol/api.ts`). */
import type { ListedRun, RunRow } from '../db/runs.js';
import type { SweepRow, RunCounts } from '../db/sweeps.js';
import type { BestRun, RunSummary, SweepSummary } from '../protocol/api.js';
import { RUN_STATE_TRAITS, sweepHealth } from '../protocol/run-states.js';
import { lastErrorLine } from '../protocol/output-errors.js';

/**
 * A timestamp as the API prints it. A runs page's rows bring theirs already printed by Postgres in
 * this form (`ListedRun`), passed through; other rows bring Dates.
 */
function iso(d: Date | string | null): string | null {
  if (d === null) return null;
  if (d instanceof Date) return d.toISOString();
  return d.length === 24 && d.endsWith('Z') ? d : new Date(d).toISOString();
}

export function runSummary(r: ListedRun | RunRow): RunSummary {
  return {
    id: r.id,
    sweepId: r.sweep_id,
    number: r.number,
    state: r.state,
    attempt: r.attempt,
    params: r.params,
    value: r.objective,
    valueStep: r.objective_step,
    latest: r.latest_value,
    summary: r.summary,
    reason: r.reason,
    stopInfo: r.stop_info,
    warnings: r.warnings ?? [],
    exitCode: r.exit_code,
    agentId: r.agent_id,
    host: r.host,
    gpu: r.gpu,
    errorLine: RUN_STATE_TRAITS[r.state].failure ? lastErrorLine(r.output_tail) : null,
    rerunOf: r.rerun_of ?? null,
    createdAt: iso(r.created_at)!,
    startedAt: iso(r.started_at),
    endedAt: iso(r.ended_at),
  };
}

export function bestRunOf(r: RunRow | null | undefined): BestRun | null {
  if (!r || r.objective === null) return null;
  return { runId: r.id, number: r.number, params: r.params, value: r.objective, step: r.objective_step };
}

export function sweepSummary(s: SweepRow, counts: RunCounts, best: RunRow | null | undefined): SweepSummary {
  return {
    id: s.id,
    name: s.name,
    state: s.state,
    stateReason: s.state_reason,
    method: s.method,
    metric: s.metric_name && s.goal ? { name: s.metric_name, goal: s.goal } : null,
    runCap: s.run_cap,
    expectedRuns: s.expected_runs,
    counts,
    best: bestRunOf(best),
    health: sweepHealth(counts),
    createdAt: iso(s.created_at)!,
    createdBy: s.created_by,
    endedAt: iso(s.ended_at),
  };
}
