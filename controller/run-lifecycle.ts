/**
 * The one owner of what happens when a run's attempt ends, whether its agent reported the end
 * (the ingestor) or its heartbeat stopped (the reaper). Inside the caller's transaction:
 *
 * 1. failure policies read from the output (`harrow.fail_on`): a failed run whose output matches
 *    gets a named reason (`out of memory: <line>`) and is never retried;
 * 2. the end itself, through the guarded transition of `db/runs.ts`;
 * 3. the run's value counted for the sweep's best (finished and stopped runs);
 * 4. the retry policy (`harrow.retry`): a new fenced attempt of the same run, queued; a preempted
 *    run (its agent drained, its spot box reclaimed) always gets one while the sweep runs, and
 *    that attempt spends no retry (the policy counts failed attempts only);
 * 5. pause on failures (`harrow.pause_on_failures`): the sweep pauses, with the reason stored.
 *
 * Then, once committed, `afterRunEnd` tells Redis and live watchers: the retry's job is enqueued
 * (the only place a retry is enqueued), a pause is mirrored to the agents.
 *
 * Every decision is a function of what the transaction reads from Postgres (the sweep row and its
 * spec, the run, the runs that ended before it), never of a replica's memory.
 */
import type { SweepSpec } from '../strategies/types.js';
import { failOnOf, matchFailOn, pauseOnFailuresOf } from '../strategies/index.js';
import type { EndReport } from '../protocol/wire.js';
import { FAILURE_RUN_STATES, LIVE_SWEEP_STATES, canTransitionSweep, isRetryableRunState, type RunState, type SweepStateName } from '../protocol/run-states.js';
import type { Queryable } from '../db/database.js';
import { crashStaleRuns, endRun, failedAttemptCount, outcomesSinceResume, recordEndedValue, requeueRun, type OutcomeRow, type RunRow } from '../db/runs.js';
import { getSweep, sweepOfRun, type SweepRow } from '../db/sweeps.js';
import type { ControllerContext } from './context.js';
import { runJobOf } from './scheduler.js';
import { runSummary } from './serialize.js';
import { afterSweepMove, moveSweep, type SweepMove } from './sweep-service.js';
import { finishIfBudgetSpent } from './budget-limits.js';

/** What one ended attempt led to, for `afterRunEnd`. */
export interface RunEnd {
  /** The run as it ended. */
  run: RunRow;
  /** Its new attempt, queued, when the retry policy said so. */
  retry: RunRow | null;
  /** The spec the retry's job is rendered from (present with `retry`). */
  spec: SweepSpec | null;
  /** The run's value improved the sweep's best. */
  bestImproved: boolean;
  /** The sweep paused because its runs keep failing. */
  pause: SweepMove | null;
  /** The sweep finished because this end spent its budget (`harrow.budget`). */
  budget?: SweepMove | null;
}

export type RetryDecision = { retry: true; reason: string } | { retry: false; why: string };

/**
 * The retry policy: a failed or crashed run gets a new attempt when the sweep has not ended, the
 * policy retries that end state, attempts are left, and no fail_on rule named the failure.
 * `run.attempt` is the attempts that count: the failed ones (preempted attempts are not failures).
 */
export function retryDecision(
  spec: Pick<SweepSpec, 'harrow'>,
  sweepState: SweepStateName,
  run: { state: RunState; attempt: number },
  failedByPolicy: boolean,
): RetryDecision {
  const policy = spec.harrow.retry;
  if (!isRetryableRunState(run.state)) return { retry: false, why: `a ${run.state} run is not retried` };
  if (!LIVE_SWEEP_STATES.includes(sweepState)) return { retry: false, why: `the sweep is ${sweepState}` };
  if (failedByPolicy) return { retry: false, why: 'a fail_on rule matched its output' };
  if (!(policy.on as readonly RunState[]).includes(run.state)) return { retry: false, why: `harrow.retry.on does not include ${run.state}` };
  if (run.attempt >= policy.maxAttempts) return { retry: false, why: `attempt ${run.attempt} of ${policy.maxAttempts} was the last` };
  return { retry: true, reason: `retry after ${run.state}: attempt ${run.attempt + 1} of ${policy.maxAttempts}` };
}

/**
 * Whether a sweep must pause, from the runs that ended since it last started or resumed (oldest
 * first in `first`, newest first in `last`): the first N all failed, or the last K all failed.
 * Returns the reason, naming the rule, the last failure and how to go on; null to keep going.
 */
export function pauseReason(spec: Pick<SweepSpec, 'harrow'>, sweepId: string, outcomes: { first: OutcomeRow[]; last: OutcomeRow[] }): string | null {
  const policy = pauseOnFailuresOf(spec);
  const failed = (rows: OutcomeRow[], n: number | null): boolean => n !== null && rows.length >= n && rows.slice(0, n).every((r) => FAILURE_RUN_STATES.includes(r.state));
  let rule: string | null = null;
  if (failed(outcomes.first, policy.first)) rule = `the first ${policy.first} runs all failed or crashed`;
  else if (failed(outcomes.last, policy.consecutive)) rule = `${policy.consecutive} runs in a row failed or crashed`;
  if (rule === null) return null;
  const latest = outcomes.last[0];
  const example = latest ? ` (last: run ${latest.number} ${latest.state}${latest.reason ? `: ${latest.reason}` : ''})` : '';
  return `paused: ${rule}${example}; look at a failed run (harrow runs ${sweepId} --state failed,crashed), fix the cause, then harrow resume ${sweepId} (harrow.pause_on_failures sets this rule)`;
}

/** The end an agent reported, with the failure policies applied. In the caller's transaction. */
export async function endAttempt(
  ctx: ControllerContext,
  tx: Queryable,
  e: EndReport,
): Promise<{ status: 'ended'; end: RunEnd } | { status: 'duplicate' } | { status: 'refused'; why: string }> {
  let reason = e.reason;
  let details: Record<string, unknown> | undefined;
  let sweep: SweepRow | null = null;
  let failedByPolicy = false;
  if (e.outcome === 'failed' && e.tail !== '') {
    // The run's own sweep, not the one the report names: the report is the agent's word.
    sweep = await sweepOfRun(tx, e.runId);
    const hit = sweep ? matchFailOn(failOnOf(sweep.spec as SweepSpec), e.tail) : null;
    if (hit) {
      failedByPolicy = true;
      reason = `${hit.rule.name}: ${hit.line.slice(0, 500)}`;
      details = { failOn: { name: hit.rule.name, pattern: hit.rule.pattern, line: hit.line.slice(0, 2000) }, agentReason: e.reason };
    }
  }
  const result = await endRun(tx, {
    runId: e.runId,
    token: e.token,
    state: e.outcome,
    exitCode: e.exitCode,
    signal: e.signal,
    reason,
    tail: e.tail,
    ...(details ? { details } : {}),
  });
  if (result.status !== 'ended') return result;
  return { status: 'ended', end: await afterEndInTx(ctx, tx, result.run, sweep, failedByPolicy) };
}

/** Declares the live attempts whose heartbeat stopped crashed. In the caller's transaction. */
export async function crashStaleAttempts(ctx: ControllerContext, tx: Queryable, timeoutMs: number): Promise<RunEnd[]> {
  const out: RunEnd[] = [];
  for (const run of await crashStaleRuns(tx, timeoutMs)) {
    ctx.log.warn({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt, agentId: run.agent_id }, `run crashed: ${run.reason}`);
    out.push(await afterEndInTx(ctx, tx, run, null, false));
  }
  return out;
}

async function afterEndInTx(ctx: ControllerContext, tx: Queryable, run: RunRow, sweepRead: SweepRow | null, failedByPolicy: boolean): Promise<RunEnd> {
  const end = await decideAfterEnd(ctx, tx, run, sweepRead, failedByPolicy);
  // Every end may spend the last of the budget: the sweep finishes, and a retry just queued is canceled with it.
  end.budget = await finishIfBudgetSpent(tx, run.sweep_id);
  if (end.budget && end.retry && end.budget.canceled.some((r) => r.id === end.retry!.id)) {
    end.retry = null;
    end.spec = null;
  }
  return end;
}

async function decideAfterEnd(ctx: ControllerContext, tx: Queryable, run: RunRow, sweepRead: SweepRow | null, failedByPolicy: boolean): Promise<RunEnd> {
  const end: RunEnd = { run, retry: null, spec: null, bestImproved: false, pause: null };
  end.bestImproved = await recordEndedValue(tx, run);
  if (run.state === 'preempted') return resumeAfterPreemption(ctx, tx, end, sweepRead);
  if (!FAILURE_RUN_STATES.includes(run.state)) return end;
  const sweep = sweepRead ?? (await getSweep(tx, run.sweep_id));
  if (!sweep) return end;
  const spec = sweep.spec as SweepSpec;
  const failures = run.attempt > 1 ? await failedAttemptCount(tx, run.id) : 1;
  const decision = retryDecision(spec, sweep.state, { state: run.state, attempt: failures }, failedByPolicy);
  if (decision.retry) {
    end.retry = await requeueRun(tx, run.id, decision.reason);
    end.spec = spec;
    if (end.retry) return end;
  } else {
    ctx.log.debug({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt, why: decision.why }, 'run not retried');
  }
  if (!canTransitionSweep(sweep.state, 'paused')) return end;
  const policy = pauseOnFailuresOf(spec);
  const outcomes = await outcomesSinceResume(tx, sweep.id, policy.first ?? 0, policy.consecutive ?? 0);
  const why = pauseReason(spec, sweep.id, outcomes);
  if (why) end.pause = await moveSweep(tx, sweep.id, 'paused', why);
  return end;
}

/**
 * A preempted run goes back to the queue at once, as a new attempt that resumes from its
 * checkpoint; while the sweep runs it always does, and it spends none of `harrow.retry`. Of an
 * ended sweep it stays preempted (nothing new starts there).
 */
async function resumeAfterPreemption(ctx: ControllerContext, tx: Queryable, end: RunEnd, sweepRead: SweepRow | null): Promise<RunEnd> {
  const { run } = end;
  const sweep = sweepRead ?? (await getSweep(tx, run.sweep_id));
  if (!sweep || !LIVE_SWEEP_STATES.includes(sweep.state)) {
    ctx.log.info({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt }, `preempted run not resumed: the sweep is ${sweep?.state ?? 'gone'}`);
    return end;
  }
  end.retry = await requeueRun(tx, run.id, `resume after preemption (${run.reason ?? 'agent drained'}): attempt ${run.attempt + 1}, not counted as a retry`);
  end.spec = sweep.spec as SweepSpec;
  return end;
}

/** After the transaction committed: enqueue the retry's job, mirror a pause. Never throws. */
export async function afterRunEnd(ctx: ControllerContext, end: RunEnd): Promise<void> {
  const { retry, spec } = end;
  if (retry && spec) {
    ctx.log.info({ sweepId: retry.sweep_id, runId: retry.id, attempt: retry.attempt, reason: retry.reason }, 'run retried');
    try {
      await ctx.queue.enqueue(runJobOf(ctx, spec, retry), retry.attempt);
    } catch (err) {
      // The run is queued in Postgres; the reconciler enqueues it once Redis answers.
      ctx.log.warn({ sweepId: retry.sweep_id, runId: retry.id, err: (err as Error).message }, 'enqueue of a retry failed; will retry');
    }
    await ctx.link.publish(retry.sweep_id, 'run', runSummary(retry)).catch(() => undefined);
  }
  if (end.budget) {
    ctx.log.info({ sweepId: end.budget.row.id, reason: end.budget.reason }, 'sweep finished: its budget is spent');
    await afterSweepMove(ctx, end.budget).catch((err: unknown) => {
      ctx.log.warn({ sweepId: end.budget?.row.id, err: (err as Error).message }, 'could not announce the finish; the reconciler mirrors it');
    });
  }
  if (end.pause) {
    ctx.log.warn({ sweepId: end.pause.row.id, reason: end.pause.reason }, 'sweep paused: its runs keep failing');
    await afterSweepMove(ctx, end.pause).catch((err: unknown) => {
      ctx.log.warn({ sweepId: end.pause?.row.id, err: (err as Error).message }, 'could not announce the pause; the reconciler mirrors it');
    });
  }
}
