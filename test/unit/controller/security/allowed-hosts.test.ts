import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AllowedHostsSchema, allowedHosts, describeAllowedHosts, hostAllowed, parseHost, type HostEnvironment } from '../../../../controller/security/allowed-hosts.js';

const machine: HostEnvironment = { hostname: () => 'gpu-box-1', interfaceAddresses: () => ['127.0.0.1', '10.0.0.5', '::1', 'fd00::5'] };

function allows(list: ReturnType<typeof allowedHosts>, host: string): boolean {
  const parsed = parseHost(host);
  return parsed !== undefined && hostAllowed(list, parsed);
}

test('Host headers are normalized as browsers spell them; anything but an authority is no host', () => {
  assert.deepEqual(parseHost('LocalHost.:8080'), { name: 'localhost', port: '8080' });
  assert.deepEqual(parseHost('[0:0::1]:80'), { name: '[::1]', port: '' });
  assert.deepEqual(parseHost('example.com:443', 'https:'), { name: 'example.com', port: '' });
  for (const bad of ['', ' ', 'a b', 'evil.test/x', 'user@localhost', 'localhost?x', 'localhost#x', 'localhost\\x', '[::1', ':8080', 'host:99999']) {
    assert.equal(parseHost(bad), undefined, JSON.stringify(bad));
  }
});

test('defaults: the loopback names and the listen address, on any port; nothing that merely contains them', () => {
  const list = allowedHosts('127.0.0.1', undefined, machine);
  assert.deepEqual(describeAllowedHosts(list), ['localhost', '127.0.0.1', '[::1]']);
  for (const h of ['localhost:8080', 'localhost:9000', '127.0.0.1', '[::1]:8080']) assert.ok(allows(list, h), h);
  for (const h of ['attacker.test:8080', '127.0.0.1.attacker.test', 'localhost.attacker.test:8080', '127.0.0.2:8080', 'gpu-box-1:8080', '10.0.0.5:8080']) assert.ok(!allows(list, h), h);

  assert.deepEqual(describeAllowedHosts(allowedHosts('harrow.lan', undefined, machine)), ['localhost', '127.0.0.1', '[::1]', 'harrow.lan']);
  assert.deepEqual(describeAllowedHosts(allowedHosts('::1', undefined, machine)), ['localhost', '127.0.0.1', '[::1]']);
});

test('a wildcard listen address adds the machine name and its interface addresses', () => {
  for (const wildcard of ['0.0.0.0', '::']) {
    const list = allowedHosts(wildcard, undefined, machine);
    assert.deepEqual(describeAllowedHosts(list), ['localhost', '127.0.0.1', '[::1]', 'gpu-box-1', '10.0.0.5', '[fd00::5]']);
    assert.ok(allows(list, 'gpu-box-1:8080'));
    assert.ok(allows(list, '[fd00::5]:8080'));
    assert.ok(!allows(list, 'attacker.test:8080'));
  }
});

test('HARROW_ALLOWED_HOSTS adds names (a port pins them to it), or `*` for any; bad entries are named', () => {
  const extra = AllowedHostsSchema.parse(' harrow.example.com , pinned.example.com:9443,10.9.8.7, ::2, [::3]:81 ,');
  assert.deepEqual(extra, [
    { name: 'harrow.example.com', port: undefined },
    { name: 'pinned.example.com', port: '9443' },
    { name: '10.9.8.7', port: undefined },
    { name: '[::2]', port: undefined },
    { name: '[::3]', port: '81' },
  ]);
  const list = allowedHosts('127.0.0.1', extra, machine);
  for (const h of ['harrow.example.com', 'HARROW.example.com:8080', 'pinned.example.com:9443', '10.9.8.7:1', '[::2]:5', '[::3]:81', 'localhost:8080']) assert.ok(allows(list, h), h);
  for (const h of ['pinned.example.com', 'pinned.example.com:8080', '[::3]:82', 'sub.harrow.example.com']) assert.ok(!allows(list, h), h);
  // `name:80` is the Host a browser sends without a port.
  assert.ok(allows(allowedHosts('127.0.0.1', AllowedHostsSchema.parse('plain.example:80'), machine), 'plain.example'));

  assert.equal(AllowedHostsSchema.parse('*'), '*');
  assert.equal(allowedHosts('127.0.0.1', '*', machine), '*');
  assert.ok(allows('*', 'anything.test:1'));
  const bad = AllowedHostsSchema.safeParse('ok.example, http://bad.example/, a b');
  assert.equal(bad.success, false);
  assert.deepEqual(
    bad.error.issues.map((i) => i.message.split(' is not')[0]),
    ["'http://bad.example/'", "'a b'"],
  );
  assert.equal(AllowedHostsSchema.safeParse('*, other.example').success, false);
});
