/**
 * HARROW_AUTH=proxy without nginx (test/e2e/sso-nginx.test.ts has the real proxy): the test itself
 * connects from 127.0.0.2, the trusted address, or from 127.0.0.1, any other client, so each case
 * of the identity rules is shown: custom header names, a user whose groups map to no role, a
 * trusted request without a user header, tokens next to the proxy.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { needServices } from '../../helpers/services.js';
import { startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();
const ROOT = 'proxy-test-root-token';

/** GET from a chosen source address (fetch cannot choose it). */
function get(base: string, path: string, from: string, headers: Record<string, string> = {}): Promise<{ status: number; body: { code?: string; message?: string; identity?: { name: string; role: string; email: string | null; groups: string[] } | null } }> {
  const url = new URL(path, base);
  return new Promise((resolve, reject) => {
    const req = request({ host: url.hostname, port: url.port, path: url.pathname + url.search, localAddress: from, headers }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text || '{}') as never }));
    });
    req.on('error', reject);
    req.end();
  });
}

const PROXY = '127.0.0.2';
const OTHER = '127.0.0.1';

describe('HARROW_AUTH=proxy: who the identity headers are believed from', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;

  before(async () => {
    c = await startTestController({
      env: {
        HARROW_AUTH: 'proxy',
        HARROW_TOKEN: ROOT,
        HARROW_TRUSTED_PROXIES: '127.0.0.2/32',
        HARROW_PROXY_USER_HEADER: 'X-Auth-Request-User',
        HARROW_PROXY_EMAIL_HEADER: 'X-Auth-Request-Email',
        HARROW_PROXY_GROUPS_HEADER: 'X-Auth-Request-Groups',
        // No `*`: a user in none of these groups has no role at all.
        HARROW_SSO_ROLES: 'ml-admins=admin,ml-team=member',
      },
    });
  });
  after(async () => {
    await c?.close();
  });

  test('from the trusted proxy, the configured headers name the user and the groups give the role', async () => {
    const r = await get(c.url, '/api/whoami', PROXY, { 'x-auth-request-user': 'dana', 'x-auth-request-email': 'dana@example.com', 'x-auth-request-groups': 'ml-team, ml-admins' });
    assert.deepEqual(r.body.identity, { name: 'dana', role: 'admin', via: 'proxy', email: 'dana@example.com', groups: ['ml-team', 'ml-admins'], projects: null });
    assert.equal((await get(c.url, '/api/tokens', PROXY, { 'x-auth-request-user': 'dana', 'x-auth-request-groups': 'ml-admins' })).status, 200);
  });

  test('a user in no mapped group is refused with a 403 naming their groups', async () => {
    const r = await get(c.url, '/api/sweeps', PROXY, { 'x-auth-request-user': 'erin', 'x-auth-request-groups': 'finance' });
    assert.equal(r.status, 403);
    assert.match(r.body.message ?? '', /'erin' is signed in, but none of their groups \(finance\) has a role in HARROW_SSO_ROLES/);
  });

  test('from the trusted proxy without the user header: 401 saying the proxy set none; the default header names mean nothing here', async () => {
    const r = await get(c.url, '/api/sweeps', PROXY, { 'x-forwarded-user': 'dana', 'x-forwarded-groups': 'ml-admins' });
    assert.equal(r.status, 401);
    assert.match(r.body.message ?? '', /through the single-sign-on proxy \(127\.0\.0\.2\) without a x-auth-request-user header/);
    assert.equal((await get(c.url, '/api/sweeps', PROXY, { authorization: `Bearer ${ROOT}` })).status, 200, 'a token through the proxy still works');
  });

  test('from any other address: configured identity headers are refused (403), a token alone works, nothing at all is 401', async () => {
    const forged = await get(c.url, '/api/sweeps', OTHER, { 'x-auth-request-user': 'dana', 'x-auth-request-groups': 'ml-admins' });
    assert.equal(forged.status, 403);
    assert.match(forged.body.message ?? '', /x-auth-request-user, x-auth-request-groups\) are only believed from the single-sign-on proxy.*came from 127\.0\.0\.1/);
    assert.equal((await get(c.url, '/api/sweeps', OTHER, { authorization: `Bearer ${ROOT}` })).status, 200);
    assert.equal((await get(c.url, '/api/sweeps', OTHER)).status, 401);
    const who = await get(c.url, '/api/whoami', OTHER);
    assert.deepEqual(who.body, { authRequired: true, identity: null });
  });
});

describe('HARROW_AUTH=proxy off loopback', { ...opts, timeout: 30_000 }, () => {
  test('starts without HARROW_TOKEN (the proxy authenticates) and refuses the unauthenticated', async () => {
    const c = await startTestController({ env: { HARROW_HOST: '0.0.0.0', HARROW_AUTH: 'proxy', HARROW_TRUSTED_PROXIES: '127.0.0.2', HARROW_SSO_ROLES: '*=viewer' } });
    try {
      const port = new URL(c.url).port;
      assert.equal((await get(`http://127.0.0.1:${port}`, '/api/sweeps', OTHER)).status, 401);
      assert.equal((await get(`http://127.0.0.1:${port}`, '/api/sweeps', PROXY, { 'x-forwarded-user': 'fay' })).status, 200);
    } finally {
      await c.close();
    }
  });
});
