/** The run state machine's table and what is derived from it. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  ACTIVE_RUN_STATES,
  BEST_RUN_STATES,
  FAILURE_RUN_STATES,
  LIVE_RUN_STATES,
  RETRYABLE_RUN_STATES,
  RUN_CAP_STATES,
  RUN_STATES,
  RUN_TRANSITIONS,
  TERMINAL_RUN_STATES,
  canTransitionRun,
  runStatesLeadingTo,
  sweepHealth,
  ENDED_SWEEP_STATES,
  LIVE_SWEEP_STATES,
  SWEEP_STATES,
  SWEEP_TRANSITIONS,
  canTransitionSweep,
  sweepStatesLeadingTo,
  type RunState,
} from '../../../protocol/run-states.js';

const zero = (): Record<RunState, number> => ({ queued: 0, running: 0, finished: 0, failed: 0, crashed: 0, stopped: 0, canceled: 0, preempted: 0 });

describe('run states', () => {
  it('derives the state classes from the table', () => {
    assert.deepEqual(TERMINAL_RUN_STATES, ['finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted']);
    assert.deepEqual(ACTIVE_RUN_STATES, ['queued', 'running']);
    assert.deepEqual(LIVE_RUN_STATES, ['running']);
    assert.deepEqual(RETRYABLE_RUN_STATES, ['failed', 'crashed', 'preempted']);
    assert.deepEqual(BEST_RUN_STATES, ['finished', 'stopped']);
    assert.deepEqual(FAILURE_RUN_STATES, ['failed', 'crashed']);
  });

  it('every run counts toward run_cap, canceled ones included', () => {
    // The scheduler reads the count off the sweep's next run number (run numbers are allocated
    // consecutively and never reused): a state that did not count would need a real count there.
    assert.deepEqual(RUN_CAP_STATES, RUN_STATES);
  });

  it('only retryable states leave a terminal state, and only back to the queue', () => {
    for (const from of TERMINAL_RUN_STATES) {
      for (const to of RUN_STATES) assert.equal(canTransitionRun(from, to), RETRYABLE_RUN_STATES.includes(from) && to === 'queued', `${from} → ${to}`);
    }
    for (const to of RUN_STATES) assert.deepEqual(runStatesLeadingTo(to), RUN_STATES.filter((f) => RUN_TRANSITIONS[f].includes(to)));
  });

  it('health: failing when every ended run failed or crashed, degraded with some failures', () => {
    assert.equal(sweepHealth(zero()), 'ok');
    assert.equal(sweepHealth({ ...zero(), queued: 3, canceled: 2 }), 'ok');
    assert.equal(sweepHealth({ ...zero(), failed: 2, crashed: 1, canceled: 4, running: 1 }), 'failing');
    assert.equal(sweepHealth({ ...zero(), failed: 2, stopped: 1 }), 'degraded');
    assert.equal(sweepHealth({ ...zero(), crashed: 1, finished: 9 }), 'degraded');
  });
});

describe('sweep states', () => {
  it('an ended sweep leaves its state only to run again (extended), and is still an ended state', () => {
    assert.deepEqual(SWEEP_TRANSITIONS.finished, ['running']);
    assert.deepEqual(SWEEP_TRANSITIONS.canceled, ['running']);
    assert.deepEqual(ENDED_SWEEP_STATES, ['finished', 'canceled']);
    assert.deepEqual(LIVE_SWEEP_STATES, ['running', 'paused']);
  });

  it('every (from, to) pair follows the table; nothing reaches paused from an ended state', () => {
    const allowed = new Set(['running>paused', 'running>finished', 'running>canceled', 'paused>running', 'paused>finished', 'paused>canceled', 'finished>running', 'canceled>running']);
    for (const from of SWEEP_STATES) {
      for (const to of SWEEP_STATES) assert.equal(canTransitionSweep(from, to), allowed.has(`${from}>${to}`), `${from} → ${to}`);
    }
    assert.deepEqual(sweepStatesLeadingTo('running'), ['paused', 'finished', 'canceled']);
    assert.deepEqual(sweepStatesLeadingTo('paused'), ['running']);
  });
});
