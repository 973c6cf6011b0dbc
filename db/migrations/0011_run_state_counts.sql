-- A sweep's run counts per state without counting its runs: counting them (count(*) GROUP BY
-- state over every run of the sweep) cost 20-100 ms per sweep detail, sweep list and runs page at
-- 100,000 runs. Each statement that creates runs or changes their states (insertRuns and the one
-- guarded transitionRun, db/runs.ts) appends the change it made here, in its own transaction:
-- +k to the new state, -k from each previous one. Rows are only ever inserted by those
-- statements, never updated, so two transactions changing runs of the same sweeps (two controller
-- replicas' report batches, say) take no lock on a shared counter and cannot deadlock over one.
-- A count is the sum of a (sweep, state)'s rows; a periodic pass (compactRunCounts) folds a
-- sweep's rows into one per state, so a read sums a handful of rows whatever the history.
CREATE TABLE run_state_counts (
  sweep_id text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  state text NOT NULL,
  n integer NOT NULL
);
CREATE INDEX run_state_counts_sweep ON run_state_counts (sweep_id, state);

-- Recounts a sweep's runs (for runs loaded or changed by SQL, say): the rows become the truth.
CREATE FUNCTION harrow_rebuild_run_counts(p_sweep text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
  -- Serialized with compaction and deletion of the sweep (compactRunCounts takes the same lock).
  PERFORM 1 FROM sweeps WHERE id = p_sweep FOR KEY SHARE;
  -- One statement, one snapshot: a change committed meanwhile is either in both the deleted rows
  -- and the count, or in neither (its row survives).
  WITH gone AS (DELETE FROM run_state_counts WHERE sweep_id = p_sweep)
  INSERT INTO run_state_counts (sweep_id, state, n)
  SELECT p_sweep, state, count(*) FROM runs WHERE sweep_id = p_sweep GROUP BY state;
END;
$$;

SELECT harrow_rebuild_run_counts(id) FROM sweeps;
