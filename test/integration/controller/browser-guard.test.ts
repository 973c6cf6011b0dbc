/**
 * The browser guard over real HTTP, with the headers a browser would send (the Chromium tests in
 * test/e2e/browser-guard.test.ts show real pages sending them): cross-site mutating requests and
 * the content types a page can send without a preflight are refused and change nothing; a Host
 * that is not a name of the server is refused (DNS rebinding), except on /healthz; programs that
 * send no Origin (the CLI, curl) and same-origin pages work as before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { z } from 'zod';
import { HarrowError } from '../../../protocol/errors.js';
import { SweepDetailSchema, SweepSummarySchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const YAML = ['name: guard', 'method: random', 'program: train.py', 'command: [touch, /tmp/harrow-guard-pwned]', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');
const JSON_BODY = JSON.stringify({ config: YAML });

interface Raw {
  status: number;
  body: { code?: string; message?: string } & Record<string, unknown>;
  text: string;
}

/** One request with exactly the headers given (fetch would not let us set Host). */
function raw(base: string, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Raw> {
  const url = new URL(base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, method, path, headers: { ...(body === undefined ? {} : { 'content-length': String(Buffer.byteLength(body)) }), ...headers }, setHost: !('host' in headers) }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (d: string) => (text += d));
      res.on('end', () => {
        let parsed: Raw['body'] = {};
        try {
          parsed = JSON.parse(text) as Raw['body'];
        } catch {
          // Not JSON (the dashboard page): the status says enough.
        }
        resolve({ status: res.statusCode ?? 0, body: parsed, text });
      });
    });
    req.on('error', reject);
    req.end(body);
  });
}

async function sweepCount(c: TestController): Promise<number> {
  const r = await raw(c.url, 'GET', '/api/sweeps', {});
  assert.equal(r.status, 200, r.text);
  return z.object({ sweeps: z.array(SweepSummarySchema) }).parse(r.body).sweeps.length;
}

describe('browser guard: cross-site mutating requests', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  let host: string;
  before(async () => {
    c = await startTestController();
    host = new URL(c.url).host;
  });
  after(async () => {
    await c?.close();
  });

  test('a cross-site text/plain POST (no preflight in a browser) is refused with 403 and creates nothing', async () => {
    const before = await sweepCount(c);
    const cases: Array<Record<string, string>> = [
      // What Chromium sends for fetch(url, { method: 'POST', mode: 'no-cors', body: yaml }) from another site.
      { origin: 'http://evil.test:4000', 'sec-fetch-site': 'cross-site', 'sec-fetch-mode': 'no-cors' },
      // Another port of the same machine is same-site, but not this server.
      { origin: 'http://127.0.0.1:4000', 'sec-fetch-site': 'same-site' },
      // A browser without fetch metadata: Origin only.
      { origin: 'http://evil.test:4000' },
      { origin: `https://${host}.evil.test` },
      // Sandboxed frames and local files send the opaque origin.
      { origin: 'null' },
    ];
    for (const h of cases) {
      for (const type of ['text/plain', 'text/yaml', 'application/json']) {
        const r = await raw(c.url, 'POST', '/api/sweeps', { ...h, 'content-type': type }, type === 'application/json' ? JSON_BODY : YAML);
        assert.equal(r.status, 403, `${JSON.stringify(h)} ${type}: ${r.text}`);
        assert.equal(r.body.code, 'CROSS_SITE_REQUEST');
        assert.match(r.body.message ?? '', /other web sites/);
      }
    }
    assert.equal(await sweepCount(c), before, 'no sweep was created');
  });

  test('a bodyless cross-site POST cannot pause or cancel a sweep; a program without Origin can', async () => {
    const created = SweepDetailSchema.parse((await raw(c.url, 'POST', '/api/sweeps', { 'content-type': 'text/yaml' }, YAML)).body);
    for (const action of ['pause', 'cancel']) {
      const r = await raw(c.url, 'POST', `/api/sweeps/${created.id}/${action}`, { origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' });
      assert.equal(r.status, 403, r.text);
      assert.equal(r.body.code, 'CROSS_SITE_REQUEST');
    }
    const stopRun = await raw(c.url, 'POST', '/api/runs/nope-1/stop', { origin: 'http://evil.test' });
    assert.equal(stopRun.status, 403, 'refused before the route looks the run up');
    assert.equal(SweepDetailSchema.parse((await raw(c.url, 'GET', `/api/sweeps/${created.id}`, {})).body).state, 'running');
    const paused = await raw(c.url, 'POST', `/api/sweeps/${created.id}/pause`, {});
    assert.equal(paused.status, 200, paused.text);
    assert.equal(SweepDetailSchema.parse(paused.body).state, 'paused');
  });

  test('the content types a page may send without a preflight are refused with 415 even without Origin (old browsers)', async () => {
    const before = await sweepCount(c);
    for (const type of ['text/plain', 'text/plain; charset=utf-8', 'TEXT/PLAIN', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x']) {
      const r = await raw(c.url, 'POST', '/api/sweeps', { 'content-type': type }, YAML);
      assert.equal(r.status, 415, `${type}: ${r.text}`);
      assert.equal(r.body.code, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(r.body.message ?? '', /application\/json/);
      assert.match(r.body.message ?? '', /text\/yaml/);
    }
    const untyped = await raw(c.url, 'POST', '/api/sweeps', {}, YAML);
    assert.equal(untyped.status, 415, untyped.text);
    assert.match(untyped.body.message ?? '', /no Content-Type/);
    assert.equal(await sweepCount(c), before, 'no sweep was created');
  });

  test('same-origin pages and programs without Origin still create sweeps', async () => {
    const before = await sweepCount(c);
    const ok: Array<[Record<string, string>, string, string]> = [
      [{ origin: `http://${host}`, 'sec-fetch-site': 'same-origin' }, 'application/json', JSON_BODY],
      // An old browser on the dashboard: Origin equal to the Host it connected to.
      [{ origin: `http://${host}` }, 'application/json', JSON_BODY],
      // Typed into the address bar; no page involved.
      [{ 'sec-fetch-site': 'none' }, 'text/yaml', YAML],
      // The CLI, curl, the SDK.
      [{}, 'application/json', JSON_BODY],
      [{}, 'application/yaml', YAML],
    ];
    for (const [h, type, body] of ok) {
      const r = await raw(c.url, 'POST', '/api/sweeps', { ...h, 'content-type': type }, body);
      assert.equal(r.status, 201, `${JSON.stringify(h)}: ${r.text}`);
    }
    assert.equal(await sweepCount(c), before + ok.length);
  });
});

describe('browser guard: Host names (DNS rebinding)', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  let port: string;
  before(async () => {
    c = await startTestController({ env: { HARROW_ALLOWED_HOSTS: 'harrow.example.com, pinned.example.com:9443' } });
    port = new URL(c.url).port;
  });
  after(async () => {
    await c?.close();
  });

  test('a foreign Host is refused with 421 on every route but /healthz, without listing the accepted names', async () => {
    for (const path of ['/api/sweeps', '/', '/metrics', '/docs/json', '/api/sweeps/x/events', '/no/such/route']) {
      for (const h of [`attacker.test:${port}`, 'attacker.test', `127.0.0.1.attacker.test:${port}`, `localhost.attacker.test:${port}`]) {
        const r = await raw(c.url, 'GET', path, { host: h });
        assert.equal(r.status, 421, `${h} ${path}: ${r.text}`);
        assert.equal(r.body.code, 'HOST_NOT_ALLOWED');
        assert.match(r.body.message ?? '', /HARROW_ALLOWED_HOSTS/);
        assert.doesNotMatch(r.text, /harrow\.example\.com|127\.0\.0\.1[^.]/, 'the answer must not tell a rebinding page which names work');
      }
    }
    const post = await raw(c.url, 'POST', '/api/sweeps', { host: `attacker.test:${port}`, 'content-type': 'application/json' }, JSON_BODY);
    assert.equal(post.status, 421);
    assert.equal(await sweepCount(c), 0);
    const health = await raw(c.url, 'GET', '/healthz', { host: `probe.internal:${port}` });
    assert.equal(health.status, 200, health.text);
  });

  test('the loopback names, any port (SSH tunnels), and HARROW_ALLOWED_HOSTS are accepted', async () => {
    for (const h of [`127.0.0.1:${port}`, `localhost:${port}`, 'localhost:9000', 'LOCALHOST.', `[::1]:${port}`, '[0:0::1]', 'harrow.example.com', 'Harrow.Example.com:443', 'pinned.example.com:9443']) {
      const r = await raw(c.url, 'GET', '/api/sweeps', { host: h });
      assert.equal(r.status, 200, `${h}: ${r.text}`);
    }
    for (const h of ['pinned.example.com', 'pinned.example.com:8080', '', 'user@localhost', 'localhost/x']) {
      const r = await raw(c.url, 'GET', '/api/sweeps', { host: h });
      assert.equal(r.status, 421, `${JSON.stringify(h)}: ${r.text}`);
    }
  });

  test('HARROW_ALLOWED_HOSTS=* accepts any Host; a malformed entry is a configuration error', async () => {
    const any = await startTestController({ env: { HARROW_ALLOWED_HOSTS: '*' } });
    try {
      const r = await raw(any.url, 'GET', '/api/sweeps', { host: 'whatever.test' });
      assert.equal(r.status, 200, r.text);
    } finally {
      await any.close();
    }
    await assert.rejects(startTestController({ env: { HARROW_ALLOWED_HOSTS: 'ok.example, http://bad.example/' } }), (err: unknown) => {
      assert.ok(err instanceof HarrowError);
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.message, /HARROW_ALLOWED_HOSTS/);
      assert.match(err.message, /http:\/\/bad\.example\//);
      return true;
    });
  });
});

describe('the loopback check resolves the listen address', { ...opts, timeout: 60_000 }, () => {
  test('a name that only looks like loopback (127.something) is refused without a token', async () => {
    await assert.rejects(startTestController({ env: { HARROW_HOST: '127.attacker.invalid' } }), (err: unknown) => {
      assert.ok(err instanceof HarrowError, String(err));
      assert.equal(err.code, 'INVALID_CONFIG');
      assert.match(err.message, /127\.attacker\.invalid/);
      return true;
    });
  });

  test('localhost and 127.0.0.2 resolve to loopback and start without a token', async () => {
    for (const h of ['localhost', '127.0.0.2']) {
      const c = await startTestController({ env: { HARROW_HOST: h } });
      try {
        const r = await raw(c.url, 'GET', '/api/sweeps', {});
        assert.equal(r.status, 200, r.text);
      } finally {
        await c.close();
      }
    }
  });
});
