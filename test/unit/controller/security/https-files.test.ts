/**
 * The HTTPS files are checked before the server starts: a missing file, a file that is not PEM and
 * a key that is not the certificate's are refused with the variable, the path and the fix; a key
 * file others may read is accepted with a warning. Certificates come from openssl.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadHttpsFiles } from '../../../../controller/security/https-files.js';
import { HarrowError } from '../../../../protocol/errors.js';
import { makeTestCerts, needOpenssl, type TestCerts } from '../../../helpers/test-certs.js';

function refusal(files: { HARROW_TLS_CERT: string; HARROW_TLS_KEY: string }): string {
  try {
    loadHttpsFiles(files);
  } catch (err) {
    if (err instanceof HarrowError && err.code === 'INVALID_CONFIG') return err.message;
    throw err;
  }
  return assert.fail('expected INVALID_CONFIG');
}

describe('HTTPS files', needOpenssl(), () => {
  let certs: TestCerts;
  before(() => {
    certs = makeTestCerts();
  });
  after(() => certs?.cleanup());

  test('a matching pair loads; none configured is plain HTTP', () => {
    chmodSync(certs.server.key, 0o600);
    const files = loadHttpsFiles({ HARROW_TLS_CERT: certs.server.cert, HARROW_TLS_KEY: certs.server.key });
    assert.match(files?.cert.toString() ?? '', /BEGIN CERTIFICATE/);
    assert.deepEqual(files?.warnings, []);
    assert.equal(loadHttpsFiles({ HARROW_TLS_CERT: undefined, HARROW_TLS_KEY: undefined }), undefined);
  });

  test('a key that is not the certificate’s, a missing file, a file that is not PEM', () => {
    assert.match(
      refusal({ HARROW_TLS_CERT: certs.server.cert, HARROW_TLS_KEY: join(certs.dir, 'wrong-ca.key') }),
      /^HARROW_TLS_KEY \(.*wrong-ca\.key\) is not the private key of the certificate in HARROW_TLS_CERT \(.*server\.pem\)/,
    );
    assert.match(refusal({ HARROW_TLS_CERT: join(certs.dir, 'nope.pem'), HARROW_TLS_KEY: certs.server.key }), /^cannot read HARROW_TLS_CERT \(.*nope\.pem\): no such file/);
    assert.match(refusal({ HARROW_TLS_CERT: certs.server.cert, HARROW_TLS_KEY: certs.dir }), /^cannot read HARROW_TLS_KEY \(.*\): it is a directory/);
    const junk = join(certs.dir, 'junk.pem');
    writeFileSync(junk, 'not a certificate\n');
    assert.match(refusal({ HARROW_TLS_CERT: junk, HARROW_TLS_KEY: certs.server.key }), /HARROW_TLS_CERT|PEM/);
  });

  test('a key file others may read is a warning', () => {
    chmodSync(certs.server.key, 0o644);
    const files = loadHttpsFiles({ HARROW_TLS_CERT: certs.server.cert, HARROW_TLS_KEY: certs.server.key });
    assert.match(files?.warnings[0] ?? '', /HARROW_TLS_KEY \(.*server\.key\) can be read by other users \(mode 644\); chmod 600 it/);
  });
});
