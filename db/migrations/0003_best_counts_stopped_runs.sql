-- A sweep's best counts stopped runs as well as finished ones: a run cut short by early
-- termination (or by a user) really reached the values it logged, and hiding a better one misled
-- (a hyperband sweep showed its one finished run, 0.14621, while stopped run 25 had 0.14123).
-- The counter of finished runs becomes the counter of runs that count for the best, and the
-- rebuild function takes those states from the caller (`protocol/run-states.ts` owns them).
-- Failed and crashed runs are not runs a user would pick; pausing on failures is kept apart.

ALTER TABLE sweeps RENAME COLUMN finished_count TO counted_runs;

-- Run states and goal directions come from the caller, so this file is the only SQL naming them.
DROP FUNCTION harrow_rebuild_best(text);
CREATE FUNCTION harrow_rebuild_best(p_sweep text, p_states text[]) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
  v_goal text;
BEGIN
  SELECT goal INTO v_goal FROM sweeps WHERE id = p_sweep;
  DELETE FROM best_points WHERE sweep_id = p_sweep;
  INSERT INTO best_points (sweep_id, idx, run_id, value, at)
  SELECT p_sweep, idx, id, objective, ended_at FROM (
    SELECT id, objective, ended_at, row_number() OVER w AS idx,
           CASE WHEN v_goal = 'maximize' THEN max(objective) OVER prev ELSE min(objective) OVER prev END AS before
    FROM runs WHERE sweep_id = p_sweep AND state = ANY(p_states) AND objective IS NOT NULL
    WINDOW w AS (ORDER BY ended_at, number),
           prev AS (ORDER BY ended_at, number ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
  ) t
  WHERE before IS NULL OR (CASE WHEN v_goal = 'maximize' THEN objective > before ELSE objective < before END);
  UPDATE sweeps SET
    counted_runs = (SELECT count(*) FROM runs WHERE sweep_id = p_sweep AND state = ANY(p_states) AND objective IS NOT NULL),
    best_value = (SELECT value FROM best_points WHERE sweep_id = p_sweep ORDER BY idx DESC LIMIT 1)
  WHERE id = p_sweep;
END;
$$;

-- Existing sweeps: their best and curve now include their stopped runs.
SELECT harrow_rebuild_best(id, ARRAY['finished', 'stopped']) FROM sweeps WHERE goal IS NOT NULL;
