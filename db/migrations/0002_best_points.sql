-- The best-so-far curve, kept as it happens instead of recomputed from every finished run on each
-- request: a sweep counts its finished runs with a value, and records a point whenever one improves
-- on the best. GET /api/sweeps/:id/best then reads a handful of rows whatever the sweep's size.

ALTER TABLE sweeps
  ADD COLUMN finished_count integer NOT NULL DEFAULT 0,   -- finished runs with a value of the metric
  ADD COLUMN best_value double precision;                  -- the best of their values

CREATE TABLE best_points (
  sweep_id  text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  idx       integer NOT NULL,       -- 1-based position of the run among finished runs with a value
  run_id    text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  value     double precision NOT NULL,
  at        timestamptz NOT NULL,
  PRIMARY KEY (sweep_id, idx)
);

-- Recomputes a sweep's counter, best and curve from its runs (finish order: ended_at, number).
-- Used to fill in sweeps that existed before this migration, and by tools that load runs directly.
CREATE FUNCTION harrow_rebuild_best(p_sweep text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_goal text;
BEGIN
  SELECT goal INTO v_goal FROM sweeps WHERE id = p_sweep;
  DELETE FROM best_points WHERE sweep_id = p_sweep;
  INSERT INTO best_points (sweep_id, idx, run_id, value, at)
  SELECT p_sweep, idx, id, objective, ended_at FROM (
    SELECT id, objective, ended_at, row_number() OVER w AS idx,
           CASE WHEN v_goal = 'maximize' THEN max(objective) OVER prev ELSE min(objective) OVER prev END AS before
    FROM runs WHERE sweep_id = p_sweep AND state = 'finished' AND objective IS NOT NULL
    WINDOW w AS (ORDER BY ended_at, number),
           prev AS (ORDER BY ended_at, number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) t
  WHERE before IS NULL OR (CASE WHEN v_goal = 'maximize' THEN objective > before ELSE objective < before END);
  UPDATE sweeps SET
    finished_count = (SELECT count(*) FROM runs WHERE sweep_id = p_sweep AND state = 'finished' AND objective IS NOT NULL),
    best_value = (SELECT value FROM best_points WHERE sweep_id = p_sweep ORDER BY idx DESC LIMIT 1)
  WHERE id = p_sweep;
END;
$$;

SELECT harrow_rebuild_best(id) FROM sweeps WHERE goal IS NOT NULL;
