/**
 * `harrow server` as a user starts it, with passwords in both URLs and an API token: nothing it
 * writes, at info level and in either log format, contains them. (It used to log REDIS_URL whole.)
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { freePort, startHarrow, waitFor, waitForHttp, type Proc } from '../../helpers/processes.js';
import { freshPostgres, needServices, REDIS_URL, uniqueName } from '../../helpers/services.js';

const REDIS_PASSWORD = 'r3dis-Pa55word-xyz';
const DB_PASSWORD = 'pg-Pa55word-abc';
const TOKEN = 'api-token-0123456789abcdef';

function withPassword(url: string, password: string, user = ''): string {
  const u = new URL(url);
  if (user) u.username = user;
  u.password = password;
  return u.toString();
}

describe('harrow server never logs a password or a token', async () => {
  const skip = await needServices();
  let pg: Awaited<ReturnType<typeof freshPostgres>> | undefined;
  const procs: Proc[] = [];
  before(async () => {
    if (skip.skip) return;
    pg = await freshPostgres('secrets');
  });
  after(async () => {
    for (const p of procs) if (p.child.exitCode === null) p.child.kill('SIGKILL');
    await pg?.drop();
  });

  for (const format of ['json', 'pretty'] as const) {
    test(`HARROW_LOG_FORMAT=${format}`, { ...skip, timeout: 60_000 }, async () => {
      const port = await freePort();
      // Postgres here trusts local connections and Redis has no password: both ignore the
      // passwords (ioredis only warns), so the server starts and logs as usual.
      const proc = startHarrow(['server'], {
        DATABASE_URL: withPassword(pg!.url, DB_PASSWORD, 'postgres'),
        REDIS_URL: withPassword(REDIS_URL, REDIS_PASSWORD),
        HARROW_PREFIX: uniqueName('secrets'),
        HARROW_TOKEN: TOKEN,
        HARROW_PORT: String(port),
        HARROW_LOG_LEVEL: 'debug',
        HARROW_LOG_FORMAT: format,
      });
      procs.push(proc);
      const url = `http://127.0.0.1:${port}`;
      await waitForHttp(url);
      await waitFor('the start log line', () => Promise.resolve(/harrow controller listening/.test(proc.output())));
      // A refused request logs too (with the header it refused).
      await fetch(`${url}/api/sweeps`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}x` }, body: '{}' });
      proc.child.kill('SIGTERM');
      await proc.exited;
      const out = proc.output();
      assert.match(out, /redis/, 'the start line names Redis');
      for (const secret of [REDIS_PASSWORD, DB_PASSWORD, TOKEN]) assert.ok(!out.includes(secret), `output contains ${secret}:\n${out}`);
    });
  }
});
