/**
 * OIDC bearer tokens: the test serves its own issuer on loopback (discovery document and JWKS,
 * keys made with jose), starts a controller in token mode that trusts it, and shows what passes
 * (a valid token, with the role of its groups, next to named tokens and HARROW_TOKEN) and what is
 * refused with a 401 saying why: expired, another audience, another issuer, a bad signature, an
 * unknown key id, `alg: none`, a shared-secret HS256 token, no expiry. Then the issuer rotates its
 * key, and a token signed with the new one is accepted after one fetch of the keys.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { SignJWT, exportJWK, generateKeyPair, type JWK, type JWTPayload, type CryptoKey } from 'jose';
import { z } from 'zod';
import { needServices } from '../../helpers/services.js';
import { expectError, expectOk, http, startTestController, type TestController } from './controller-harness.js';
import { AuditResponseSchema, CreatedTokenSchema, WhoAmISchema } from '../../../protocol/auth-api.js';
import { SweepDetailSchema } from '../../../protocol/api.js';
import { freePort } from '../../helpers/processes.js';

const opts = await needServices();

const ROOT = 'oidc-test-root-token';
const AUDIENCE = 'harrow';
const SWEEP = ['name: oidc', 'method: random', 'run_cap: 1', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

interface SigningKey {
  kid: string;
  privateKey: CryptoKey;
  jwk: JWK;
}

async function newKey(kid: string): Promise<SigningKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256');
  return { kid, privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

/** An issuer: /.well-known/openid-configuration and /jwks, counting the requests for each. */
class TestIssuer {
  server!: Server;
  url = '';
  published: SigningKey[] = [];
  discoveries = 0;
  jwksFetches = 0;

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      if (req.url === '/.well-known/openid-configuration') {
        this.discoveries++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ issuer: this.url, jwks_uri: `${this.url}/jwks`, id_token_signing_alg_values_supported: ['RS256'] }));
      } else if (req.url === '/jwks') {
        this.jwksFetches++;
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ keys: this.published.map((k) => k.jwk) }));
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** A token as this issuer would sign it; `claims` and `options` bend it for the refusals. */
  sign(key: SigningKey, claims: JWTPayload, options: { issuer?: string; audience?: string; expires?: string | number | null; kid?: string } = {}): Promise<string> {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: options.kid ?? key.kid, typ: 'JWT' })
      .setIssuer(options.issuer ?? this.url)
      .setAudience(options.audience ?? AUDIENCE)
      .setSubject(String(claims.sub ?? `sub-${String(claims.preferred_username)}`))
      .setIssuedAt();
    if (options.expires !== null) jwt.setExpirationTime(options.expires ?? '5m');
    return jwt.sign(key.privateKey);
  }
}

const b64 = (o: unknown) => Buffer.from(JSON.stringify(o)).toString('base64url');

describe('OIDC bearer tokens (jose, the test issuer on loopback)', { ...opts, timeout: 60_000 }, () => {
  const issuer = new TestIssuer();
  let c: TestController;
  let k1: SigningKey;
  const bearer = (token: string) => ({ authorization: `Bearer ${token}` });

  before(async () => {
    await issuer.start();
    k1 = await newKey('k1');
    issuer.published = [k1];
    c = await startTestController({
      env: {
        HARROW_TOKEN: ROOT,
        HARROW_OIDC_ISSUER: issuer.url,
        HARROW_OIDC_AUDIENCE: AUDIENCE,
        HARROW_SSO_ROLES: 'ml-admins=admin,ml-team=member,*=viewer',
        // The rotation below must not wait for the default 30 s.
        HARROW_OIDC_JWKS_COOLDOWN_MS: '0',
      },
    });
  });
  after(async () => {
    await c?.close();
    issuer.server?.close();
  });

  test('a valid token: the role of its groups, its user name as creator and in the audit trail; keys fetched once (by discovery)', async () => {
    const bob = await issuer.sign(k1, { preferred_username: 'bob', email: 'bob@example.com', groups: ['ml-team'] });
    const who = await expectOk(WhoAmISchema, http(c.url, '/api/whoami', { headers: bearer(bob) }));
    assert.deepEqual(who.identity, { name: 'bob', role: 'member', via: 'oidc', email: 'bob@example.com', groups: ['ml-team'], projects: null });
    const sweep = await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { ...bearer(bob), 'content-type': 'text/yaml' }, body: SWEEP }), 201);
    assert.equal(sweep.createdBy, 'bob');
    await expectError(http(c.url, '/api/tokens', { headers: bearer(bob) }), 403, 'FORBIDDEN');

    const alice = await issuer.sign(k1, { preferred_username: 'alice', groups: ['ml-admins'] });
    const created = await expectOk(
      CreatedTokenSchema,
      http(c.url, '/api/tokens', { method: 'POST', headers: { ...bearer(alice), 'content-type': 'application/json' }, body: JSON.stringify({ name: 'ci', role: 'viewer' }) }),
      201,
    );
    assert.equal(created.createdBy, 'alice');
    const audit = await expectOk(AuditResponseSchema, http(c.url, `/api/audit?sweep=${sweep.id}`, { headers: bearer(alice) }));
    assert.deepEqual(
      audit.entries.map((e) => [e.action, e.actor, e.role]),
      [['create', 'bob', 'member']],
    );
    assert.deepEqual((audit.entries[0]!.details as { sso?: unknown }).sso, { via: 'oidc', email: 'bob@example.com', groups: ['ml-team'], from: issuer.url, subject: 'sub-bob' });

    // Groups in no mapping: `*` makes a viewer, who reads but cannot create.
    const carol = await issuer.sign(k1, { preferred_username: 'carol', groups: ['finance'] });
    assert.equal((await expectOk(WhoAmISchema, http(c.url, '/api/whoami', { headers: bearer(carol) }))).identity?.role, 'viewer');
    const refused = await expectError(http(c.url, '/api/sweeps', { method: 'POST', headers: { ...bearer(carol), 'content-type': 'text/yaml' }, body: SWEEP }), 403, 'FORBIDDEN');
    assert.match(refused.message, /user 'carol' \(signed in through OIDC, groups: finance\)/);

    // The dashboard's event stream: a ticket issued to an OIDC user opens it without a header.
    const { ticket } = await expectOk(z.object({ ticket: z.string() }), http(c.url, '/api/stream-tickets', { method: 'POST', headers: { ...bearer(bob), 'content-type': 'application/json' }, body: JSON.stringify({ sweep: sweep.id }) }));
    const abort = new AbortController();
    const stream = await fetch(`${c.url}/api/sweeps/${sweep.id}/events?ticket=${encodeURIComponent(ticket)}`, { signal: abort.signal });
    assert.equal(stream.status, 200);
    abort.abort();
    // A ticket cannot be stretched to another sweep.
    const other = await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { ...bearer(bob), 'content-type': 'text/yaml' }, body: SWEEP }), 201);
    await expectError(http(c.url, `/api/sweeps/${other.id}/events?ticket=${encodeURIComponent(ticket)}`), 401, 'UNAUTHORIZED');

    // Named tokens and HARROW_TOKEN work alongside.
    assert.equal((await http(c.url, '/api/sweeps', { headers: bearer(created.token) })).status, 200);
    assert.equal((await http(c.url, '/api/tokens', { headers: bearer(ROOT) })).status, 200);
    assert.equal(issuer.discoveries, 1);
    assert.equal(issuer.jwksFetches, 1, 'the key set is kept between requests');
  });

  test('refusals: each a 401 that says what is wrong', async () => {
    const claims = { preferred_username: 'mallory', groups: ['ml-admins'] };
    const other = await newKey('k1'); // same kid, another key: a forged signature
    const unknown = await newKey('k-unknown');
    const now = Math.floor(Date.now() / 1000);
    const cases: Array<[string, Promise<string> | string, RegExp]> = [
      ['expired', issuer.sign(k1, claims, { expires: now - 3600 }), /expired at 20\d\d-/],
      ['another audience', issuer.sign(k1, claims, { audience: 'grafana' }), /audience is "grafana".*only "harrow" \(HARROW_OIDC_AUDIENCE\)/],
      ['another issuer', issuer.sign(k1, claims, { issuer: 'https://evil.example.com' }), /issued by "https:\/\/evil\.example\.com".*HARROW_OIDC_ISSUER/],
      ['a bad signature', issuer.sign(other, claims), /signature does not verify/],
      ['an unknown kid', issuer.sign(unknown, claims), /no key of the issuer's JWKS matches its key id/],
      ['no expiry', issuer.sign(k1, claims, { expires: null }), /claim exp is missing/],
      ['alg none', `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: issuer.url, aud: AUDIENCE, sub: 'm', exp: now + 300 })}.`, /algorithm is not accepted/],
      ['HS256 with a made-up secret', new SignJWT(claims).setProtectedHeader({ alg: 'HS256', kid: 'k1' }).setIssuer(issuer.url).setAudience(AUDIENCE).setSubject('m').setExpirationTime('5m').sign(new TextEncoder().encode('a-secret-anyone-could-pick-000000')), /algorithm is not accepted/],
      ['a tampered payload', issuer.sign(k1, { preferred_username: 'mallory', groups: ['finance'] }).then((t) => { const [h, , s] = t.split('.'); return `${h}.${b64({ ...claims, iss: issuer.url, aud: AUDIENCE, sub: 'm', exp: now + 300 })}.${s}`; }), /signature does not verify/],
    ];
    for (const [what, token, message] of cases) {
      const err = await expectError(http(c.url, '/api/sweeps', { headers: bearer(await token) }), 401, 'UNAUTHORIZED');
      assert.match(err.message, /^the OIDC token was refused: /, what);
      assert.match(err.message, message, `${what}: ${err.message}`);
    }
  });

  test('key rotation: a token signed with a new key is accepted after one fetch; the retired key no longer is', async () => {
    const k2 = await newKey('k2');
    const before = issuer.jwksFetches;
    const old = await issuer.sign(k1, { preferred_username: 'bob', groups: ['ml-team'] });
    issuer.published = [k2];
    const fresh = await issuer.sign(k2, { preferred_username: 'bob', groups: ['ml-team'] });
    assert.equal((await expectOk(WhoAmISchema, http(c.url, '/api/whoami', { headers: bearer(fresh) }))).identity?.role, 'member');
    assert.equal(issuer.jwksFetches, before + 1, 'the unknown kid k2 made the server fetch the keys once');
    assert.equal((await http(c.url, '/api/sweeps', { headers: bearer(fresh) })).status, 200);
    assert.equal(issuer.jwksFetches, before + 1, 'and then it is kept');
    // The refetched set replaced the old one: the retired key no longer verifies anything.
    const err = await expectError(http(c.url, '/api/sweeps', { headers: bearer(old) }), 401, 'UNAUTHORIZED');
    assert.match(err.message, /no key of the issuer's JWKS matches/);
  });
});

describe('OIDC: an unreachable issuer, OIDC alone turns auth on, and a server that takes no OIDC tokens', { ...opts, timeout: 60_000 }, () => {
  test('an issuer that does not answer is a 503 naming it; without HARROW_OIDC_ISSUER a JWT is a 401 saying so', async () => {
    const key = await newKey('k1');
    const dead = `http://127.0.0.1:${await freePort()}`;
    const token = await new SignJWT({ preferred_username: 'bob' }).setProtectedHeader({ alg: 'RS256', kid: 'k1' }).setIssuer(dead).setAudience(AUDIENCE).setSubject('b').setExpirationTime('5m').sign(key.privateKey);
    const down = await startTestController({ env: { HARROW_TOKEN: ROOT, HARROW_OIDC_ISSUER: dead, HARROW_OIDC_AUDIENCE: AUDIENCE, HARROW_SSO_ROLES: '*=viewer' } });
    try {
      const err = await expectError(http(down.url, '/api/sweeps', { headers: { authorization: `Bearer ${token}` } }), 503, 'IDENTITY_PROVIDER_UNAVAILABLE');
      // The details (which URL, what failed) go to the server log, not to the client.
      assert.match(err.message, /identity provider's keys could not be fetched.*use a named token/);
      assert.equal((await http(down.url, '/api/sweeps', { headers: { authorization: `Bearer ${ROOT}` } })).status, 200, 'other tokens still work');
    } finally {
      await down.close();
    }
    // OIDC alone turns authentication on, even on loopback with no other token.
    const only = await startTestController({ env: { HARROW_OIDC_ISSUER: dead, HARROW_OIDC_AUDIENCE: AUDIENCE, HARROW_SSO_ROLES: '*=viewer' } });
    try {
      await expectError(http(only.url, '/api/sweeps'), 401, 'UNAUTHORIZED');
      await expectError(http(only.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml' }, body: SWEEP }), 401, 'UNAUTHORIZED');
    } finally {
      await only.close();
    }
    const plain = await startTestController({ env: { HARROW_TOKEN: ROOT } });
    try {
      const err = await expectError(http(plain.url, '/api/sweeps', { headers: { authorization: `Bearer ${token}` } }), 401, 'UNAUTHORIZED');
      assert.match(err.message, /looks like a JWT.*HARROW_OIDC_ISSUER is not set/);
    } finally {
      await plain.close();
    }
  });
});
