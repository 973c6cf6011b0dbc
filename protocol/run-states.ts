/**
 * The run and sweep state machines, in one place. Every transition `db/` makes is derived from
 * these tables (its guard is `runStatesLeadingTo(to)`), checked here and recorded once
 * (run_events / sweep_events) with its reason. Nothing else names a state in SQL.
 *
 *   queued ──claim──▶ running ──exit 0──▶ finished
 *     │                 ├──exit ≠ 0──▶ failed ──(retry policy)──▶ queued
 *     │                 ├──heartbeat lost──▶ crashed ──(retry policy)──▶ queued
 *     │                 ├──early-terminated / stopped by a user──▶ stopped
 *     │                 ├──agent drained / spot reclaimed──▶ preempted ──(always)──▶ queued
 *     └──canceled───────┴──sweep canceled──▶ canceled
 *
 * `preempted` is not a failure: the run was checkpointed and handed back by its agent (`harrow
 * agent` drained, or a spot box reclaimed), so it goes back to the queue as a new attempt that
 * resumes from its checkpoint, and does not spend `harrow.retry` attempts.
 */
export const RUN_STATES = ['queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted'] as const;
export type RunState = (typeof RUN_STATES)[number];

/** What each state means for the rest of Harrow. */
export interface RunStateTraits {
  /** No further transition except a retry: the run has ended (for now). */
  terminal: boolean;
  /**
   * Counts toward `run_cap`. Every run ever proposed does, canceled ones included: the cap is a
   * budget of proposals (W&B's meaning), and run numbers are allocated consecutively, so the
   * scheduler reads the count off the sweep's next run number.
   */
  countsTowardRunCap: boolean;
  /** The run holds a live attempt: an agent heartbeats it, reports metrics for it and ends it. */
  live: boolean;
  /**
   * The run's value (its best logged value of the sweep metric) counts for the sweep's best.
   * Finished runs, and stopped ones: a stopped run's values were really reached (W&B's sweep view
   * counts them too), and hiding a better value because the run was cut short misleads.
   */
  countsForBest: boolean;
  /** The run ended because of a fault (the command failed or its agent was lost). */
  failure: boolean;
}

export const RUN_STATE_TRAITS: Readonly<Record<RunState, RunStateTraits>> = {
  queued: { terminal: false, countsTowardRunCap: true, live: false, countsForBest: false, failure: false },
  running: { terminal: false, countsTowardRunCap: true, live: true, countsForBest: false, failure: false },
  finished: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: true, failure: false },
  failed: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: false, failure: true },
  crashed: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: false, failure: true },
  stopped: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: true, failure: false },
  canceled: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: false, failure: false },
  // Terminal only for a moment: the same transaction queues its next attempt (while the sweep runs).
  preempted: { terminal: true, countsTowardRunCap: true, live: false, countsForBest: false, failure: false },
};

/** The allowed transitions, from → to. */
export const RUN_TRANSITIONS: Readonly<Record<RunState, readonly RunState[]>> = {
  queued: ['running', 'canceled'],
  running: ['finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted'],
  // A retry is a new attempt of the same run: failed/crashed go back to queued; a preempted run
  // too, always, and that new attempt is not a retry (run-lifecycle.ts).
  failed: ['queued'],
  crashed: ['queued'],
  preempted: ['queued'],
  finished: [],
  stopped: [],
  canceled: [],
};

const statesWhere = (trait: keyof RunStateTraits): RunState[] => RUN_STATES.filter((s) => RUN_STATE_TRAITS[s][trait]);

/** The state a run is created in. */
export const INITIAL_RUN_STATE: RunState = 'queued';
export const TERMINAL_RUN_STATES: readonly RunState[] = statesWhere('terminal');
/** Queued or running: the run still needs (or holds) an agent. */
export const ACTIVE_RUN_STATES: readonly RunState[] = RUN_STATES.filter((s) => !RUN_STATE_TRAITS[s].terminal);
export const LIVE_RUN_STATES: readonly RunState[] = statesWhere('live');
export const BEST_RUN_STATES: readonly RunState[] = statesWhere('countsForBest');
export const FAILURE_RUN_STATES: readonly RunState[] = statesWhere('failure');
export const RUN_CAP_STATES: readonly RunState[] = statesWhere('countsTowardRunCap');
/** States a run may leave for a new attempt (the retry policy decides whether it does). */
export const RETRYABLE_RUN_STATES: readonly RunState[] = RUN_STATES.filter((s) => RUN_TRANSITIONS[s].includes(INITIAL_RUN_STATE));
/** Ended runs that say something about the sweep's health: canceled runs say nothing. */
export const OUTCOME_RUN_STATES: readonly RunState[] = RUN_STATES.filter(
  (s) => RUN_STATE_TRAITS[s].countsForBest || RUN_STATE_TRAITS[s].failure,
);

export function canTransitionRun(from: RunState, to: RunState): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** States a run may be in for a transition to `to` (used in `WHERE state = ANY(...)` guards). */
export function runStatesLeadingTo(to: RunState): RunState[] {
  return RUN_STATES.filter((s) => RUN_TRANSITIONS[s].includes(to));
}

export function isTerminalRunState(state: RunState): boolean {
  return RUN_STATE_TRAITS[state].terminal;
}

export function isRetryableRunState(state: RunState): boolean {
  return RETRYABLE_RUN_STATES.includes(state);
}

/**
 * How a sweep's runs are doing, from its counts: `failing` when runs ended and every one of them
 * failed or crashed (nothing to show for the GPU time), `degraded` when some did, `ok` otherwise.
 * Shown by the API, the CLI and the dashboard so a sweep of failures never looks like a success.
 */
export type SweepHealth = 'ok' | 'degraded' | 'failing';

export function sweepHealth(counts: Readonly<Record<RunState, number>>): SweepHealth {
  const failures = FAILURE_RUN_STATES.reduce((n, s) => n + counts[s], 0);
  if (failures === 0) return 'ok';
  const successes = BEST_RUN_STATES.reduce((n, s) => n + counts[s], 0);
  return successes === 0 ? 'failing' : 'degraded';
}

export const SWEEP_STATES = ['running', 'paused', 'finished', 'canceled'] as const;
export type SweepStateName = (typeof SWEEP_STATES)[number];

export const SWEEP_TRANSITIONS: Readonly<Record<SweepStateName, readonly SweepStateName[]>> = {
  running: ['paused', 'finished', 'canceled'],
  paused: ['running', 'finished', 'canceled'],
  // Extending an ended sweep (a higher run_cap, reruns of its failed runs, configurations to try)
  // lets it continue: it runs again. Its ended runs stay as they are; the new ones are new runs.
  finished: ['running'],
  canceled: ['running'],
};

/** What each sweep state means for the rest of Harrow. */
export const SWEEP_STATE_TRAITS: Readonly<Record<SweepStateName, { ended: boolean }>> = {
  running: { ended: false },
  paused: { ended: false },
  finished: { ended: true },
  canceled: { ended: true },
};

export const INITIAL_SWEEP_STATE: SweepStateName = 'running';
/** A sweep that has not ended: its runs may still be retried, its queued runs kept in Redis. */
export const LIVE_SWEEP_STATES: readonly SweepStateName[] = SWEEP_STATES.filter((s) => !SWEEP_STATE_TRAITS[s].ended);
/** Ended sweeps start no run by themselves; only an extension (`controller/steering.ts`) makes them run again. */
export const ENDED_SWEEP_STATES: readonly SweepStateName[] = SWEEP_STATES.filter((s) => SWEEP_STATE_TRAITS[s].ended);

export function sweepStatesLeadingTo(to: SweepStateName): SweepStateName[] {
  return SWEEP_STATES.filter((s) => SWEEP_TRANSITIONS[s].includes(to));
}

export function canTransitionSweep(from: SweepStateName, to: SweepStateName): boolean {
  return SWEEP_TRANSITIONS[from].includes(to);
}
