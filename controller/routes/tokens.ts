/** Named API tokens (admin only) and stream tickets (any reader, for the dashboard's EventSource). */
import type { FastifyInstance } from 'fastify';
import {
  CreateTokenBodySchema,
  CreatedTokenSchema,
  ListTokensResponseSchema,
  StreamTicketBodySchema,
  StreamTicketSchema,
  TokenInfoSchema,
  TokenNameParamsSchema,
  WhoAmISchema,
  type TokenInfo,
  type WhoAmI,
} from '../../protocol/auth-api.js';
import { HarrowError } from '../../protocol/errors.js';
import { insertToken, listTokens, revokeToken, type TokenRow } from '../../db/tokens.js';
import { getSweep } from '../../db/sweeps.js';
import type { ControllerContext } from '../context.js';
import { audited } from '../audit.js';
import { assertInScope, authConfig, identityOf, requireRole } from '../security/auth.js';
import type { Authenticator } from '../security/auth-plugin.js';
import { durationMs, newTokenSecret } from '../security/auth-token.js';
import { doc, parse, responses } from './route-schema.js';

function tokenInfo(row: TokenRow): TokenInfo {
  return {
    id: row.id,
    name: row.name,
    role: row.role,
    projects: row.projects,
    createdBy: row.created_by,
    createdAt: row.created_at.toISOString(),
    expiresAt: row.expires_at?.toISOString() ?? null,
    revokedAt: row.revoked_at?.toISOString() ?? null,
  };
}

export function tokenRoutes(app: FastifyInstance, ctx: ControllerContext, auth: Authenticator): void {
  app.post(
    '/api/tokens',
    { config: authConfig('admin'), schema: { summary: 'Create a named API token (admin); the secret is in this answer only', body: doc(CreateTokenBodySchema), response: responses(CreatedTokenSchema, 201) } },
    async (req, reply) => {
      const who = requireRole(req, 'admin');
      const body = parse(CreateTokenBodySchema, req.body, 'body');
      const created = await audited(ctx, req, { action: 'token.create', target: body.name, details: { role: body.role, expires: body.expires ?? null, projects: body.projects ?? null } }, async () => {
        const secret = newTokenSecret();
        const row = await insertToken(ctx.db, {
          id: secret.id,
          name: body.name,
          role: body.role,
          projects: body.projects ?? null,
          secretHash: secret.secretHash,
          createdBy: who.name,
          expiresAt: body.expires === undefined ? null : new Date(Date.now() + durationMs(body.expires)),
        });
        if (!row) throw new HarrowError('TOKEN_EXISTS', `a token named '${body.name}' already exists; revoke it first (\`harrow token revoke ${body.name}\`) or pick another name`);
        return { ...tokenInfo(row), token: secret.token };
      });
      auth.tokenCreated();
      ctx.log.info({ token: created.name, role: created.role, by: who.name }, 'API token created');
      return reply.status(201).send(created);
    },
  );

  app.get('/api/tokens', { config: authConfig('admin'), schema: { summary: 'List the live API tokens (admin); never their secrets', response: responses(ListTokensResponseSchema) } }, async () => ({
    tokens: (await listTokens(ctx.db)).map(tokenInfo),
  }));

  app.delete(
    '/api/tokens/:name',
    { config: authConfig('admin'), schema: { summary: 'Revoke an API token (admin): it stops working at once', params: doc(TokenNameParamsSchema), response: responses(TokenInfoSchema) } },
    async (req) => {
      const who = requireRole(req, 'admin');
      const { name } = parse(TokenNameParamsSchema, req.params, 'params');
      return audited(ctx, req, { action: 'token.revoke', target: name }, async () => {
        const row = await revokeToken(ctx.db, name, who.name);
        if (!row) throw new HarrowError('TOKEN_NOT_FOUND', `no live token named '${name}'; \`harrow token list\` shows them`);
        ctx.log.info({ token: name, by: who.name }, 'API token revoked');
        return tokenInfo(row);
      });
    },
  );

  app.post(
    '/api/stream-tickets',
    // A ticket only lets its holder read: issuing one is a read, allowed to viewers.
    { config: authConfig('viewer'), schema: { summary: "A one-minute ticket to open a sweep's event stream where no header can be sent (EventSource)", body: doc(StreamTicketBodySchema), response: responses(StreamTicketSchema) } },
    async (req) => {
      const who = requireRole(req, 'viewer');
      const { sweep: sweepId } = parse(StreamTicketBodySchema, req.body, 'body');
      const sweep = await getSweep(ctx.db, sweepId);
      if (!sweep) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${sweepId}' not found`);
      assertInScope(who, sweepId, sweep.spec);
      const { ticket, expiresAt } = await auth.ticketFor(who, sweepId);
      return { ticket, expiresAt: new Date(expiresAt).toISOString() };
    },
  );

  app.get(
    '/api/whoami',
    // Open: it answers "nobody" rather than 401, so a page can tell who is signed in without asking.
    { config: authConfig('open'), schema: { summary: 'Who the server takes the caller for: the token, or the user signed in through single sign-on', response: responses(WhoAmISchema) } },
    async (req): Promise<WhoAmI> => {
      const who = identityOf(req);
      const authRequired = await auth.enabled();
      if (!who) return { authRequired, identity: null };
      const via = who.sso?.via ?? (who.ref === '@anonymous' ? 'anonymous' : 'token');
      return { authRequired, identity: { name: who.name, role: who.role, via, email: who.sso?.email ?? null, groups: [...(who.sso?.groups ?? [])], projects: who.projects === null ? null : [...who.projects] } };
    },
  );
}
