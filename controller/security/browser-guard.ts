/**
 * Keeps web pages from using the browser that visits them as a client of this server. A browser
 * may reach a loopback controller, and some requests it sends without asking the server first
 * (no CORS preflight): a `text/plain` or form POST from any site, or, after DNS rebinding, any
 * request at all from a page that now calls 127.0.0.1 its own origin. Three checks, before
 * anything else runs:
 *
 * 1. Host: the `Host` header must be a name of this server (`allowed-hosts.ts`), which defeats
 *    DNS rebinding. `/healthz` is exempt so that load balancers and probes may use any name; it
 *    tells only whether the database and Redis are up.
 * 2. Origin: a mutating request (anything but GET, HEAD, OPTIONS) must come from this server's
 *    own pages. Browsers say where a request comes from in `Sec-Fetch-Site`; older ones only in
 *    `Origin`, which must then name this very host. A request with neither is not from a browser
 *    (the CLI, curl, the SDK) and passes.
 * 3. Content type: a mutating request's body must be JSON or YAML. The three types a page may
 *    send cross-site without a preflight (`text/plain`, form encodings) are refused with 415, as
 *    is a body without a type, so an old browser that sends no `Origin` is still stopped.
 *
 * The bearer token (when configured) is checked after these: it is what keeps other programs out.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { HarrowError } from '../../protocol/errors.js';
import { allowedHosts, describeAllowedHosts, hostAllowed, parseHost, type AllowedHosts } from './allowed-hosts.js';

export interface BrowserGuardOptions {
  /** HARROW_HOST: the address the server listens on. */
  listenHost: string;
  /** HARROW_ALLOWED_HOSTS: names added to the defaults, or `*`. */
  extraHosts?: AllowedHosts | undefined;
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** What a page may send cross-site without a preflight (the CORS-safelisted types). */
const SIMPLE_TYPES = new Set(['text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data']);

/** Probes address a server by IP or by a load balancer's name; `/healthz` reveals only up/down. */
const ANY_HOST_PATHS = new Set(['/healthz']);

function header(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function pathOf(url: string): string {
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

function checkHost(req: FastifyRequest, allowed: AllowedHosts): HarrowError | undefined {
  if (allowed === '*') return undefined;
  if (SAFE_METHODS.has(req.method) && ANY_HOST_PATHS.has(pathOf(req.url))) return undefined;
  const raw = header(req, 'host');
  const host = raw === undefined ? undefined : parseHost(raw);
  if (host && hostAllowed(allowed, host)) return undefined;
  // The allowed names are not listed: under DNS rebinding this answer is readable by the attacker.
  return new HarrowError(
    'HOST_NOT_ALLOWED',
    `this server does not answer to the host name '${raw ?? ''}'. If you reach it under that name, add the name to HARROW_ALLOWED_HOSTS on the server (its start-up log lists the names it accepts). Unknown names are refused so that a web page cannot re-point its own name at this server (DNS rebinding) and read it.`,
  );
}

function crossSite(req: FastifyRequest): HarrowError | undefined {
  const site = header(req, 'sec-fetch-site');
  const origin = header(req, 'origin');
  let from: string | undefined;
  if (site !== undefined) {
    // `none`: the user typed the address or used a bookmark; no page was involved.
    if (site === 'same-origin' || site === 'none') return undefined;
    from = origin ? `a page at ${origin} (${site})` : `a ${site} page`;
  } else {
    if (origin === undefined) return undefined;
    const own = header(req, 'host');
    let ok = false;
    if (origin !== 'null' && own !== undefined && URL.canParse(origin)) {
      const o = new URL(origin);
      const scheme = o.protocol === 'https:' ? 'https:' : 'http:';
      const mine = parseHost(own, scheme);
      const theirs = parseHost(o.host, scheme);
      ok = mine !== undefined && theirs !== undefined && mine.name === theirs.name && mine.port === theirs.port;
    }
    if (ok) return undefined;
    from = origin === 'null' ? 'a page with an opaque origin (a sandboxed frame or a local file)' : `a page at ${origin}`;
  }
  return new HarrowError(
    'CROSS_SITE_REQUEST',
    `refused ${req.method} ${pathOf(req.url)} sent by ${from}: only this server's own dashboard, the CLI and other programs may change things here, not other web sites. Use \`harrow\` or the dashboard at this server's address.`,
  );
}

function simpleBody(req: FastifyRequest): HarrowError | undefined {
  const type = header(req, 'content-type');
  const hasBody = header(req, 'transfer-encoding') !== undefined || Number(header(req, 'content-length') ?? '0') > 0;
  const mediaType = type?.split(';', 1)[0]!.trim().toLowerCase();
  if (mediaType === undefined || mediaType === '') {
    if (!hasBody) return undefined;
  } else if (!SIMPLE_TYPES.has(mediaType)) return undefined;
  return new HarrowError(
    'UNSUPPORTED_MEDIA_TYPE',
    `${req.method} ${pathOf(req.url)} with ${mediaType ? `Content-Type ${mediaType}` : 'a body but no Content-Type'} is refused: any web page can make a browser send that to this server without asking it first, so it would let any site you visit create sweeps. Send JSON (Content-Type: application/json) or a YAML sweep file (Content-Type: text/yaml); \`harrow create\` does.`,
  );
}

function browserGuardPlugin(app: FastifyInstance, options: BrowserGuardOptions, ready: (err?: Error) => void): void {
  const allowed = allowedHosts(options.listenHost, options.extraHosts);
  app.log.info({ allowedHosts: describeAllowedHosts(allowed) }, 'host names accepted (HARROW_ALLOWED_HOSTS adds more)');
  app.addHook('onRequest', (req, _reply, done) => {
    const refusal = checkHost(req, allowed) ?? (SAFE_METHODS.has(req.method) ? undefined : (crossSite(req) ?? simpleBody(req)));
    done(refusal);
  });
  ready();
}

// Hooks of an encapsulated plugin would only see the plugin's own routes; this marker (what the
// fastify-plugin package sets, without adding it as a dependency) makes them apply to every route.
export const browserGuard = Object.assign(browserGuardPlugin, { [Symbol.for('skip-override')]: true, [Symbol.for('fastify.display-name')]: 'harrow-browser-guard' });
