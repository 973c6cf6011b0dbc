-- Steering a sweep (issue 15): a failed or crashed run (or grid cell) can be rerun as a NEW run of
-- the same sweep, linked to the run it reruns. The old run stays as it ended; its retries were new
-- attempts of the same run, a rerun is a run of its own (its own number, counted toward run_cap).
ALTER TABLE runs ADD COLUMN rerun_of text REFERENCES runs (id) ON DELETE SET NULL;
CREATE INDEX runs_rerun_of ON runs (rerun_of) WHERE rerun_of IS NOT NULL;
