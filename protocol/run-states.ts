/**
 * The run and sweep state machines, in one place. Every transition the controller makes is
 * checked here and recorded once (run_events / sweep_events) with its reason.
 *
 *   queued ──claim──▶ running ──exit 0──▶ finished
 *     │                 ├──exit ≠ 0──▶ failed ──(retry policy)──▶ queued
 *     │                 ├──heartbeat lost──▶ crashed ──(retry policy)──▶ queued
 *     │                 ├──early-terminated / stopped by a user──▶ stopped
 *     └──canceled───────┴──sweep canceled──▶ canceled
 */
export const RUN_STATES = ['queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled'] as const;
export type RunState = (typeof RUN_STATES)[number];

export const TERMINAL_RUN_STATES: readonly RunState[] = ['finished', 'failed', 'crashed', 'stopped', 'canceled'];
export const ACTIVE_RUN_STATES: readonly RunState[] = ['queued', 'running'];

const RUN_TRANSITIONS: Record<RunState, readonly RunState[]> = {
  queued: ['running', 'canceled'],
  running: ['finished', 'failed', 'crashed', 'stopped', 'canceled'],
  // A retry is a new attempt of the same run: failed/crashed go back to queued.
  failed: ['queued'],
  crashed: ['queued'],
  finished: [],
  stopped: [],
  canceled: [],
};

export function canTransitionRun(from: RunState, to: RunState): boolean {
  return RUN_TRANSITIONS[from].includes(to);
}

/** States a run may be in for a transition to `to` (used in `WHERE state = ANY(...)` guards). */
export function runStatesLeadingTo(to: RunState): RunState[] {
  return RUN_STATES.filter((s) => RUN_TRANSITIONS[s].includes(to));
}

export function isTerminalRunState(state: RunState): boolean {
  return TERMINAL_RUN_STATES.includes(state);
}

export const SWEEP_STATES = ['running', 'paused', 'finished', 'canceled'] as const;
export type SweepStateName = (typeof SWEEP_STATES)[number];

const SWEEP_TRANSITIONS: Record<SweepStateName, readonly SweepStateName[]> = {
  running: ['paused', 'finished', 'canceled'],
  paused: ['running', 'finished', 'canceled'],
  finished: [],
  canceled: [],
};

export function sweepStatesLeadingTo(to: SweepStateName): SweepStateName[] {
  return SWEEP_STATES.filter((s) => SWEEP_TRANSITIONS[s].includes(to));
}

export function canTransitionSweep(from: SweepStateName, to: SweepStateName): boolean {
  return SWEEP_TRANSITIONS[from].includes(to);
}
