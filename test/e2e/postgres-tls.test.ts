/**
 * Postgres with `sslmode=verify-full`: a private cluster started with ssl=on and a certificate
 * this test makes with openssl (issued for 127.0.0.1 only). `harrow server` with
 * `DATABASE_URL=…?sslmode=verify-full&sslrootcert=ca.pem` migrates and serves over encrypted
 * connections (pg_stat_ssl says so); the wrong CA, no CA, a host name the certificate does not
 * list, and a missing CA file each stop it at start with one line, the password shown as ***.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import pg from 'pg';
import { needServices, REDIS_URL, uniqueName } from '../helpers/services.js';
import { PrivatePostgres, privateServicesProblem } from '../helpers/private-services.js';
import { api, freePort, startHarrow, waitForHttp, type Proc } from '../helpers/processes.js';
import { makeTestCerts, needOpenssl, type TestCerts } from '../helpers/test-certs.js';

const opts = await needServices();
const tlsOpts = needOpenssl();
const problem = privateServicesProblem();
if (problem && process.env.CI === 'true') throw new Error(`the Postgres TLS test needs a private cluster in CI: ${problem}`);
const PASSWORD = 'db-secret-pw';

async function finish(p: Proc, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (code === 'timeout') {
    p.child.kill('SIGKILL');
    throw new Error(`still running after ${timeoutMs} ms:\n${p.output()}`);
  }
  return { code, out: p.output() };
}

describe('Postgres with sslmode=verify-full', { ...opts, ...tlsOpts, ...(problem ? { skip: problem } : {}), timeout: 120_000 }, () => {
  let certs: TestCerts;
  let db: PrivatePostgres;
  const procs: Proc[] = [];
  const prefix = uniqueName('e2e_pg_tls');

  before(async () => {
    certs = makeTestCerts();
    db = await PrivatePostgres.start({ ssl: certs.issue('postgres', ['IP:127.0.0.1']) });
  });
  after(() => {
    for (const p of procs) if (p.child.exitCode === null && p.child.signalCode === null) p.child.kill('SIGKILL');
    db?.destroy();
    certs?.cleanup();
  });

  const url = (host: string, query: string) => `postgres://postgres:${PASSWORD}@${host}:${db.port}/postgres?${query}`;
  const server = async (databaseUrl: string): Promise<{ proc: Proc; base: string }> => {
    const port = await freePort();
    const proc = startHarrow(['server'], { DATABASE_URL: databaseUrl, REDIS_URL, HARROW_PREFIX: prefix, HARROW_PORT: String(port) });
    procs.push(proc);
    return { proc, base: `http://127.0.0.1:${port}` };
  };

  test('verify-full with the right CA: the server migrates, serves, and its connections are encrypted', async () => {
    const { proc, base } = await server(url('127.0.0.1', `sslmode=verify-full&sslrootcert=${certs.ca}`));
    try {
      await waitForHttp(base);
      const sweep = await api<{ id: string }>(base, '/api/sweeps', { method: 'POST', body: JSON.stringify({ config: 'name: tls\nmethod: random\nprogram: t.py\nparameters:\n  x: {min: 0, max: 1}\n' }) });
      assert.ok(sweep.id);
      const check = new pg.Client({ connectionString: db.url });
      await check.connect();
      try {
        const { rows } = await check.query<{ n: number; encrypted: number }>(
          `SELECT count(*)::int AS n, count(*) FILTER (WHERE s.ssl)::int AS encrypted
             FROM pg_stat_activity a JOIN pg_stat_ssl s USING (pid)
            WHERE a.backend_type = 'client backend' AND a.pid <> pg_backend_pid()`,
        );
        assert.ok(rows[0]!.n > 0, 'the controller holds connections');
        assert.equal(rows[0]!.encrypted, rows[0]!.n, `every controller connection uses TLS: ${JSON.stringify(rows)}`);
      } finally {
        await check.end();
      }
    } finally {
      proc.child.kill('SIGTERM');
      await proc.exited;
    }
  });

  test('the wrong CA, no CA, a host name not in the certificate, a missing CA file: one line at start', async () => {
    const cases: Array<[string, RegExp]> = [
      [url('127.0.0.1', `sslmode=verify-full&sslrootcert=${certs.wrongCa}`), /not signed by a CA this process trusts \(\w+\); add sslrootcert=/],
      [url('127.0.0.1', 'sslmode=verify-full'), /not signed by a CA this process trusts/],
      [url('localhost', `sslmode=verify-full&sslrootcert=${certs.ca}`), /not issued for the host name in the URL \(Host: localhost\b/],
      [url('127.0.0.1', `sslmode=verify-full&sslrootcert=${join(certs.dir, 'missing.pem')}`), /cannot read .*missing\.pem \(sslrootcert, sslcert or sslkey of DATABASE_URL\): no such file/],
    ];
    for (const [databaseUrl, expected] of cases) {
      const started = Date.now();
      const { proc } = await server(databaseUrl);
      const r = await finish(proc, 40_000);
      const out = r.out.trim();
      assert.equal(r.code, 1, out);
      assert.equal(out.split('\n').length, 1, out);
      assert.match(out, /^harrow server: cannot use the database at postgres:\/\/postgres:\*\*\*@/, out);
      assert.match(out, expected, out);
      assert.ok(!out.includes(PASSWORD), `password shown: ${out}`);
      // Not retried for the 30 s an outage gets: a certificate does not fix itself.
      assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms`);
    }
  });
});
