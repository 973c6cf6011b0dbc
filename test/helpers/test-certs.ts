/**
 * Certificates made by Debian's `openssl` for one test, in a temporary directory: a test CA, a
 * server certificate it signs (names given as subjectAltNames, by default 127.0.0.1 and
 * localhost), and a second, unrelated CA for the "wrong CA" cases. EC P-256 keys: quick to make.
 * In CI a missing `openssl` is a failure, not a skip.
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface ServerCert {
  cert: string;
  key: string;
}

export interface TestCerts {
  dir: string;
  /** The test CA's certificate (PEM file) that signed `server`. */
  ca: string;
  /** A certificate for 127.0.0.1 and localhost, signed by `ca`. */
  server: ServerCert;
  /** Another CA, which signed nothing the servers present. */
  wrongCa: string;
  /** Issues another server certificate signed by `ca`, for these subjectAltNames (`IP:…`, `DNS:…`). */
  issue(name: string, altNames: readonly string[]): ServerCert;
  cleanup(): void;
}

/** Why certificates cannot be made here (no openssl), or null. */
export function opensslProblem(): string | null {
  return spawnSync('openssl', ['version']).status === 0 ? null : 'no openssl on PATH (apt-get install openssl)';
}

/** `{ skip }` for node:test when openssl is missing; in CI (CI=true) that is an error instead. */
export function needOpenssl(): { skip?: string } {
  const problem = opensslProblem();
  if (problem === null) return {};
  if (process.env.CI === 'true') throw new Error(`TLS tests need openssl in CI: ${problem}`);
  process.stderr.write(`\n*** skipping TLS tests: ${problem} ***\n\n`);
  return { skip: problem };
}

function openssl(args: string[], cwd: string): void {
  const r = spawnSync('openssl', args, { cwd, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl ${args[0]} failed (${r.status}): ${r.stderr}`);
}

function makeCa(dir: string, name: string): { cert: string; key: string } {
  const key = join(dir, `${name}.key`);
  const cert = join(dir, `${name}.pem`);
  openssl(
    ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', cert, '-days', '2', '-subj', `/CN=Harrow test ${name}`,
      '-addext', 'basicConstraints=critical,CA:TRUE', '-addext', 'keyUsage=critical,keyCertSign,cRLSign'],
    dir,
  );
  return { cert, key };
}

export function makeTestCerts(): TestCerts {
  const dir = mkdtempSync(join(tmpdir(), 'harrow-certs-'));
  const ca = makeCa(dir, 'ca');
  const wrong = makeCa(dir, 'wrong-ca');
  const issue = (name: string, altNames: readonly string[]): ServerCert => {
    const key = join(dir, `${name}.key`);
    const csr = join(dir, `${name}.csr`);
    const cert = join(dir, `${name}.pem`);
    const ext = join(dir, `${name}.ext`);
    writeFileSync(ext, `subjectAltName=${altNames.join(',')}\nextendedKeyUsage=serverAuth\nkeyUsage=critical,digitalSignature,keyEncipherment\nbasicConstraints=CA:FALSE\n`);
    openssl(['req', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-keyout', key, '-out', csr, '-subj', `/CN=${name}`], dir);
    openssl(['x509', '-req', '-in', csr, '-CA', ca.cert, '-CAkey', ca.key, '-CAcreateserial', '-out', cert, '-days', '2', '-extfile', ext], dir);
    return { cert, key };
  };
  return {
    dir,
    ca: ca.cert,
    server: issue('server', ['IP:127.0.0.1', 'DNS:localhost']),
    wrongCa: wrong.cert,
    issue,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}
