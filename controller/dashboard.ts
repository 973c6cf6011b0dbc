/**
 * The dashboard: static files from `web/` (the page, its style and its ES modules; no build step) and ECharts from
 * node_modules, served at `/`. The page reads the same `/api` as the CLI and follows a sweep
 * through its event stream. Files are read once at start (they change only with a release);
 * responses carry an ETag, and gzip when the browser takes it (ECharts is 1.1 MB raw, ~370 kB
 * gzipped).
 */
import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { gzip } from 'node:zlib';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { dashboardModules, packageRoot, resolveEcharts } from './web-assets.js';

const gzipAsync = promisify(gzip);

interface Asset {
  body: Buffer;
  /** Compressed on first use, off the event loop (zlib's thread pool): startup stays fast. */
  gzip: (() => Promise<Buffer>) | undefined;
  type: string;
  etag: string;
  cacheControl: string;
}

/** Our own files: revalidated on every load (a 304 is cheap), so an upgrade shows at once. */
const REVALIDATE = 'no-cache';
/** The vendored library changes only with a dependency bump; a day is a fair staleness bound. */
const VENDOR = 'public, max-age=86400';

// Security headers (Content-Security-Policy, nosniff, no referrer, no framing) come from
// @fastify/helmet for every response: security/protection.ts.

export async function registerDashboard(app: FastifyInstance): Promise<void> {
  const root = packageRoot();
  const modules = dashboardModules(root);
  const files: Array<{ route: string; path: string | undefined; type: string; cacheControl: string }> = [
    { route: '/', path: join(root, 'web', 'index.html'), type: 'text/html; charset=utf-8', cacheControl: REVALIDATE },
    ...modules.map((m) => ({ route: `/${m.url}`, path: m.path, type: 'text/javascript; charset=utf-8', cacheControl: REVALIDATE })),
    { route: '/style.css', path: join(root, 'web', 'style.css'), type: 'text/css; charset=utf-8', cacheControl: REVALIDATE },
    { route: '/vendor/echarts.min.js', path: resolveEcharts(), type: 'text/javascript; charset=utf-8', cacheControl: VENDOR },
  ];
  const loaded: Asset[] = [];
  // Compressed in the background once the server is ready (zlib's thread pool, level 9 takes a
  // few hundred ms for ECharts): the first page load then finds them done, and startup does not wait.
  app.addHook('onReady', (done) => {
    setImmediate(() => {
      for (const a of loaded) void a.gzip?.().catch(() => undefined);
    });
    done();
  });
  for (const file of files) {
    const asset = file.path === undefined ? undefined : await load(file.path, file.type, file.cacheControl, file.route === '/' ? (html) => preloadModules(html, modules) : undefined);
    if (asset) loaded.push(asset);
    if (!asset) {
      // A missing asset must not keep the API from starting: the API is the product, the page a view.
      app.log.warn({ route: file.route, path: file.path ?? 'echarts/dist/echarts.min.js' }, 'dashboard file missing; reinstall harrow (npm ci) to restore it');
      app.get(file.route, { schema: { hide: true } }, async (_req, reply) =>
        reply.status(404).type('text/plain; charset=utf-8').send(`The dashboard file for ${file.route} is missing from this installation; reinstall harrow (npm ci). The API is under /api, documented at /docs.\n`),
      );
      continue;
    }
    app.get(file.route, { schema: { hide: true } }, async (req, reply) => send(req, reply, asset));
  }
}

async function send(req: FastifyRequest, reply: FastifyReply, asset: Asset): Promise<FastifyReply> {
  void reply.headers({ 'cache-control': asset.cacheControl, etag: asset.etag, vary: 'accept-encoding' });
  if (etagMatches(req.headers['if-none-match'], asset.etag)) return reply.status(304).send();
  void reply.type(asset.type);
  if (asset.gzip && acceptsGzip(req.headers['accept-encoding'])) {
    return reply.header('content-encoding', 'gzip').send(await asset.gzip());
  }
  return reply.send(asset.body);
}

/**
 * The page as served: every module listed as `<link rel="modulepreload">` before the entry script.
 * A module graph is otherwise discovered one level at a time (the page, then app.js, then the
 * views, then their panels): three round trips before the first API request, each waiting for a
 * parse. Listed up front, the browser fetches them all at once. The list is made from `web/` when
 * the server starts, so a new module is preloaded without anyone editing the page.
 */
export function preloadModules(html: string, modules: ReadonlyArray<{ url: string }>): string {
  const entry = /^\s*<script src="app\.js" type="module"><\/script>$/m;
  if (!entry.test(html)) return html;
  const links = modules.filter((m) => m.url !== 'app.js').map((m) => `  <link rel="modulepreload" href="${m.url}">`);
  return html.replace(entry, (line) => `${links.join('\n')}\n${line}`);
}

async function load(path: string, type: string, cacheControl: string, transform?: (text: string) => string): Promise<Asset | undefined> {
  let body: Buffer;
  try {
    body = await readFile(path);
  } catch {
    return undefined;
  }
  if (transform) body = Buffer.from(transform(body.toString('utf8')));
  const etag = `"${createHash('sha256').update(body).digest('base64url').slice(0, 27)}"`;
  // Small files gain nothing from compression but a header.
  let compressed: Promise<Buffer> | undefined;
  const lazyGzip = body.length >= 1024 ? () => (compressed ??= gzipAsync(body, { level: 9 })) : undefined;
  return { body, gzip: lazyGzip, type, etag, cacheControl };
}

function etagMatches(header: string | undefined, etag: string): boolean {
  if (!header) return false;
  return header.split(',').some((t) => {
    const tag = t.trim().replace(/^W\//, '');
    return tag === etag || tag === '*';
  });
}

function acceptsGzip(header: string | undefined): boolean {
  if (!header) return false;
  return header.split(',').some((part) => {
    const [coding = '', ...params] = part.trim().split(';');
    if (coding.trim().toLowerCase() !== 'gzip') return false;
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    return q === undefined || Number(q.slice(2)) > 0;
  });
}
