/** SQL for named API tokens. The secret itself is never stored, only its SHA-256. */
import type { Queryable } from './database.js';
import type { Role } from '../protocol/auth-api.js';

export type TokenRole = Role;

export interface TokenRow {
  id: string;
  name: string;
  role: TokenRole;
  projects: string[] | null;
  secret_hash: string;
  created_by: string;
  created_at: Date;
  expires_at: Date | null;
  revoked_at: Date | null;
  revoked_by: string | null;
}

export interface NewToken {
  id: string;
  name: string;
  role: TokenRole;
  projects: string[] | null;
  secretHash: string;
  createdBy: string;
  expiresAt: Date | null;
}

/** Inserts a token; null when a live token already has that name. */
export async function insertToken(q: Queryable, t: NewToken): Promise<TokenRow | null> {
  const { rows } = await q.query<TokenRow>(
    `INSERT INTO api_tokens (id, name, role, projects, secret_hash, created_by, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (name) WHERE revoked_at IS NULL DO NOTHING
     RETURNING *`,
    [t.id, t.name, t.role, t.projects, t.secretHash, t.createdBy, t.expiresAt],
  );
  return rows[0] ?? null;
}

/** The token with this id, revoked or expired ones included (the caller decides). */
export async function getToken(q: Queryable, id: string): Promise<TokenRow | null> {
  const { rows } = await q.query<TokenRow>('SELECT * FROM api_tokens WHERE id = $1', [id]);
  return rows[0] ?? null;
}

export async function listTokens(q: Queryable, opts: { includeRevoked?: boolean } = {}): Promise<TokenRow[]> {
  const { rows } = await q.query<TokenRow>(
    `SELECT * FROM api_tokens WHERE $1::boolean OR revoked_at IS NULL ORDER BY created_at, name`,
    [opts.includeRevoked ?? false],
  );
  return rows;
}

/** Revokes the live token of this name; null when there is none. */
export async function revokeToken(q: Queryable, name: string, by: string): Promise<TokenRow | null> {
  const { rows } = await q.query<TokenRow>(
    `UPDATE api_tokens SET revoked_at = now(), revoked_by = $2 WHERE name = $1 AND revoked_at IS NULL RETURNING *`,
    [name, by],
  );
  return rows[0] ?? null;
}

/** Whether any token is usable now (it turns authentication on by default). */
export async function anyLiveToken(q: Queryable): Promise<boolean> {
  const { rows } = await q.query<{ live: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM api_tokens WHERE revoked_at IS NULL AND (expires_at IS NULL OR expires_at > now())) AS live`,
  );
  return rows[0]?.live === true;
}
