-- Issue 15, points 3 and 4.

-- Results imported into a sweep (`harrow.warm_start`, `harrow warm-start`): finished runs of another
-- sweep or rows of a W&B / MLflow export. They feed the sweep's strategy but are not runs of the
-- sweep: no run number, not in run_cap, not in the runs list, never the sweep's best.
CREATE TABLE imported_observations (
  id          bigserial PRIMARY KEY,
  sweep_id    text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  source      text NOT NULL,              -- 'sweep:<id>' or 'file:<name>'
  source_run  text,                       -- the run's id where it came from, when known
  params      jsonb NOT NULL,
  state       text NOT NULL CHECK (state IN ('finished', 'failed', 'crashed', 'stopped', 'canceled')),
  value       double precision,           -- the sweep metric's value; null when the run had none
  imported_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX imported_observations_sweep ON imported_observations (sweep_id, id);

-- Edits of a running sweep's spec (`harrow edit`): every version, with its time and author.
-- Version 1 is the spec the sweep was created with (written at the first edit).
ALTER TABLE sweeps ADD COLUMN spec_version integer NOT NULL DEFAULT 1;
CREATE TABLE sweep_spec_versions (
  sweep_id    text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  version     integer NOT NULL,
  spec        jsonb NOT NULL,
  config_text text NOT NULL,
  author      text,
  changes     jsonb NOT NULL DEFAULT '[]'::jsonb,   -- what this version changed, one line each
  created_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (sweep_id, version)
);
