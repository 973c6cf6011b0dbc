/**
 * Who is asking, and may they. Each request's identity is settled once, before routing reaches
 * the handler (`auth-plugin.ts`), and kept here; routes and other plugins ask through
 * `requireRole(req, role)`, which throws the right error (401 without a usable token, 403 with a
 * role that does not suffice). Roles:
 *
 * - viewer: reads sweeps, runs, metrics, the audit trail of the sweeps it sees;
 * - member: also creates, pauses, resumes, stops and cancels sweeps and stops runs;
 * - admin: also manages tokens and deletes; every check an admin passes;
 * - agent: only the agent protocol (claim, heartbeat, report), nothing else, not even reads.
 *
 * A token may be scoped to projects (the sweep file's `entity`/`project` labels): it then sees
 * and steers only those sweeps, and anything else answers as if it did not exist.
 */
import type { FastifyRequest } from 'fastify';
import { HarrowError } from '../../protocol/errors.js';
import type { Role } from '../../protocol/auth-api.js';

export type { Role };

export interface Identity {
  /**
   * The token's name, `HARROW_TOKEN` (the bootstrap admin), `anonymous` when auth is off, or the
   * user name a single-sign-on proxy or OIDC token gave (then `sso` says which).
   */
  name: string;
  role: Role;
  /** Project scopes (`project` or `entity/project`); null: every sweep. */
  projects: readonly string[] | null;
  /** Which credential: a token id, `@bootstrap`, `@anonymous` or `@sso:...` (stream tickets name it). */
  ref: string;
  /** Set for a person signed in through single sign-on: what vouched for them and what it said. */
  sso?: SsoIdentity;
}

export interface SsoIdentity {
  /** `proxy`: identity headers from a trusted proxy; `oidc`: a verified OIDC bearer token. */
  via: 'proxy' | 'oidc';
  email: string | null;
  groups: readonly string[];
  /** proxy: the proxy's address; oidc: the token's issuer. */
  from: string;
  /** oidc: the token's subject (stable even when the user name changes). */
  subject?: string;
}

export const ANONYMOUS: Identity = Object.freeze({ name: 'anonymous', role: 'admin', projects: null, ref: '@anonymous' });

const identities = new WeakMap<object, Identity>();

/** Records who is asking (the auth plugin calls this once per request). */
export function setIdentity(req: FastifyRequest, identity: Identity): void {
  identities.set(req.raw, identity);
}

/** Who is asking, when known. */
export function identityOf(req: FastifyRequest): Identity | undefined {
  return identities.get(req.raw);
}

/** Whether `have` may do what `need` may: admin everything, member what viewers do, agent only agent work. */
export function roleSatisfies(have: Role, need: Role): boolean {
  if (have === 'admin' || have === need) return true;
  return need === 'viewer' && have === 'member';
}

/**
 * The one check: the identity of `req` when its role suffices for `role`, else UNAUTHORIZED (no
 * usable token) or FORBIDDEN (a token whose role does not allow it).
 */
export function requireRole(req: FastifyRequest, role: Role): Identity {
  const identity = identityOf(req);
  if (!identity) {
    throw new HarrowError('UNAUTHORIZED', 'this server requires a token: send `Authorization: Bearer <token>` (the CLI reads HARROW_TOKEN; an admin creates tokens with `harrow token create`)');
  }
  if (!roleSatisfies(identity.role, role)) {
    const who = identity.sso ? `the user '${identity.name}' (signed in through ${identity.sso.via === 'proxy' ? 'the proxy' : 'OIDC'}, groups: ${identity.sso.groups.join(', ') || 'none'})` : `the token '${identity.name}'`;
    throw new HarrowError('FORBIDDEN', `${who} has the role ${identity.role}, and this needs ${role === 'viewer' ? 'viewer, member or admin' : role === 'member' ? 'member or admin' : role === 'agent' ? 'agent or admin' : 'admin'}; ${identity.sso ? 'ask an admin to add you to a group that HARROW_SSO_ROLES maps to that role' : 'ask an admin for a token with that role'}`);
  }
  return identity;
}

/** A sweep's labels as the sweep file gave them. */
export interface ProjectLabels {
  entity?: string | undefined;
  project?: string | undefined;
}

/** Whether the identity may see a sweep with these labels. */
export function inScope(identity: Identity, labels: ProjectLabels): boolean {
  if (identity.projects === null) return true;
  const { entity, project } = labels;
  if (project === undefined) return false;
  return identity.projects.some((scope) => scope === project || (entity !== undefined && scope === `${entity}/${project}`));
}

/** The labels stored in a sweep's spec. */
export function labelsOf(spec: unknown): ProjectLabels {
  const s = (spec ?? {}) as { entity?: unknown; project?: unknown };
  return { entity: typeof s.entity === 'string' ? s.entity : undefined, project: typeof s.project === 'string' ? s.project : undefined };
}

/** Whether the identity may read a sweep, from its spec's project labels: `inScope` as a predicate on specs. */
export function mayReadSweep(identity: Identity): (spec: unknown) => boolean {
  return (spec) => inScope(identity, labelsOf(spec));
}

/** Throws SWEEP_NOT_FOUND for a sweep outside the identity's projects: its existence is not revealed. */
export function assertInScope(identity: Identity, sweepId: string, spec: unknown): void {
  if (!mayReadSweep(identity)(spec)) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${sweepId}' not found; \`harrow status\` lists the sweeps`);
}

/** Route options that set who may call a route (`{ config: authConfig('agent') }`). */
export interface AuthRouteConfig {
  /** Default: viewer for GET and HEAD under /api, member for other methods; `open` for none. */
  role?: Role | 'open' | 'metrics';
  /** The route accepts a stream ticket (`?ticket=`) instead of a header (EventSource sends none). */
  ticket?: boolean;
}

export function authConfig(role: AuthRouteConfig['role'], extra: Omit<AuthRouteConfig, 'role'> = {}): AuthRouteConfig {
  return { role, ...extra };
}
