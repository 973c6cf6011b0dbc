-- Early termination keeps each sweep's metric curves in the controller's memory (an
-- EarlyTerminator), and its decisions must equal what the stored curves give, whichever replica
-- decides and however often it restarted. This counter lets a controller prove that: every change
-- to a sweep's stored curves bumps it, by triggers in the same transaction, so no writer can
-- forget to. A controller whose cache was built at version V and that finds V before its own
-- insert knows it has seen every stored point; otherwise it reloads the sweep from here.
-- Only sweeps with early termination keep the counter (`spec.earlyTerminate`, fixed at creation):
-- the others' ingestion takes no lock on the sweep's row.

ALTER TABLE sweeps ADD COLUMN curve_version bigint NOT NULL DEFAULT 0;

-- New points: one bump per point actually inserted (ON CONFLICT DO NOTHING leaves repeats out of
-- the transition table), so a controller can also tell that its whole batch was new.
CREATE FUNCTION harrow_bump_curve_version_points() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE sweeps s SET curve_version = s.curve_version + c.n
  FROM (SELECT r.sweep_id, count(*) AS n FROM new_points p JOIN runs r ON r.id = p.run_id GROUP BY r.sweep_id) c
  WHERE s.id = c.sweep_id AND s.spec ? 'earlyTerminate';
  RETURN NULL;
END $$;

CREATE TRIGGER metrics_curve_version AFTER INSERT ON metrics
  REFERENCING NEW TABLE AS new_points FOR EACH STATEMENT EXECUTE FUNCTION harrow_bump_curve_version_points();

-- A new attempt of a run that had one before: the run's curve restarts empty (a retry does not
-- inherit the crashed attempt's values). A first claim (attempt 0 to 1) changes no curve.
CREATE FUNCTION harrow_bump_curve_version_attempt() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE sweeps SET curve_version = curve_version + 1 WHERE id = NEW.sweep_id AND spec ? 'earlyTerminate';
  RETURN NULL;
END $$;

CREATE TRIGGER runs_curve_version AFTER UPDATE OF attempt ON runs
  FOR EACH ROW WHEN (OLD.attempt > 0 AND NEW.attempt IS DISTINCT FROM OLD.attempt)
  EXECUTE FUNCTION harrow_bump_curve_version_attempt();
