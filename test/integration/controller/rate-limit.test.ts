/**
 * Rate limits over real HTTP: per token when a request carries one (a busy colleague does not
 * throttle you), per address otherwise; a clear 429 with Retry-After; /healthz and the agent
 * protocol never limited.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreatedTokenSchema } from '../../../protocol/auth-api.js';
import { needServices } from '../../helpers/services.js';
import { expectError, expectOk, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();
const ROOT = 'root-token-for-rate-limits';
const bearer = (t: string) => ({ authorization: `Bearer ${t}` });

describe('rate limits', { ...opts, timeout: 120_000 }, () => {
  let c: TestController;
  const tokens: Record<'alice' | 'bob' | 'agent', string> = { alice: '', bob: '', agent: '' };
  before(async () => {
    c = await startTestController({ env: { HARROW_TOKEN: ROOT, HARROW_RATE_LIMIT: '6/min' } });
    for (const [name, role] of [['alice', 'viewer'], ['bob', 'viewer'], ['agent', 'agent']] as const) {
      tokens[name] = (
        await expectOk(CreatedTokenSchema, http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ROOT) }, body: JSON.stringify({ name, role }) }), 201)
      ).token;
    }
  });
  after(async () => {
    await c?.close();
  });

  test('per token: the 7th request in a minute is refused with 429 and Retry-After; another token is not affected', async () => {
    for (let i = 1; i <= 6; i++) {
      const res = await http(c.url, '/api/sweeps', { headers: bearer(tokens.alice) });
      assert.equal(res.status, 200, `request ${i}`);
    }
    const refused = await fetch(`${c.url}/api/sweeps`, { headers: bearer(tokens.alice) });
    assert.equal(refused.status, 429);
    const retryAfter = Number(refused.headers.get('retry-after'));
    assert.ok(retryAfter >= 1 && retryAfter <= 60, `Retry-After in seconds: ${refused.headers.get('retry-after')}`);
    const body = (await refused.json()) as { code: string; message: string; details: { retryAfterSeconds: number } };
    assert.equal(body.code, 'RATE_LIMITED');
    assert.match(body.message, /at most 6 per minute for this token; retry in .*HARROW_RATE_LIMIT/);
    assert.equal(body.details.retryAfterSeconds, retryAfter);
    await expectError(http(c.url, '/api/sweeps/abc', { headers: bearer(tokens.alice) }), 429, 'RATE_LIMITED');
    assert.equal((await http(c.url, '/api/sweeps', { headers: bearer(tokens.bob) })).status, 200, "bob's quota is his own");
  });

  test('never limited: /healthz, the dashboard, and the agent protocol (reports carry results)', async () => {
    for (let i = 0; i < 20; i++) {
      assert.equal((await http(c.url, '/healthz')).status, 200);
      assert.equal((await http(c.url, '/')).status, 200);
      // An empty body is refused as invalid: the point is that it is never a 429.
      const res = await http(c.url, '/api/agent/v1/sweeps/nope/reports', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.agent) }, body: '{}' });
      assert.notEqual(res.status, 429, `agent request ${i}: ${res.status}`);
    }
  });

  test('without a token (authentication off) requests count per client address', async () => {
    const open = await startTestController({ env: { HARROW_RATE_LIMIT: '3/s' } });
    try {
      const statuses: number[] = [];
      for (let i = 0; i < 5; i++) statuses.push((await http(open.url, '/api/sweeps')).status);
      assert.deepEqual(statuses.slice(0, 3), [200, 200, 200]);
      assert.equal(statuses[4], 429);
      const res = await expectError(http(open.url, '/api/sweeps'), 429, 'RATE_LIMITED');
      assert.match(res.message, /per second for this address/);
    } finally {
      await open.close();
    }
  });
});
