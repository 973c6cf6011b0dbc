-- A run handed back by a drained or preempted agent ends its attempt `preempted` (not a failure)
-- and goes back to the queue as a new attempt (protocol/run-states.ts owns the state table).
ALTER TABLE runs DROP CONSTRAINT runs_state_check;
ALTER TABLE runs ADD CONSTRAINT runs_state_check
  CHECK (state IN ('queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled', 'preempted'));
