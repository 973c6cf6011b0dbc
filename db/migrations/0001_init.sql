-- Harrow's storage. Postgres is the source of truth; Redis only carries work.

CREATE TABLE sweeps (
  id            text PRIMARY KEY,
  name          text,
  state         text NOT NULL CHECK (state IN ('running', 'paused', 'finished', 'canceled')),
  method        text NOT NULL CHECK (method IN ('grid', 'random', 'bayes')),
  spec          jsonb NOT NULL,            -- the normalized spec (strategies' SweepSpec)
  config_text   text NOT NULL,             -- the file as submitted, for display and export
  seed          bigint NOT NULL,
  metric_name   text,
  goal          text CHECK (goal IN ('minimize', 'maximize')),
  run_cap       integer,
  expected_runs integer,                   -- grid size; null when unbounded
  next_number   integer NOT NULL DEFAULT 1,
  state_reason  text,
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now(),
  ended_at      timestamptz
);
CREATE INDEX sweeps_state ON sweeps (state);

CREATE TABLE sweep_events (
  id          bigserial PRIMARY KEY,
  sweep_id    text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  from_state  text,
  to_state    text NOT NULL,
  reason      text NOT NULL,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sweep_events_sweep ON sweep_events (sweep_id, id);

CREATE TABLE runs (
  id            text PRIMARY KEY,          -- '<sweep id>-<number>'
  sweep_id      text NOT NULL REFERENCES sweeps (id) ON DELETE CASCADE,
  number        integer NOT NULL,
  state         text NOT NULL CHECK (state IN ('queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled')),
  params        jsonb NOT NULL,
  params_hash   text NOT NULL,             -- sha256 of the canonical JSON of params
  proposal      jsonb,                     -- what proposed it (strategy info, warnings)
  attempt       integer NOT NULL DEFAULT 0,-- claims accepted so far; the current attempt
  token         text,                      -- fencing token of the current attempt
  agent_id      text,
  host          text,
  gpu           text,
  exit_code     integer,
  signal        text,
  reason        text,                      -- why it is in its state, in words
  stop_info     jsonb,                     -- early-termination or user stop: rule, band, threshold, value
  output_tail   text,
  summary       jsonb NOT NULL DEFAULT '{}'::jsonb, -- per metric: {last, min, max, count, step}
  objective     double precision,          -- best logged value of the sweep metric (ranking key)
  objective_step integer,
  latest_value  double precision,          -- last logged value of the sweep metric
  metric_count  integer NOT NULL DEFAULT 0,-- logged finite values of the sweep metric (hyperband iterations)
  created_at    timestamptz NOT NULL DEFAULT now(),
  started_at    timestamptz,
  heartbeat_at  timestamptz,
  ended_at      timestamptz,
  UNIQUE (sweep_id, number)
);
CREATE INDEX runs_sweep_state ON runs (sweep_id, state);
CREATE INDEX runs_sweep_objective ON runs (sweep_id, objective);
CREATE INDEX runs_sweep_state_objective ON runs (sweep_id, state, objective);
CREATE INDEX runs_sweep_hash ON runs (sweep_id, params_hash);
CREATE INDEX runs_running_heartbeat ON runs (heartbeat_at) WHERE state = 'running';
CREATE INDEX runs_finished_ended ON runs (sweep_id, ended_at) WHERE state = 'finished';

-- Every claim of a run by an agent; a retry is a new attempt of the same run.
CREATE TABLE run_attempts (
  run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  token       text NOT NULL UNIQUE,
  agent_id    text NOT NULL,
  host        text,
  gpu         text,
  state       text NOT NULL,
  exit_code   integer,
  reason      text,
  started_at  timestamptz NOT NULL DEFAULT now(),
  ended_at    timestamptz,
  PRIMARY KEY (run_id, attempt)
);

-- Append-only time series; (run, attempt, seq) makes re-delivered reports harmless.
CREATE TABLE metrics (
  run_id   text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt  integer NOT NULL,
  seq      integer NOT NULL,
  step     integer NOT NULL,
  name     text NOT NULL,
  value    double precision NOT NULL,
  time     timestamptz NOT NULL,
  PRIMARY KEY (run_id, attempt, seq)
);

-- Every run state change, once, with its reason.
CREATE TABLE run_events (
  id          bigserial PRIMARY KEY,
  run_id      text NOT NULL REFERENCES runs (id) ON DELETE CASCADE,
  attempt     integer NOT NULL,
  from_state  text,
  to_state    text NOT NULL,
  reason      text NOT NULL,
  details     jsonb,
  at          timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX run_events_run ON run_events (run_id, id);
