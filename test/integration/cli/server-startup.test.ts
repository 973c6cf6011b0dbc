/**
 * `harrow server` that cannot start says why in one line on stderr and exits with status 1,
 * instead of "unexpected error (a bug …)" and a process that keeps running, serving nothing.
 * Each case is a real process against a real obstacle: a port another process holds, a host
 * name that does not resolve, a Postgres and a Redis that refuse connections (their URLs carry a
 * password, which must not be printed).
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import net from 'node:net';
import { BIN, ROOT, freePort } from '../../helpers/processes.js';
import { REDIS_URL, freshPostgres, needServices } from '../../helpers/services.js';

const opts = await needServices();

interface Outcome {
  code: number | null;
  stderr: string;
  ms: number;
}

function server(env: Record<string, string>): Promise<Outcome> {
  const started = Date.now();
  const child = spawn(process.execPath, [BIN, 'server'], {
    cwd: ROOT,
    env: { ...process.env, HARROW_LOG_LEVEL: 'silent', HARROW_PREFIX: `startup${process.pid}`, REDIS_URL, ...env },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  // A server that keeps running is the bug: it would hang here until the test's timeout.
  const killer = setTimeout(() => child.kill('SIGKILL'), 90_000);
  return new Promise((resolve) =>
    child.on('exit', (code) => {
      clearTimeout(killer);
      resolve({ code, stderr, ms: Date.now() - started });
    }),
  );
}

function oneLine(o: Outcome, pattern: RegExp): void {
  const lines = o.stderr.trim().split('\n');
  assert.equal(o.code, 1, `exit code ${o.code}; stderr:\n${o.stderr}`);
  assert.equal(lines.length, 1, `expected one line, got:\n${o.stderr}`);
  assert.match(lines[0]!, /^harrow server: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(o.stderr, /unexpected error|a bug|\n\s+at /);
}

describe('harrow server: startup failures are one line and exit 1', { ...opts, timeout: 180_000 }, () => {
  let pg: Awaited<ReturnType<typeof freshPostgres>>;
  before(async () => {
    pg = await freshPostgres('startup');
  });
  after(async () => {
    await pg?.drop();
  });

  test('port in use, unresolvable host, unreachable Postgres and Redis (run side by side)', async () => {
    const holder = net.createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const busy = (holder.address() as net.AddressInfo).port;
    const deadPort = await freePort();
    try {
      const [inUse, badHost, noPostgres, noRedis] = await Promise.all([
        server({ DATABASE_URL: pg.url, HARROW_PORT: String(busy) }),
        server({ DATABASE_URL: pg.url, HARROW_HOST: 'no-such-host.invalid', HARROW_TOKEN: 'a-long-token' }),
        server({ DATABASE_URL: `postgres://harrow:pg-s3cret@127.0.0.1:${deadPort}/test`, HARROW_PORT: '0' }),
        server({ DATABASE_URL: pg.url, REDIS_URL: `redis://:redis-s3cret@127.0.0.1:${deadPort}`, HARROW_PORT: '0' }),
      ]);
      oneLine(inUse, new RegExp(`127\\.0\\.0\\.1:${busy}: the port is already in use`));
      oneLine(badHost, /no-such-host\.invalid: the host name does not resolve/);
      oneLine(noPostgres, /cannot use the database at postgres:\/\/harrow:\*\*\*@127\.0\.0\.1:\d+\/test: .*ECONNREFUSED/);
      oneLine(noRedis, /cannot reach Redis at redis:\/\/:\*\*\*@127\.0\.0\.1:\d+ after 15 s: .*ECONNREFUSED/);
      for (const o of [noPostgres, noRedis]) assert.doesNotMatch(o.stderr, /s3cret/);
      console.log(`startup failures reported after: port ${inUse.ms} ms, host ${badHost.ms} ms, postgres ${noPostgres.ms} ms, redis ${noRedis.ms} ms`);
    } finally {
      await new Promise((resolve) => holder.close(resolve));
    }
  });
});
