/**
 * Settles who is asking before any handler runs, and refuses what their role does not allow.
 *
 * Whether authentication is on (HARROW_AUTH): `off` never asks; `token` and `proxy` always do;
 * unset, it is on as soon as the server listens off loopback, HARROW_TOKEN or HARROW_OIDC_ISSUER
 * is set, or a named token exists (so creating the first token on a loopback server turns it on,
 * and it stays on until restart).
 *
 * Credentials, in order: in proxy mode, the identity headers of a trusted proxy
 * (`proxy-identity.ts`); then a bearer token: HARROW_TOKEN, an OIDC JWT when HARROW_OIDC_ISSUER is
 * set (`oidc-verifier.ts`, recognised by its shape), or a named token.
 *
 * When on, every route under /api and /metrics needs a credential: HARROW_TOKEN (the bootstrap
 * admin), a named token (`hrw_<id>_<secret>`), a stream ticket on the routes that take one, or
 * HARROW_METRICS_TOKEN on /metrics. The role a route needs is its `config.role`, by default viewer
 * for reads and member for changes. /healthz, /docs and the dashboard's files are open: they hold
 * no data. Refused changes are recorded in the audit trail.
 */
import { createHash } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HarrowError } from '../../protocol/errors.js';
import { getToken, anyLiveToken, type TokenRow } from '../../db/tokens.js';
import { getSweep, sweepOfRun } from '../../db/sweeps.js';
import { SECOND } from '../../protocol/time.js';
import type { ControllerContext } from '../context.js';
import { recordAudit } from '../audit.js';
import { ANONYMOUS, assertInScope, identityOf, requireRole, setIdentity, type AuthRouteConfig, type Identity, type Role } from './auth.js';
import { hashSecret, matchesConfigured, parseToken, sameSecret } from './auth-token.js';
import { issueTicket, readTicket, verifyTicket } from './stream-ticket.js';
import { resolveListenHost } from './loopback.js';
import { ProxyIdentity } from './proxy-identity.js';
import { OidcVerifier, looksLikeJwt } from './oidc-verifier.js';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);
/** How often a loopback server with auth still off looks for a first named token. */
const TOKEN_PROBE_MS = 2 * SECOND;
const BOOTSTRAP_REF = '@bootstrap';
const SSO_REF = '@sso:';

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function bearer(req: FastifyRequest): string | undefined {
  // The scheme name is case-insensitive (RFC 9110).
  const m = /^bearer\s+(.+)$/i.exec(req.headers.authorization ?? '');
  return m?.[1]?.trim();
}

export class Authenticator {
  private on: boolean;
  private probedAt = 0;
  private readonly bootstrapKey: string | undefined;
  /**
   * Signs tickets when auth is off (they are then not checked, but the page asks for one anyway),
   * and those of single-sign-on users, who have no stored credential to derive a key from: such a
   * ticket is good on this replica only, for its one minute.
   */
  private readonly anonymousKey = createHash('sha256').update(String(Math.random()) + String(process.hrtime.bigint())).digest('hex');
  /** Set in proxy mode. */
  readonly proxy: ProxyIdentity | undefined;
  /** Set when HARROW_OIDC_ISSUER is. */
  private readonly oidc: OidcVerifier | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    private readonly loopback: boolean,
  ) {
    const { HARROW_AUTH: mode, HARROW_TOKEN: token } = ctx.config;
    // Accepting OIDC tokens means asking for them: a server that did not would let anyone act as an admin.
    this.on = mode === 'token' || mode === 'proxy' || (mode === undefined && (!loopback || token !== undefined || ctx.config.HARROW_OIDC_ISSUER !== undefined));
    this.bootstrapKey = token === undefined ? undefined : createHash('sha256').update(`harrow stream tickets\0${token}`).digest('hex');
    const c = ctx.config;
    if (mode === 'proxy') {
      this.proxy = new ProxyIdentity({
        trusted: c.HARROW_TRUSTED_PROXIES!,
        userHeader: c.HARROW_PROXY_USER_HEADER,
        emailHeader: c.HARROW_PROXY_EMAIL_HEADER,
        groupsHeader: c.HARROW_PROXY_GROUPS_HEADER,
        roles: c.HARROW_SSO_ROLES!,
      });
    }
    if (c.HARROW_OIDC_ISSUER !== undefined) {
      this.oidc = new OidcVerifier({
        issuer: c.HARROW_OIDC_ISSUER,
        audience: c.HARROW_OIDC_AUDIENCE!,
        jwksUrl: c.HARROW_OIDC_JWKS_URL,
        groupsClaim: c.HARROW_OIDC_GROUPS_CLAIM,
        roles: c.HARROW_SSO_ROLES!,
        cooldownMs: c.HARROW_OIDC_JWKS_COOLDOWN_MS,
      });
    }
  }

  /** Whether requests must authenticate now. */
  async enabled(): Promise<boolean> {
    if (this.ctx.config.HARROW_AUTH === 'off') return false;
    if (this.on) return true;
    const now = Date.now();
    if (now - this.probedAt < TOKEN_PROBE_MS) return false;
    this.probedAt = now;
    this.on = await anyLiveToken(this.ctx.db);
    if (this.on) this.ctx.log.info('a named API token exists: authentication is on (HARROW_AUTH unset)');
    return this.on;
  }

  /** A named token was created here: authentication is on from now on (unless HARROW_AUTH=off). */
  tokenCreated(): void {
    if (this.ctx.config.HARROW_AUTH !== 'off' && !this.on) {
      this.on = true;
      this.ctx.log.info('a named API token was created: authentication is on (HARROW_AUTH unset)');
    }
  }

  /** The identity a bearer token stands for; throws UNAUTHORIZED for a token that is not (or no longer) good. */
  async fromBearer(given: string): Promise<Identity> {
    const token = this.ctx.config.HARROW_TOKEN;
    if (token !== undefined && matchesConfigured(given, token)) return { name: 'HARROW_TOKEN', role: 'admin', projects: null, ref: BOOTSTRAP_REF };
    if (looksLikeJwt(given)) {
      if (!this.oidc) throw new HarrowError('UNAUTHORIZED', 'the token looks like a JWT, and this server accepts no OIDC tokens (HARROW_OIDC_ISSUER is not set); use a named token (`harrow token create`)');
      return this.oidc.verify(given);
    }
    const parsed = parseToken(given);
    const row = parsed ? await getToken(this.ctx.db, parsed.id) : null;
    if (!parsed || !row || !sameSecret(hashSecret(parsed.secret), row.secret_hash)) {
      throw new HarrowError('UNAUTHORIZED', 'the token was refused: it is not HARROW_TOKEN nor a token this server issued (`harrow token list` shows the names)');
    }
    this.usable(row);
    return identityOfRow(row);
  }

  private usable(row: TokenRow): void {
    if (row.revoked_at !== null) throw new HarrowError('UNAUTHORIZED', `the token '${row.name}' was revoked; ask an admin for a new one`);
    if (row.expires_at !== null && row.expires_at.getTime() <= Date.now()) throw new HarrowError('UNAUTHORIZED', `the token '${row.name}' expired; ask an admin for a new one`);
  }

  /** Issues a ticket for the identity's own credential. */
  async ticketFor(identity: Identity, sweepId: string): Promise<{ ticket: string; expiresAt: number }> {
    return issueTicket(await this.keyOf(identity.ref), identity.ref, sweepId, Date.now());
  }

  private async keyOf(ref: string): Promise<string> {
    if (ref === '@anonymous') return this.anonymousKey;
    if (ref.startsWith(SSO_REF)) return createHash('sha256').update(`${this.anonymousKey}\0${ref}`).digest('hex');
    if (ref === BOOTSTRAP_REF) {
      if (this.bootstrapKey === undefined) throw new HarrowError('UNAUTHORIZED', 'this stream ticket was issued for HARROW_TOKEN, which this server no longer has');
      return this.bootstrapKey;
    }
    const row = await getToken(this.ctx.db, ref);
    if (!row) throw new HarrowError('UNAUTHORIZED', 'this stream ticket names an unknown token');
    this.usable(row);
    return row.secret_hash;
  }

  /** The identity behind a stream ticket for this sweep; throws UNAUTHORIZED otherwise. */
  async fromTicket(ticket: string, sweepId: string): Promise<Identity> {
    const claims = readTicket(ticket);
    if (!claims) throw new HarrowError('UNAUTHORIZED', 'this stream ticket is malformed; the page asks for a new one');
    verifyTicket(claims, await this.keyOf(claims.ref), sweepId, Date.now());
    if (claims.ref === BOOTSTRAP_REF) return { name: 'HARROW_TOKEN', role: 'admin', projects: null, ref: BOOTSTRAP_REF };
    if (claims.ref.startsWith(SSO_REF)) return ssoIdentityOfRef(claims.ref);
    const row = (await getToken(this.ctx.db, claims.ref))!;
    return identityOfRow(row);
  }
}

/** `@sso:<via>:<role>:<name>`, signed into the ticket, so the role cannot be changed. */
function ssoIdentityOfRef(ref: string): Identity {
  const [via, role, ...name] = ref.slice(SSO_REF.length).split(':');
  return { name: name.join(':'), role: role as Role, projects: null, ref, sso: { via: via === 'oidc' ? 'oidc' : 'proxy', email: null, groups: [], from: 'stream ticket' } };
}

function identityOfRow(row: TokenRow): Identity {
  return { name: row.name, role: row.role, projects: row.projects, ref: row.id };
}

export interface AuthPluginOptions {
  ctx: ControllerContext;
  /** Filled in with the authenticator, for the routes that issue tickets and tokens. */
  out: { auth?: Authenticator };
}

async function authPlugin(app: FastifyInstance, options: AuthPluginOptions): Promise<void> {
  const { ctx } = options;
  const { HARROW_AUTH: mode, HARROW_METRICS_TOKEN: metricsToken, HARROW_HOST: host } = ctx.config;
  // Resolving may fail for an unresolvable name; listening would fail for it as well.
  const loopback = await resolveListenHost(host).then(
    (r) => r.loopback,
    () => false,
  );
  const auth = new Authenticator(ctx, loopback);
  options.out.auth = auth;
  if (mode === 'off') ctx.log.warn('HARROW_AUTH=off: every request acts as an admin; named tokens are ignored');
  if (mode === 'proxy') ctx.log.info({ trustedProxies: ctx.config.HARROW_TRUSTED_PROXIES?.text, userHeader: ctx.config.HARROW_PROXY_USER_HEADER }, 'HARROW_AUTH=proxy: identity headers are believed from the trusted proxies only; bearer tokens work from anywhere');

  app.addHook('onRequest', async (req) => {
    const config = (req.routeOptions.config ?? {}) as AuthRouteConfig;
    const path = pathOf(req.url);
    const guarded = config.role !== undefined ? config.role !== 'open' : path.startsWith('/api/') || path === '/metrics';
    if (!(await auth.enabled())) {
      setIdentity(req, ANONYMOUS);
      return;
    }
    const given = bearer(req);
    if (config.role === 'metrics' && given !== undefined && metricsToken !== undefined && matchesConfigured(given, metricsToken)) return;
    try {
      // Forged identity headers are refused before anything else, even alongside a good token.
      const fromProxy = auth.proxy?.read(req);
      if (fromProxy) setIdentity(req, fromProxy);
      else if (given !== undefined) setIdentity(req, await auth.fromBearer(given));
      else if (config.ticket) {
        const ticket = (req.query as { ticket?: unknown } | undefined)?.ticket;
        const sweepId = (req.params as { id?: unknown } | undefined)?.id;
        if (typeof ticket === 'string' && typeof sweepId === 'string') setIdentity(req, await auth.fromTicket(ticket, sweepId));
      }
      if (!guarded) return;
      if (auth.proxy && !identityOf(req)) throw auth.proxy.missing(req);
      const need: Role = config.role === 'metrics' || config.role === undefined || config.role === 'open' ? (SAFE_METHODS.has(req.method) ? 'viewer' : 'member') : config.role;
      const identity = requireRole(req, need);
      // Server-wide figures name every active sweep: only for unscoped readers.
      if (config.role === 'metrics' && identity.projects !== null) throw new HarrowError('FORBIDDEN', `the token '${identity.name}' is scoped to projects; /metrics covers every sweep (use HARROW_METRICS_TOKEN or an unscoped token)`);
      await checkScope(ctx, req, identity);
    } catch (err) {
      // Open routes (the page's files, /healthz) answer whoever asks; the refusal shows on the API.
      if (!guarded && err instanceof HarrowError && (err.code === 'UNAUTHORIZED' || err.code === 'FORBIDDEN')) return;
      if (!SAFE_METHODS.has(req.method) && err instanceof HarrowError && (err.status === 401 || err.status === 403)) {
        await recordAudit(ctx, req, { action: `${req.method} ${req.routeOptions.url ?? path}`, sweepId: null, target: null }, 'refused', `${err.code}: ${err.message}`);
      }
      throw err;
    }
  });
}

/** A scoped identity reaches a sweep's or a run's routes only for sweeps in its projects. */
async function checkScope(ctx: ControllerContext, req: FastifyRequest, identity: Identity): Promise<void> {
  if (identity.projects === null) return;
  const route = req.routeOptions.url ?? '';
  const id = (req.params as { id?: unknown } | undefined)?.id;
  if (typeof id !== 'string') return;
  if (route.startsWith('/api/sweeps/:id')) {
    const sweep = await getSweep(ctx.db, id);
    if (sweep) assertInScope(identity, id, sweep.spec);
  } else if (route.startsWith('/api/runs/:id')) {
    const sweep = await sweepOfRun(ctx.db, id);
    if (sweep) {
      try {
        assertInScope(identity, sweep.id, sweep.spec);
      } catch {
        throw new HarrowError('RUN_NOT_FOUND', `run '${id}' not found`);
      }
    }
  }
}

// Like the browser guard: the hook must apply to every route, not only this plugin's own.
export const authGuard = Object.assign(authPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'harrow-auth' });
