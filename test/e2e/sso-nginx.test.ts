/**
 * Single sign-on behind a real nginx (HARROW_AUTH=proxy). nginx runs the configuration block of the
 * README's "Single sign-on" section, unchanged but for its two upstream addresses, in front of a
 * real controller; a small HTTP server stands in for oauth2-proxy (the `auth_request` target):
 * it knows three sessions by cookie and answers with the user, email and groups as oauth2-proxy
 * does with --set-xauthrequest.
 *
 * nginx connects from 127.0.0.2 (`proxy_bind`), the only trusted proxy address; the test's own
 * requests to the controller's port come from 127.0.0.1, as an attacker on the network would.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { AddressInfo } from 'node:net';
import { z } from 'zod';
import { needServices } from '../helpers/services.js';
import { needNginx, startNginx, type TestNginx } from '../helpers/nginx.js';
import { launchChromium, needChromium } from '../helpers/browser.js';
import { ROOT } from '../helpers/processes.js';
import { expectError, expectOk, http, startTestController, type TestController } from '../integration/controller/controller-harness.js';
import { AuditResponseSchema, CreatedTokenSchema, ListTokensResponseSchema, WhoAmISchema } from '../../protocol/auth-api.js';
import { SweepDetailSchema, SweepSummarySchema } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needNginx('the single-sign-on test behind nginx');

const SWEEP = ['name: sso', 'method: random', 'run_cap: 1', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');
const ROLES = 'ml-admins=admin,ml-team=member,*=viewer';

/** The identity provider's sessions, by the value of oauth2-proxy's cookie. */
const SESSIONS: Record<string, { user: string; email?: string; groups?: string }> = {
  's-alice': { user: 'alice', email: 'alice@example.com', groups: 'ml-team,ml-admins' },
  's-bob': { user: 'bob', email: 'bob@example.com', groups: 'ml-team' },
  // No groups: only `*` gives her a role, and a client-sent groups header must not give her more.
  's-carol': { user: 'carol', email: 'carol@example.com' },
};

/** The README's nginx block, whose upstreams are 127.0.0.1:4180 (oauth2-proxy) and 127.0.0.1:8080 (Harrow). */
async function readmeNginxBlock(): Promise<string> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.indexOf('### Single sign-on');
  assert.ok(section >= 0, 'README has a "Single sign-on" section');
  const m = /```nginx\n([\s\S]*?)```/.exec(readme.slice(section));
  assert.ok(m, 'the Single sign-on section has an ```nginx block');
  return m[1]!;
}

/** Stands in for oauth2-proxy: /oauth2/auth answers 202 with the session's identity, or 401. */
function fakeOauth2Proxy(): Promise<{ server: Server; url: string; authChecks: () => number }> {
  let checks = 0;
  const server = createServer((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    if (path === '/oauth2/auth') {
      checks++;
      const sid = /(?:^|;\s*)_oauth2_proxy=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
      const session = sid === undefined ? undefined : SESSIONS[sid];
      if (!session) {
        res.writeHead(401).end();
        return;
      }
      const headers: Record<string, string> = { 'x-auth-request-user': session.user };
      if (session.email) headers['x-auth-request-email'] = session.email;
      if (session.groups) headers['x-auth-request-groups'] = session.groups;
      res.writeHead(202, headers).end();
      return;
    }
    if (path === '/oauth2/sign_in') {
      res.writeHead(401, { 'content-type': 'text/plain' }).end('sign in at the identity provider');
      return;
    }
    res.writeHead(404).end();
  });
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => resolve({ server, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, authChecks: () => checks }));
  });
}

describe('single sign-on behind nginx (HARROW_AUTH=proxy)', { ...opts, timeout: 120_000 }, () => {
  let c: TestController;
  let nginx: TestNginx;
  let idp: Awaited<ReturnType<typeof fakeOauth2Proxy>>;
  const as = (sid: string, extra: Record<string, string> = {}) => ({ cookie: `_oauth2_proxy=${sid}`, ...extra });

  before(async () => {
    c = await startTestController({ env: { HARROW_AUTH: 'proxy', HARROW_TRUSTED_PROXIES: '127.0.0.2', HARROW_SSO_ROLES: ROLES } });
    idp = await fakeOauth2Proxy();
    const block = await readmeNginxBlock();
    assert.equal(block.split('http://127.0.0.1:4180').length - 1, 2, 'the README block proxies to oauth2-proxy twice');
    assert.equal(block.split('http://127.0.0.1:8080').length - 1, 1, 'the README block proxies to Harrow once');
    const body = block.replaceAll('http://127.0.0.1:4180', idp.url).replaceAll('http://127.0.0.1:8080', c.url);
    nginx = await startNginx(`    proxy_bind 127.0.0.2;\n${body}`);
  });
  after(async () => {
    await nginx?.stop();
    idp?.server.close();
    await c?.close();
  });

  test('without a session nginx sends the sign-in page and Harrow is never asked', async () => {
    const before = idp.authChecks();
    const res = await http(nginx.url, '/api/sweeps');
    assert.equal(res.status, 401, await nginx.errors());
    assert.equal(res.body, 'sign in at the identity provider');
    assert.equal(idp.authChecks(), before + 1, 'nginx asked oauth2-proxy');
  });

  test('a viewer (no mapped group, *=viewer) reads but cannot create; whoami names her', async () => {
    const who = await expectOk(WhoAmISchema, http(nginx.url, '/api/whoami', { headers: as('s-carol') }));
    assert.deepEqual(who, { authRequired: true, identity: { name: 'carol', role: 'viewer', via: 'proxy', email: 'carol@example.com', groups: [], projects: null } });
    await expectOk(z.object({ sweeps: z.array(SweepSummarySchema) }), http(nginx.url, '/api/sweeps', { headers: as('s-carol') }));
    const refused = await expectError(http(nginx.url, '/api/sweeps', { method: 'POST', headers: as('s-carol', { 'content-type': 'text/yaml' }), body: SWEEP }), 403, 'FORBIDDEN');
    assert.match(refused.message, /user 'carol'.*role viewer.*HARROW_SSO_ROLES/);
  });

  test('a member creates a sweep, which records its creator; the audit trail names the user, email, groups and proxy', async () => {
    const sweep = await expectOk(SweepDetailSchema, http(nginx.url, '/api/sweeps', { method: 'POST', headers: as('s-bob', { 'content-type': 'text/yaml' }), body: SWEEP }), 201);
    assert.equal(sweep.createdBy, 'bob');
    const paused = await expectOk(SweepDetailSchema, http(nginx.url, `/api/sweeps/${sweep.id}/pause`, { method: 'POST', headers: as('s-bob') }));
    assert.equal(paused.state, 'paused');
    const audit = await expectOk(AuditResponseSchema, http(nginx.url, `/api/audit?sweep=${sweep.id}`, { headers: as('s-alice') }));
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor, e.role, e.outcome]),
      [
        ['pause', 'bob', 'member', 'ok'],
        ['create', 'bob', 'member', 'ok'],
      ],
    );
    // "From where" is the client nginx served (the test, on 127.0.0.1), not nginx's own address.
    assert.equal(audit.entries[1]!.address, '127.0.0.1');
    const details = audit.entries[1]!.details as { sso?: unknown };
    assert.deepEqual(details.sso, { via: 'proxy', email: 'bob@example.com', groups: ['ml-team'], from: '127.0.0.2' });
    // A member cannot manage tokens.
    await expectError(http(nginx.url, '/api/tokens', { headers: as('s-bob') }), 403, 'FORBIDDEN');
  });

  test('an admin manages tokens; the token then works straight on the controller port, next to the proxy', async () => {
    const created = await expectOk(
      CreatedTokenSchema,
      http(nginx.url, '/api/tokens', { method: 'POST', headers: as('s-alice', { 'content-type': 'application/json' }), body: JSON.stringify({ name: 'ci', role: 'viewer' }) }),
      201,
    );
    assert.equal(created.createdBy, 'alice');
    const list = await expectOk(ListTokensResponseSchema, http(nginx.url, '/api/tokens', { headers: as('s-alice') }));
    assert.deepEqual(list.tokens.map((t) => [t.name, t.role, t.createdBy]), [['ci', 'viewer', 'alice']]);
    const direct = await expectOk(WhoAmISchema, http(c.url, '/api/whoami', { headers: { authorization: `Bearer ${created.token}` } }));
    assert.deepEqual(direct.identity && [direct.identity.name, direct.identity.via], ['ci', 'token']);
    await expectOk(z.object({ sweeps: z.array(SweepSummarySchema) }), http(c.url, '/api/sweeps', { headers: { authorization: `Bearer ${created.token}` } }));
    // ... but forged identity headers next to it are refused all the same.
    await expectError(http(c.url, '/api/sweeps', { headers: { authorization: `Bearer ${created.token}`, 'x-forwarded-user': 'alice' } }), 403, 'FORBIDDEN');
  });

  test('bypassing nginx: forged identity headers straight to the controller port are refused and audited', async () => {
    const forged = { 'x-forwarded-user': 'alice', 'x-forwarded-groups': 'ml-admins', 'x-forwarded-email': 'alice@example.com' };
    const read = await expectError(http(c.url, '/api/sweeps', { headers: forged }), 403, 'FORBIDDEN');
    assert.match(read.message, /only believed from the single-sign-on proxy \(HARROW_TRUSTED_PROXIES\).*came from 127\.0\.0\.1/);
    await expectError(
      http(c.url, '/api/tokens', { method: 'POST', headers: { ...forged, 'content-type': 'application/json' }, body: JSON.stringify({ name: 'evil', role: 'admin' }) }),
      403,
      'FORBIDDEN',
    );
    // Even a header sent by an X-Forwarded-For that names the proxy is not believed: the socket decides.
    await expectError(http(c.url, '/api/sweeps', { headers: { ...forged, 'x-forwarded-for': '127.0.0.2', 'x-real-ip': '127.0.0.2' } }), 403, 'FORBIDDEN');
    const none = await expectError(http(c.url, '/api/sweeps'), 401, 'UNAUTHORIZED');
    assert.match(none.message, /127\.0\.0\.1 is not that proxy.*Authorization: Bearer/);
    // The open parts stay open (a load balancer's health check), even with forged headers.
    assert.equal((await http(c.url, '/healthz', { headers: forged })).status, 200);

    const audit = await expectOk(AuditResponseSchema, http(nginx.url, '/api/audit?outcome=refused', { headers: as('s-alice') }));
    const attempt = audit.entries.find((e) => e.action === 'POST /api/tokens');
    assert.ok(attempt, JSON.stringify(audit.entries));
    assert.equal(attempt.actor, 'unauthenticated');
    assert.equal(attempt.address, '127.0.0.1');
    assert.match(attempt.error ?? '', /x-forwarded-user/);
    const tokens = await expectOk(ListTokensResponseSchema, http(nginx.url, '/api/tokens', { headers: as('s-alice') }));
    assert.ok(!tokens.tokens.some((t) => t.name === 'evil'));
  });

  test('through nginx, a client-written X-Forwarded-For does not change the audited address', async () => {
    await expectOk(SweepDetailSchema, http(nginx.url, '/api/sweeps', { method: 'POST', headers: as('s-bob', { 'content-type': 'text/yaml', 'x-forwarded-for': '203.0.113.9' }), body: SWEEP }), 201);
    const audit = await expectOk(AuditResponseSchema, http(nginx.url, '/api/audit?action=create&actor=bob', { headers: as('s-alice') }));
    assert.equal(audit.entries[0]!.address, '127.0.0.1');
  });

  test('through nginx, identity headers a client sends are replaced, never trusted', async () => {
    const forged = { 'x-forwarded-user': 'alice', 'x-forwarded-groups': 'ml-admins', 'x-forwarded-email': 'alice@example.com' };
    const who = await expectOk(WhoAmISchema, http(nginx.url, '/api/whoami', { headers: as('s-carol', forged) }));
    assert.deepEqual(who.identity, { name: 'carol', role: 'viewer', via: 'proxy', email: 'carol@example.com', groups: [], projects: null });
    await expectError(http(nginx.url, '/api/tokens', { headers: as('s-carol', forged) }), 403, 'FORBIDDEN');
    await expectError(http(nginx.url, '/api/sweeps', { method: 'POST', headers: as('s-carol', { ...forged, 'content-type': 'text/yaml' }), body: SWEEP }), 403, 'FORBIDDEN');
    // A member cannot raise herself either.
    const bob = await expectOk(WhoAmISchema, http(nginx.url, '/api/whoami', { headers: as('s-bob', { 'x-forwarded-groups': 'ml-admins' }) }));
    assert.deepEqual(bob.identity?.groups, ['ml-team']);
    assert.equal(bob.identity?.role, 'member');
  });

  test("the dashboard's event stream opens through nginx on the proxy's identity alone", async () => {
    const { id } = await expectOk(SweepDetailSchema, http(nginx.url, '/api/sweeps', { method: 'POST', headers: as('s-bob', { 'content-type': 'text/yaml' }), body: SWEEP }), 201);
    const abort = new AbortController();
    const res = await fetch(`${nginx.url}/api/sweeps/${id}/events`, { headers: as('s-carol', { accept: 'text/event-stream' }), signal: abort.signal });
    try {
      assert.equal(res.status, 200);
      assert.match(res.headers.get('content-type') ?? '', /text\/event-stream/);
      // The first events (the sweep as it is) come at once, unbuffered by nginx.
      const reader = res.body!.getReader();
      let text = '';
      while (!/\ndata: /.test(text)) {
        const chunk = await reader.read();
        if (chunk.done) break;
        text += Buffer.from(chunk.value).toString();
      }
      assert.match(text, /event: sweep\ndata: \{/);
    } finally {
      abort.abort();
    }
  });

  test('the dashboard through nginx asks for no token and shows who is signed in', { ...needChromium('the single-sign-on dashboard check') }, async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      await context.addCookies([{ name: '_oauth2_proxy', value: 's-bob', url: nginx.url }]);
      const page = await context.newPage();
      page.setDefaultTimeout(15_000);
      await page.goto(`${nginx.url}/`);
      await page.locator('#who').filter({ hasText: 'Signed in as bob (member, single sign-on)' }).waitFor({ state: 'visible' });
      await page.getByText('sso').first().waitFor({ state: 'visible' });
      assert.equal(await page.locator('#token-input').isVisible(), false, 'no token dialog');
    } finally {
      await browser.close();
    }
  });
});
