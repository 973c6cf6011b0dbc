import { test } from 'node:test';
import assert from 'node:assert/strict';
import { docsCsp } from '../../../../controller/security/protection.js';

test("docsCsp: Swagger UI's policy without the HTTPS upgrade, styles from the page itself, no framing; scripts untouched", () => {
  const swagger =
    "default-src 'self'; base-uri 'self'; font-src 'self' https: data:; frame-ancestors 'self'; img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self' 'sha256-abc='; script-src-attr 'none'; style-src 'self' https: 'sha256-def='; upgrade-insecure-requests;";
  assert.equal(
    docsCsp(swagger),
    "default-src 'self'; base-uri 'self'; font-src 'self' data:; frame-ancestors 'none'; img-src 'self' data: validator.swagger.io; object-src 'none'; script-src 'self' 'sha256-abc='; script-src-attr 'none'; style-src 'self' 'unsafe-inline'",
  );
});
