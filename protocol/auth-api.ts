/**
 * The HTTP contract of who may do what: named API tokens, stream tickets and the audit trail
 * (`/api/tokens`, `/api/stream-tickets`, `/api/audit`). Kept apart from `api.ts`, which describes
 * sweeps and runs.
 */
import { z } from 'zod';

/** viewer reads; member also creates and steers sweeps; admin also manages tokens; agent only runs work. */
export const ROLES = ['viewer', 'member', 'admin', 'agent'] as const;
export type Role = (typeof ROLES)[number];

export const TOKEN_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.@-]{0,63}$/;

/** `90d`, `12h`, `30m`: how long a new token lives. */
export const DURATION_PATTERN = /^(\d{1,5})([dhm])$/;

/** A project scope: `project` (any entity) or `entity/project`, as in the sweep file's labels. */
export const ProjectScopeSchema = z.string().regex(/^[A-Za-z0-9_.-]{1,128}(\/[A-Za-z0-9_.-]{1,128})?$/, 'use project or entity/project (letters, digits, _ . -)');

export const CreateTokenBodySchema = z.object({
  name: z.string().regex(TOKEN_NAME_PATTERN, 'use 1 to 64 letters, digits, _ . @ or -, starting with a letter or digit'),
  role: z.enum(ROLES, { error: `use one of ${ROLES.join(', ')}` }),
  expires: z.string().regex(DURATION_PATTERN, 'use a number of days, hours or minutes such as 90d, 12h or 30m').optional(),
  projects: z.array(ProjectScopeSchema).min(1).max(100).optional(),
});
export type CreateTokenBody = z.output<typeof CreateTokenBodySchema>;

export const TokenInfoSchema = z.object({
  id: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  projects: z.array(z.string()).nullable(),
  createdBy: z.string(),
  createdAt: z.string(),
  expiresAt: z.string().nullable(),
  revokedAt: z.string().nullable(),
});
export type TokenInfo = z.output<typeof TokenInfoSchema>;

/** The secret is in this answer only: the server keeps its hash. */
export const CreatedTokenSchema = TokenInfoSchema.extend({ token: z.string() });
export type CreatedToken = z.output<typeof CreatedTokenSchema>;

export const ListTokensResponseSchema = z.object({ tokens: z.array(TokenInfoSchema) });
export const TokenNameParamsSchema = z.object({ name: z.string().regex(TOKEN_NAME_PATTERN, 'not a token name') });

export const StreamTicketBodySchema = z.object({ sweep: z.string().min(1).max(200) });
export const StreamTicketSchema = z.object({ ticket: z.string(), expiresAt: z.string() });
export type StreamTicket = z.output<typeof StreamTicketSchema>;

export const AUDIT_OUTCOMES = ['ok', 'refused', 'error'] as const;

export const AuditQuerySchema = z.object({
  sweep: z.string().min(1).max(200).optional(),
  actor: z.string().min(1).max(200).optional(),
  action: z.string().min(1).max(100).optional(),
  outcome: z.enum(AUDIT_OUTCOMES).optional(),
  since: z.iso.datetime({ offset: true, error: 'use an ISO 8601 time such as 2026-12-01T00:00:00Z' }).optional(),
  limit: z.coerce.number().int().min(1).max(1000).default(100),
});
export type AuditQuery = z.output<typeof AuditQuerySchema>;

export const AuditEntrySchema = z.object({
  id: z.number(),
  at: z.string(),
  actor: z.string(),
  role: z.string().nullable(),
  address: z.string().nullable(),
  action: z.string(),
  sweepId: z.string().nullable(),
  target: z.string().nullable(),
  details: z.unknown(),
  outcome: z.enum(AUDIT_OUTCOMES),
  error: z.string().nullable(),
});
export type AuditEntry = z.output<typeof AuditEntrySchema>;
export const AuditResponseSchema = z.object({ entries: z.array(AuditEntrySchema) });

/** `GET /api/whoami`: who the server takes the caller for (the dashboard shows it). */
export const WhoAmISchema = z.object({
  /** Whether this server asks for credentials now (auth off or not yet on: false). */
  authRequired: z.boolean(),
  identity: z
    .object({
      name: z.string(),
      role: z.enum(ROLES),
      /** token: HARROW_TOKEN or a named token; proxy, oidc: single sign-on; anonymous: auth is off. */
      via: z.enum(['token', 'proxy', 'oidc', 'anonymous']),
      email: z.string().nullable(),
      groups: z.array(z.string()),
      projects: z.array(z.string()).nullable(),
    })
    .nullable(),
});
export type WhoAmI = z.output<typeof WhoAmISchema>;
