/**
 * The TLS settings' parsing: the `ca` parameter of REDIS_URL (accepted only with TLS, handed to
 * ioredis/BullMQ as a CA and never as a stray option), the HTTPS pair of the controller, and the
 * phrase each TLS failure is reported with.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadControllerConfig } from '../../../controller/config.js';
import { parseRedisTarget } from '../../../protocol/config-schema.js';
import { bullConnection } from '../../../protocol/redis-connection.js';
import { HarrowError } from '../../../protocol/errors.js';
import { HTTP_TRUST_HINT, tlsProblem } from '../../../protocol/tls-problem.js';

const quiet = (): void => undefined;
const controller = (env: Record<string, string>) => loadControllerConfig(env, quiet);

function configMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (err) {
    if (err instanceof HarrowError && err.code === 'INVALID_CONFIG') return err.message;
    throw err;
  }
  return assert.fail('expected an INVALID_CONFIG error');
}

void test('REDIS_URL takes ca= with rediss:// only, and hands the CA to BullMQ as tls.ca', () => {
  const dir = mkdtempSync(join(tmpdir(), 'harrow-ca-'));
  try {
    const ca = join(dir, 'ca.pem');
    writeFileSync(ca, '-----BEGIN CERTIFICATE-----\nnot really\n-----END CERTIFICATE-----\n');
    assert.doesNotThrow(() => controller({ REDIS_URL: `rediss://:pw@redis:6380/0?ca=${ca}` }));
    assert.match(configMessage(() => controller({ REDIS_URL: `redis://redis:6379?ca=${ca}` })), /REDIS_URL: the ca parameter is for TLS: use a rediss:\/\/ URL/);
    assert.match(configMessage(() => controller({ REDIS_URL: 'rediss://redis:6380?ca=' })), /ca= needs the path of a PEM file/);

    const opts = bullConnection(`rediss://:pw@redis:6380/0?ca=${encodeURIComponent(ca)}`) as { url: string; tls?: { ca: Buffer } };
    assert.equal(opts.url, 'rediss://:pw@redis:6380/0', 'ca= is removed (ioredis would take it for an option)');
    assert.match(opts.tls?.ca.toString() ?? '', /not really/);
    assert.deepEqual(bullConnection('rediss://redis:6380'), { url: 'rediss://redis:6380' });

    const sentinel = parseRedisTarget(`rediss+sentinel://s1:26379/mymaster?ca=${ca}`);
    assert.equal(sentinel.kind === 'sentinel' && sentinel.ca, ca);
    assert.match(configMessage(() => controller({ REDIS_URL: `redis+sentinel://s1:26379/mymaster?ca=${ca}` })), /the ca parameter is for TLS: use rediss\+sentinel/);
    assert.match(configMessage(() => bullConnection(`rediss://redis:6380?ca=${join(dir, 'missing.pem')}`)), /cannot read the CA file of REDIS_URL \(ca=.*missing\.pem\): no such file/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

void test('HTTPS needs both the certificate and the key', () => {
  assert.doesNotThrow(() => controller({ HARROW_TLS_CERT: '/etc/harrow/tls.pem', HARROW_TLS_KEY: '/etc/harrow/tls.key' }));
  assert.match(configMessage(() => controller({ HARROW_TLS_CERT: '/etc/harrow/tls.pem' })), /HTTPS needs both HARROW_TLS_CERT and HARROW_TLS_KEY; HARROW_TLS_KEY is missing/);
  assert.match(configMessage(() => controller({ HARROW_TLS_KEY: '/etc/harrow/tls.key' })), /HARROW_TLS_CERT is missing/);
});

void test('tlsProblem names untrusted, expired, misnamed and non-TLS servers, through wrapped causes', () => {
  const wrap = (cause: object) => Object.assign(new TypeError('fetch failed'), { cause });
  assert.match(tlsProblem(wrap({ code: 'UNABLE_TO_VERIFY_LEAF_SIGNATURE', message: 'unable to verify the first certificate' }), HTTP_TRUST_HINT) ?? '', /not signed by a CA this process trusts \(UNABLE_TO_VERIFY_LEAF_SIGNATURE\); set NODE_EXTRA_CA_CERTS/);
  assert.match(tlsProblem(wrap({ code: 'SELF_SIGNED_CERT_IN_CHAIN' }), 'HINT') ?? '', /SELF_SIGNED_CERT_IN_CHAIN\); HINT$/);
  assert.match(tlsProblem({ code: 'CERT_HAS_EXPIRED' }, 'HINT') ?? '', /not valid now \(CERT_HAS_EXPIRED\)/);
  assert.match(
    tlsProblem(wrap({ code: 'ERR_TLS_CERT_ALTNAME_INVALID', reason: "Host: db.internal. is not in the cert's altnames: DNS:localhost" }), 'HINT') ?? '',
    /not issued for the host name in the URL \(Host: db\.internal\. is not in the cert's altnames: DNS:localhost\)/,
  );
  assert.match(tlsProblem({ code: 'EPROTO', message: 'SSL routines:ssl3_get_record:wrong version number' }, 'HINT') ?? '', /does not speak TLS on that port/);
  assert.equal(tlsProblem(wrap({ code: 'ECONNREFUSED' }), 'HINT'), undefined);
  assert.equal(tlsProblem(new Error('boom'), 'HINT'), undefined);
});
