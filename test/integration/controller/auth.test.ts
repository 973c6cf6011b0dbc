/**
 * The bearer token on mutating routes, and the refusal to listen off loopback without one.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { z } from 'zod';
import { HarrowError } from '../../../protocol/errors.js';
import { SweepDetailSchema, SweepSummarySchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { expectError, expectOk, http, postJson, postYaml, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const TOKEN = 'correct-horse-battery-staple';
const YAML = ['name: auth', 'method: random', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

describe('controller auth (HARROW_TOKEN)', { ...opts, timeout: 30_000 }, () => {
  let c: TestController;

  before(async () => {
    c = await startTestController({ env: { HARROW_TOKEN: TOKEN } });
  });
  after(async () => {
    await c?.close();
  });

  test('POST without a token or with a wrong one → 401 UNAUTHORIZED and nothing happens', async () => {
    const none = await expectError(postYaml(c.url, '/api/sweeps', YAML), 401, 'UNAUTHORIZED');
    assert.match(none.message, /Authorization: Bearer/);
    await expectError(
      http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', authorization: 'Bearer wrong-token-of-same-size!!' }, body: YAML }),
      401,
      'UNAUTHORIZED',
    );
    await expectError(
      http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', authorization: `Bearer ${TOKEN}x` }, body: YAML }),
      401,
      'UNAUTHORIZED',
    );
    await expectError(
      http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', authorization: TOKEN }, body: YAML }),
      401,
      'UNAUTHORIZED',
    );
    // The token is checked before anything else: even an unknown run is a 401, not a 404.
    await expectError(postJson(c.url, '/api/runs/none-1/stop', {}), 401, 'UNAUTHORIZED');
    const list = await expectOk(z.object({ sweeps: z.array(SweepSummarySchema) }), http(c.url, '/api/sweeps', { headers: { authorization: `Bearer ${TOKEN}` } }));
    assert.deepEqual(list.sweeps, [], 'no sweep was created');
  });

  test("/docs: the OpenAPI document marks exactly the routes that refuse a request without the token, so Authorize sends it there", async () => {
    const doc = (await http<{ paths: Record<string, Record<string, { security?: unknown }>>; components?: { securitySchemes?: object } }>(c.url, '/docs/json')).body;
    assert.deepEqual(Object.keys(doc.components?.securitySchemes ?? {}), ['bearer']);
    let secured = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      for (const [method, op] of Object.entries(operations)) {
        // A stream would never end; its method already says it is a read.
        if (path.endsWith('/events')) continue;
        const res = await fetch(`${c.url}${path.replace(/\{[^}]+\}/g, 'nope-1')}`, {
          method: method.toUpperCase(),
          ...(method === 'get' ? {} : { headers: { 'content-type': 'application/json' }, body: '{}' }),
        });
        await res.body?.cancel();
        const refused = res.status === 401;
        assert.deepEqual(op.security, refused ? [{ bearer: [] }] : undefined, `${method.toUpperCase()} ${path} answered ${res.status}`);
        if (refused) secured++;
      }
    }
    assert.ok(secured >= 3, `${secured} routes need the token`);
  });

  test('with the right bearer token POST works; reads need it too (HARROW_TOKEN turns read auth on); /healthz stays open', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    const created = await expectOk(
      SweepDetailSchema,
      http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', ...auth }, body: YAML }),
      201,
    );
    await expectError(http(c.url, `/api/sweeps/${created.id}/pause`, { method: 'POST' }), 401, 'UNAUTHORIZED');
    const paused = await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${created.id}/pause`, { method: 'POST', headers: auth }));
    assert.equal(paused.state, 'paused');

    assert.equal((await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${created.id}`, { headers: auth }))).state, 'paused');
    assert.equal((await http(c.url, `/api/sweeps/${created.id}/best`, { headers: auth })).status, 200);
    await expectError(http(c.url, `/api/sweeps/${created.id}`), 401, 'UNAUTHORIZED');
    await expectError(http(c.url, `/api/sweeps/${created.id}/best`), 401, 'UNAUTHORIZED');
    await expectError(http(c.url, '/metrics'), 401, 'UNAUTHORIZED');
    assert.equal((await http(c.url, '/healthz')).status, 200);
    assert.equal((await http(c.url, '/metrics', { headers: auth })).status, 200);
  });
});

describe('listening off loopback', { ...opts, timeout: 30_000 }, () => {
  test('HARROW_HOST 0.0.0.0 without a token is refused with a message saying what to do', async () => {
    await assert.rejects(
      async () => {
        const c = await startTestController({ env: { HARROW_HOST: '0.0.0.0' } });
        await c.close();
      },
      (err: unknown) => {
        assert.ok(err instanceof HarrowError, String(err));
        assert.equal(err.code, 'INVALID_CONFIG');
        assert.match(err.message, /0\.0\.0\.0/);
        assert.match(err.message, /HARROW_TOKEN/);
        assert.match(err.message, /--insecure/);
        return true;
      },
    );
  });

  test('with { insecure: true } it starts and answers; with a token it starts without it', async () => {
    for (const variant of [{ start: { insecure: true } }, { env: { HARROW_TOKEN: TOKEN } }]) {
      const c = await startTestController({ ...variant, env: { HARROW_HOST: '0.0.0.0', ...variant.env } });
      try {
        assert.match(c.url, /^http:\/\/0\.0\.0\.0:\d+$/);
        const port = new URL(c.url).port;
        const health = await http<{ ok: boolean }>(`http://127.0.0.1:${port}`, '/healthz');
        assert.equal(health.status, 200);
        assert.equal(health.body.ok, true);
      } finally {
        await c.close();
      }
    }
  });
});
