/**
 * The single-sign-on settings: role maps, trusted proxy lists, header names and issuer URLs, and
 * the combinations the controller refuses at start.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadControllerConfig } from '../../../../controller/config.js';
import { HeaderNameSchema, IssuerUrlSchema, RoleMapSchema, TrustedProxiesSchema, roleOfGroups } from '../../../../controller/security/sso-config.js';
import { looksLikeJwt } from '../../../../controller/security/oidc-verifier.js';
import { HarrowError } from '../../../../protocol/errors.js';

const quiet = (): void => undefined;
const load = (env: Record<string, string>) => loadControllerConfig(env, quiet);

function configError(env: Record<string, string>): string {
  try {
    load(env);
  } catch (err) {
    if (err instanceof HarrowError && err.code === 'INVALID_CONFIG') return err.message;
    throw err;
  }
  assert.fail(`expected INVALID_CONFIG for ${JSON.stringify(env)}`);
}

void test('role map: the highest role among the groups wins; * is everyone; no match and no * is null', () => {
  const map = RoleMapSchema.parse('ml-admins=admin, ml-team=member ,*=viewer');
  assert.equal(roleOfGroups(map, ['ml-team', 'ml-admins']), 'admin');
  assert.equal(roleOfGroups(map, ['ml-team', 'other']), 'member');
  assert.equal(roleOfGroups(map, []), 'viewer');
  const strict = RoleMapSchema.parse('ml-admins=admin,ml-team=member');
  assert.equal(roleOfGroups(strict, ['other']), null);
  assert.equal(roleOfGroups(strict, ['ML-TEAM']), null, 'group names are compared exactly');
  // Group names with '=' keep everything up to the last '='.
  assert.equal(roleOfGroups(RoleMapSchema.parse('cn=ml,ou=x=admin'.replace(',', ';')), ['cn=ml;ou=x']), 'admin');
});

void test('role map: bad entries are refused, each with what to write', () => {
  for (const [text, pattern] of [
    ['ml-admins', /not group=role/],
    ['ml-admins=root', /must be viewer, member, admin/],
    ['bots=agent', /agents use named tokens/],
    ['a=admin,a=viewer', /"a" is given twice/],
    ['*=viewer,*=member', /\* is given twice/],
    ['=admin', /not group=role/],
  ] as const) {
    const r = RoleMapSchema.safeParse(text);
    assert.ok(!r.success, text);
    assert.match(r.error.issues.map((i) => i.message).join('; '), pattern, text);
  }
});

void test('trusted proxies: addresses and CIDR ranges, IPv4-mapped IPv6 peers match IPv4 entries, names refused', () => {
  const t = TrustedProxiesSchema.parse('127.0.0.2, 10.0.0.0/8,fd00::/8');
  assert.ok(t.has('127.0.0.2'));
  assert.ok(t.has('::ffff:127.0.0.2'), 'a dual-stack socket reports IPv4 peers this way');
  assert.ok(!t.has('127.0.0.1'));
  assert.ok(t.has('10.200.3.4'));
  assert.ok(!t.has('11.0.0.1'));
  assert.ok(t.has('fd12::1'));
  assert.ok(!t.has('fe80::1'));
  assert.ok(!t.has(undefined));
  for (const [text, pattern] of [
    ['proxy.example.com', /not an IP address or CIDR range.*host names are not accepted/],
    ['10.0.0.0/33', /prefix length must be 0 to 32/],
    ['fd00::/129', /prefix length must be 0 to 128/],
    ['10.0.0.0/8/1', /not an IP address/],
    ['', /not an IP address/],
  ] as const) {
    const r = TrustedProxiesSchema.safeParse(text);
    assert.ok(!r.success, text);
    assert.match(r.error.issues[0]!.message, pattern, text);
  }
});

void test('header names are lower-cased tokens; Authorization, Cookie and Host are refused', () => {
  assert.equal(HeaderNameSchema.parse('X-Auth-Request-User'), 'x-auth-request-user');
  assert.ok(!HeaderNameSchema.safeParse('X User').success);
  assert.ok(!HeaderNameSchema.safeParse('Authorization').success);
  assert.ok(!HeaderNameSchema.safeParse('cookie').success);
});

void test('issuer URLs: https, or http on loopback only', () => {
  const s = IssuerUrlSchema('HARROW_OIDC_ISSUER');
  assert.ok(s.safeParse('https://login.example.com/realms/ml').success);
  assert.ok(s.safeParse('http://127.0.0.1:9000').success);
  assert.ok(s.safeParse('http://localhost:9000/x').success);
  const r = s.safeParse('http://login.example.com');
  assert.ok(!r.success);
  assert.match(r.error.issues[0]!.message, /https:\/\/.*replace the signing keys/);
  assert.ok(!s.safeParse('not a url').success);
});

void test('controller config: proxy mode and OIDC need their companions, and each refusal says what to set', () => {
  const roles = 'ml-team=member';
  assert.match(configError({ HARROW_AUTH: 'proxy', HARROW_SSO_ROLES: roles }), /HARROW_AUTH=proxy needs HARROW_TRUSTED_PROXIES/);
  assert.match(configError({ HARROW_AUTH: 'proxy', HARROW_TRUSTED_PROXIES: '10.0.0.1' }), /HARROW_AUTH=proxy needs HARROW_SSO_ROLES/);
  assert.match(configError({ HARROW_AUTH: 'token', HARROW_TRUSTED_PROXIES: '10.0.0.1' }), /only read with HARROW_AUTH=proxy/);
  assert.match(configError({ HARROW_SSO_ROLES: roles }), /HARROW_SSO_ROLES is only read with/);
  assert.match(configError({ HARROW_OIDC_ISSUER: 'https://id.example.com', HARROW_SSO_ROLES: roles }), /needs HARROW_OIDC_AUDIENCE/);
  assert.match(configError({ HARROW_OIDC_ISSUER: 'https://id.example.com', HARROW_OIDC_AUDIENCE: 'harrow' }), /needs HARROW_SSO_ROLES/);
  assert.match(configError({ HARROW_OIDC_AUDIENCE: 'harrow' }), /only read with HARROW_OIDC_ISSUER/);
  assert.match(configError({ HARROW_AUTH: 'off', HARROW_OIDC_ISSUER: 'https://id.example.com', HARROW_OIDC_AUDIENCE: 'a', HARROW_SSO_ROLES: roles }), /HARROW_AUTH=off/);
  assert.match(configError({ HARROW_AUTH: 'proxy', HARROW_TRUSTED_PROXIES: 'proxy.lan', HARROW_SSO_ROLES: roles }), /HARROW_TRUSTED_PROXIES="proxy.lan".*host names/);
  assert.match(configError({ HARROW_AUTH: 'sso' }), /HARROW_AUTH="sso": use off, token, proxy/);
  const c = load({ HARROW_AUTH: 'proxy', HARROW_TRUSTED_PROXIES: '10.0.0.1', HARROW_SSO_ROLES: roles, HARROW_PROXY_USER_HEADER: 'X-Auth-Request-User' });
  assert.equal(c.HARROW_PROXY_USER_HEADER, 'x-auth-request-user');
  assert.equal(c.HARROW_PROXY_GROUPS_HEADER, 'x-forwarded-groups');
});

void test('a JWT is recognised by its shape; named tokens and HARROW_TOKEN-like strings are not', () => {
  assert.ok(looksLikeJwt('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJ4In0.c2ln'));
  assert.ok(looksLikeJwt('eyJhbGciOiJub25lIn0.eyJzdWIiOiJ4In0.'), 'an unsigned token is still a JWT, to be refused as one');
  assert.ok(!looksLikeJwt(`hrw_0123456789abcdef_${'a'.repeat(43)}`));
  assert.ok(!looksLikeJwt('correct-horse-battery-staple'));
});
