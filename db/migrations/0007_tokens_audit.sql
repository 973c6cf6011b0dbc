-- Who may do what (named API tokens with roles) and who did what (an append-only audit trail).

-- A token is `hrw_<id>_<secret>`: `id` finds the row, only the SHA-256 of the secret is stored.
-- A name is unique among the tokens not revoked, so a revoked name can be issued again.
CREATE TABLE api_tokens (
  id          text PRIMARY KEY,
  name        text NOT NULL,
  role        text NOT NULL CHECK (role IN ('viewer', 'member', 'admin', 'agent')),
  projects    text[],                     -- null: every sweep; else the sweep's project or entity/project
  secret_hash text NOT NULL,
  created_by  text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  expires_at  timestamptz,
  revoked_at  timestamptz,
  revoked_by  text
);
CREATE UNIQUE INDEX api_tokens_live_name ON api_tokens (name) WHERE revoked_at IS NULL;

-- The audit trail. No foreign key to sweeps: deleting a sweep must not delete its history.
CREATE TABLE audit_log (
  id          bigserial PRIMARY KEY,
  at          timestamptz NOT NULL DEFAULT now(),
  actor       text NOT NULL,              -- token name, 'HARROW_TOKEN', or 'anonymous' (auth off)
  role        text,
  address     text,
  action      text NOT NULL,
  sweep_id    text,
  target      text,
  details     jsonb,
  outcome     text NOT NULL CHECK (outcome IN ('ok', 'refused', 'error')),
  error       text
);
CREATE INDEX audit_log_sweep ON audit_log (sweep_id, id);
CREATE INDEX audit_log_at ON audit_log (at);

-- Append-only: PGlite has one user, so privileges cannot forbid changes; a trigger refuses them on
-- both databases (TRUNCATE included), whoever connects.
CREATE FUNCTION harrow_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'the audit log is append-only: % is refused', TG_OP;
END
$$;
CREATE TRIGGER audit_log_no_update BEFORE UPDATE OR DELETE ON audit_log FOR EACH ROW EXECUTE FUNCTION harrow_audit_append_only();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log FOR EACH STATEMENT EXECUTE FUNCTION harrow_audit_append_only();

-- Who created each sweep (null for sweeps created before this migration).
ALTER TABLE sweeps ADD COLUMN created_by text;
