/**
 * The loopback check decides from the addresses a name resolves to, not from its spelling. The
 * resolver is injected for names this machine cannot be made to resolve (its /etc/hosts is not
 * ours to edit); the last tests use the real system resolver.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { assertSafeListen, isLoopbackAddress, resolveListenHost, type Lookup } from '../../../../controller/security/loopback.js';
import { HarrowError } from '../../../../protocol/errors.js';

function fakeResolver(table: Record<string, string[]>): Lookup {
  return (host) => {
    const addresses = table[host];
    if (!addresses) return Promise.reject(Object.assign(new Error(`getaddrinfo ENOTFOUND ${host}`), { code: 'ENOTFOUND' }));
    return Promise.resolve(addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 })));
  };
}

const resolver = fakeResolver({
  '127.evil.example': ['93.184.216.34'],
  'localhost.evil.example': ['10.0.0.7'],
  'split.example': ['127.0.0.1', '192.168.1.20'],
  'my-loopback-alias': ['127.0.1.1', '::1'],
  'mapped.example': ['::ffff:127.0.0.1'],
  localhost: ['127.0.0.1', '::1'],
  'empty.example': [],
});

test('loopback addresses: all of 127.0.0.0/8, ::1 and the IPv4-mapped form; nothing else', () => {
  for (const a of ['127.0.0.1', '127.255.255.254', '127.0.1.1', '::1', '0:0:0:0:0:0:0:1', '::ffff:127.0.0.1']) assert.equal(isLoopbackAddress(a), true, a);
  for (const a of ['128.0.0.1', '10.0.0.1', '0.0.0.0', '::', '::ffff:10.0.0.1', 'fe80::1', '127.evil.example', 'localhost', '']) assert.equal(isLoopbackAddress(a), false, a);
});

test('names are judged by every address they resolve to', async () => {
  assert.deepEqual(await resolveListenHost('127.evil.example', resolver), { loopback: false, addresses: ['93.184.216.34'] });
  assert.equal((await resolveListenHost('localhost.evil.example', resolver)).loopback, false);
  assert.equal((await resolveListenHost('split.example', resolver)).loopback, false, 'one public address is enough to refuse');
  assert.equal((await resolveListenHost('empty.example', resolver)).loopback, false);
  assert.equal((await resolveListenHost('my-loopback-alias', resolver)).loopback, true);
  assert.equal((await resolveListenHost('mapped.example', resolver)).loopback, true);
  assert.equal((await resolveListenHost('localhost', resolver)).loopback, true);
});

test('without a token a non-loopback name is refused, naming what it resolved to; a token or --insecure lets it through', async () => {
  await assert.rejects(assertSafeListen('127.evil.example', { token: false, insecure: false }, resolver), (err: unknown) => {
    assert.ok(err instanceof HarrowError);
    assert.equal(err.code, 'INVALID_CONFIG');
    assert.match(err.message, /127\.evil\.example \(93\.184\.216\.34\)/);
    assert.match(err.message, /HARROW_TOKEN/);
    assert.match(err.message, /--insecure/);
    return true;
  });
  await assertSafeListen('127.evil.example', { token: true, insecure: false }, resolver);
  await assertSafeListen('127.evil.example', { token: false, insecure: true }, resolver);
  await assertSafeListen('my-loopback-alias', { token: false, insecure: false }, resolver);
  await assert.rejects(assertSafeListen('nowhere.example', { token: false, insecure: false }, resolver), /cannot resolve the listen address 'nowhere\.example' \(ENOTFOUND\)/);
});

test('with the system resolver: IP literals, localhost, a wildcard, an unresolvable 127.-prefixed name', async () => {
  assert.equal((await resolveListenHost('127.0.0.1')).loopback, true);
  assert.equal((await resolveListenHost('127.0.0.2')).loopback, true);
  assert.equal((await resolveListenHost('::1')).loopback, true);
  assert.equal((await resolveListenHost('[::1]')).loopback, true);
  assert.equal((await resolveListenHost('localhost')).loopback, true);
  assert.deepEqual(await resolveListenHost('0.0.0.0'), { loopback: false, addresses: ['0.0.0.0'] });
  assert.equal((await resolveListenHost('::')).loopback, false);
  assert.equal((await resolveListenHost('10.1.2.3')).loopback, false);
  // `.invalid` never resolves (RFC 6761); the old textual check let this name through.
  await assert.rejects(assertSafeListen('127.0.0.1.invalid', { token: false, insecure: false }), (err: unknown) => err instanceof HarrowError && err.code === 'INVALID_CONFIG');
  await assert.rejects(assertSafeListen('0.0.0.0', { token: false, insecure: false }), /refusing to listen on 0\.0\.0\.0 without a token/);
});
