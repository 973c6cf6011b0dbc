/**
 * Rate limits (@fastify/rate-limit) and security headers (@fastify/helmet), registered together
 * right after the auth plugin and before any route (the rate limiter attaches itself to the
 * routes registered after it).
 *
 * Rate limits: HARROW_RATE_LIMIT requests per window on /api and /metrics, counted per
 * credential (a token, the bootstrap token, a single-sign-on user) when the request carries one,
 * else per client address. The limiter runs after authentication (the auth plugin's hook is
 * global, this one per route), so one person's scripts cannot starve a colleague behind the same
 * proxy address. Counters live in each replica's memory: with N replicas a client can reach N
 * times the limit, and the API keeps answering while Redis is down.
 *
 * The agent protocol (claim, report, poll, leave) is exempt: what agents send is results. A 429
 * on a report would make an agent hold points in memory and retry, and an agent that ends while
 * throttled would lose them; its volume is bounded by agents × runs × report interval anyway, and
 * only agent (or admin) tokens reach those routes. /healthz and the dashboard's files are exempt:
 * probes and page loads must never be refused; so is a sweep's event stream (see `exempt`).
 *
 * Headers: a strict Content-Security-Policy (same-origin scripts, styles, connections; no inline
 * script; no framing; see DASHBOARD_CSP_DIRECTIVES), nosniff, no referrer, no framing. /docs (Swagger UI, which needs inline
 * script hashes) keeps the policy @fastify/swagger-ui computes for its own files.
 */
import helmet from '@fastify/helmet';
import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { RateLimit } from '../../protocol/config-schema.js';
import { HarrowError } from '../../protocol/errors.js';
import { identityOf, type AuthRouteConfig } from './auth.js';

/**
 * The dashboard's policy, checked in Chromium by test/e2e/dashboard-csp.test.ts. Scripts: the
 * page's own files only, no inline script, no event-handler attributes, no eval. Styles: the
 * page's own style sheets; style *attributes* are allowed because ECharts builds its tooltips as
 * HTML with style attributes (and the page sets a few swatch colours and bar widths that way). A
 * style attribute cannot run script; the relaxation goes once the tooltips are drawn on the canvas
 * (ECharts' `renderMode: 'richText'`).
 */
export const DASHBOARD_CSP_DIRECTIVES = {
  defaultSrc: ["'self'"],
  baseUri: ["'none'"],
  objectSrc: ["'none'"],
  scriptSrc: ["'self'"],
  scriptSrcAttr: ["'none'"],
  styleSrc: ["'self'"],
  styleSrcElem: ["'self'"],
  styleSrcAttr: ["'unsafe-inline'"],
  imgSrc: ["'self'", 'data:'],
  fontSrc: ["'self'"],
  connectSrc: ["'self'"],
  frameAncestors: ["'none'"],
  formAction: ["'none'"],
} as const;

/**
 * The policy @fastify/swagger-ui sends with /docs (`staticCSP`), adjusted: no upgrade of
 * plain-HTTP loads (that would break a controller served without TLS), and styles from the page
 * itself only, inline ones allowed: Swagger UI injects <style> elements from its script. Its
 * scripts stay limited to its own files and hashed inline ones. /docs shows the API's shape, no data.
 */
export function docsCsp(header: string): string {
  return header
    .split(';')
    .map((d) => d.trim())
    .filter((d) => d !== '' && d !== 'upgrade-insecure-requests')
    .map((d) => (d.startsWith('style-src ') ? "style-src 'self' 'unsafe-inline'" : d.startsWith('font-src ') ? "font-src 'self' data:" : d.startsWith('frame-ancestors ') ? "frame-ancestors 'none'" : d))
    .join('; ');
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

/** Who a request counts against: its credential, else its address. */
export function rateKeyOf(req: FastifyRequest): string {
  const who = identityOf(req);
  // `@anonymous` is everyone when auth is off: count those per address.
  if (who && who.ref !== '@anonymous') return `cred:${who.ref}:${who.name}`;
  return `addr:${req.ip}`;
}

function exempt(req: FastifyRequest): boolean {
  const path = pathOf(req.url);
  if (!(path.startsWith('/api/') || path === '/metrics')) return true;
  const config = req.routeOptions.config as AuthRouteConfig | undefined;
  // The event stream is one long request, opened with a stream ticket (whose issue is limited).
  // Counting it broke the dashboard's live view in test/e2e/dashboard-auth.test.ts (the stream
  // reconnected and the page missed an update); the cause was not found, so it is exempt.
  return config?.role === 'agent' || config?.ticket === true;
}

function describeWindow(ms: number): string {
  return ms === 1000 ? 'second' : ms === 60_000 ? 'minute' : ms === 3_600_000 ? 'hour' : `${ms} ms`;
}

export async function registerProtection(app: FastifyInstance, o: { rateLimit: RateLimit | null }): Promise<void> {
  await app.register(helmet, {
    contentSecurityPolicy: { useDefaults: false, directives: DASHBOARD_CSP_DIRECTIVES },
    frameguard: { action: 'deny' },
    referrerPolicy: { policy: 'no-referrer' },
    // Pages are same-origin only; an API client is not a browser and ignores these.
    crossOriginResourcePolicy: { policy: 'same-origin' },
  });
  if (o.rateLimit === null) return;
  const { max, windowMs } = o.rateLimit;
  await app.register(rateLimit, {
    global: true,
    max,
    timeWindow: windowMs,
    keyGenerator: rateKeyOf,
    allowList: (req) => exempt(req),
    // The bound on distinct keys kept (LRU): far above the tokens and addresses of one team.
    cache: 10_000,
    errorResponseBuilder: (_req, context) =>
      new HarrowError(
        'RATE_LIMITED',
        `too many requests: at most ${context.max} per ${describeWindow(windowMs)} for this ${_req && identityOf(_req) && identityOf(_req)!.ref !== '@anonymous' ? 'token' : 'address'}; retry in ${context.after} (the server's limit is HARROW_RATE_LIMIT)`,
        { details: { retryAfterSeconds: Math.max(1, Math.ceil(context.ttl / 1000)) } },
      ),
  });
}
