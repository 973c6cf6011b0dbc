-- Every good metric point is kept; a point that cannot be stored (a step above 2^31-1, a NUL in
-- its name, ...) is refused alone and recorded here, and a run whose end report names points that
-- never arrived (Redis lost them) says so. Both show on the run as warnings, never silently.

-- Warnings shown with the run: [{kind, attempt, count, message, ...}], one per kind and attempt.
ALTER TABLE runs ADD COLUMN warnings jsonb NOT NULL DEFAULT '[]'::jsonb;

-- Refused points, kept for inspection and so that a re-delivered report is counted once.
CREATE TABLE metric_rejects (
  id       bigserial PRIMARY KEY,
  run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt  integer NOT NULL,
  seq      integer,               -- null when the seq itself was not valid
  step     text,                  -- as sent (it may be out of range)
  name     text,                  -- as far as it can be stored (NULs replaced, cut to 256)
  reason   text NOT NULL,
  at       timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX metric_rejects_point ON metric_rejects (run_id, attempt, seq) WHERE seq IS NOT NULL;
CREATE INDEX metric_rejects_run ON metric_rejects (run_id, attempt);

-- A run's warnings with w put in, replacing the one of the same kind and attempt.
CREATE FUNCTION harrow_put_warning(ws jsonb, w jsonb) RETURNS jsonb LANGUAGE sql IMMUTABLE AS $$
  SELECT coalesce(jsonb_agg(x ORDER BY i), '[]'::jsonb) || jsonb_build_array(w)
  FROM jsonb_array_elements(ws) WITH ORDINALITY AS t(x, i)
  WHERE NOT (x->>'kind' = w->>'kind' AND x->'attempt' = w->'attempt')
$$;
