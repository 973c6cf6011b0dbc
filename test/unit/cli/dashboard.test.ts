import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { gunzipSync } from 'node:zlib';
import Fastify from 'fastify';
import { registerDashboard } from '../../../controller/dashboard.js';
import { dashboardModules } from '../../../controller/web-assets.js';
import { registerProtection } from '../../../controller/security/protection.js';

const root = new URL('../../../../', import.meta.url);

async function app() {
  const a = Fastify();
  // The headers come from the same plugin as in the server (buildApp registers it).
  await registerProtection(a, { rateLimit: null });
  await registerDashboard(a);
  await a.ready();
  return a;
}

test('the page, its modules and style: right types, revalidated caching, a strict CSP on the page', async () => {
  const a = await app();
  try {
    const page = await a.inject({ method: 'GET', url: '/' });
    assert.equal(page.statusCode, 200);
    assert.equal(page.headers['content-type'], 'text/html; charset=utf-8');
    assert.equal(page.headers['cache-control'], 'no-cache');
    const csp = String(page.headers['content-security-policy']);
    for (const directive of ["default-src 'self'", "script-src 'self'", "script-src-attr 'none'", "style-src 'self'", "frame-ancestors 'none'", "object-src 'none'", "base-uri 'none'"]) {
      assert.ok(csp.split(';').map((d) => d.trim()).includes(directive), `${directive} in ${csp}`);
    }
    assert.deepEqual(csp.split(';').map((d) => d.trim()).filter((d) => /unsafe|upgrade-insecure/.test(d)), ["style-src-attr 'unsafe-inline'"], 'only style attributes (ECharts tooltips) are relaxed');
    assert.equal(page.headers['x-content-type-options'], 'nosniff');
    assert.equal(page.headers['x-frame-options'], 'DENY');
    assert.equal(page.headers['referrer-policy'], 'no-referrer');
    // The page as written, with every module preloaded before the entry script (one round trip
    // for the whole module graph instead of one per level of imports).
    const written = await readFile(new URL('web/index.html', root), 'utf8');
    const preloaded = [...page.body.matchAll(/<link rel="modulepreload" href="([^"]+)">/g)].map((m) => m[1]);
    assert.deepEqual(preloaded, dashboardModules().map((m) => m.url).filter((u) => u !== 'app.js'));
    assert.ok(preloaded.includes('js/sweep-page.js') && preloaded.includes('js/panels/parallel-chart.js'));
    assert.ok(page.body.indexOf('modulepreload') < page.body.indexOf('<script src="app.js"'), 'the preloads come before the entry script');
    assert.equal(page.body.replace(/ *<link rel="modulepreload" href="[^"]+">\n/g, ''), written, 'nothing else of the page changes');
    // ECharts is loaded by the views that draw charts, not by the page (the list has none).
    assert.doesNotMatch(page.body, /echarts\.min\.js/);

    const js = await a.inject({ method: 'GET', url: '/app.js' });
    assert.equal(js.headers['content-type'], 'text/javascript; charset=utf-8');
    assert.equal(js.body, await readFile(new URL('web/app.js', root), 'utf8'));
    // Every module of the page is served, with the same type and caching.
    for (const module of ['js/dom.js', 'js/sweep-page.js', 'js/panels/parallel-chart.js']) {
      const res = await a.inject({ method: 'GET', url: `/${module}` });
      assert.equal(res.statusCode, 200, module);
      assert.equal(res.headers['content-type'], 'text/javascript; charset=utf-8');
      assert.equal(res.headers['cache-control'], 'no-cache');
      assert.equal(res.body, await readFile(new URL(`web/${module}`, root), 'utf8'));
    }
    const css = await a.inject({ method: 'GET', url: '/style.css' });
    assert.equal(css.headers['content-type'], 'text/css; charset=utf-8');
    assert.equal(css.headers['x-content-type-options'], 'nosniff');
  } finally {
    await a.close();
  }
});

test('ETag: an unchanged file is a 304 with no body', async () => {
  const a = await app();
  try {
    const first = await a.inject({ method: 'GET', url: '/app.js' });
    const etag = String(first.headers.etag);
    assert.match(etag, /^"[\w-]+"$/);
    const again = await a.inject({ method: 'GET', url: '/app.js', headers: { 'if-none-match': etag } });
    assert.equal(again.statusCode, 304);
    assert.equal(again.body, '');
    const weak = await a.inject({ method: 'GET', url: '/app.js', headers: { 'if-none-match': `"other", W/${etag}` } });
    assert.equal(weak.statusCode, 304);
    const other = await a.inject({ method: 'GET', url: '/app.js', headers: { 'if-none-match': '"other"' } });
    assert.equal(other.statusCode, 200);
  } finally {
    await a.close();
  }
});

test('ECharts from node_modules: gzipped when accepted, identical once unzipped, cached a day', async () => {
  const file = await readFile(createRequire(import.meta.url).resolve('echarts/dist/echarts.min.js'));
  const a = await app();
  try {
    const gz = await a.inject({ method: 'GET', url: '/vendor/echarts.min.js', headers: { 'accept-encoding': 'br, gzip;q=0.8' } });
    assert.equal(gz.statusCode, 200);
    assert.equal(gz.headers['content-encoding'], 'gzip');
    assert.equal(gz.headers['cache-control'], 'public, max-age=86400');
    assert.equal(gz.headers.vary, 'accept-encoding');
    assert.ok(gz.rawPayload.length < file.length / 2);
    assert.ok(gunzipSync(gz.rawPayload).equals(file));
    const raw = await a.inject({ method: 'GET', url: '/vendor/echarts.min.js', headers: { 'accept-encoding': 'gzip;q=0, identity' } });
    assert.equal(raw.headers['content-encoding'], undefined);
    assert.ok(raw.rawPayload.equals(file));
  } finally {
    await a.close();
  }
});
