-- How a sweep shares agents that serve several sweeps (`harrow agent --sweeps A,B` or `--all`):
-- a higher priority is served first; max_slots caps the slots (GPUs, or runs without GPUs) it
-- holds on one agent (NULL: no cap). Changed live with `harrow sweep set`, mirrored to Redis.
ALTER TABLE sweeps ADD COLUMN priority integer NOT NULL DEFAULT 0;
ALTER TABLE sweeps ADD COLUMN max_slots integer CHECK (max_slots IS NULL OR max_slots >= 1);
