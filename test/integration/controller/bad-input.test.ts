/**
 * Every bad input gets a 4xx with a clear message, and a read while the database is down gets a
 * 503 DATABASE_UNAVAILABLE: never a 500. Each case here answered 500 (or a wrong 400) before.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { rm } from 'node:fs/promises';
import { ListRunsResponseSchema } from '../../../protocol/api.js';
import { validateSweepConfig } from '../../../strategies/index.js';
import { PG_URL, freshPostgres, needServices } from '../../helpers/services.js';
import { CuttableProxy, waitFor } from '../../helpers/processes.js';
import { FakeAgent, createSweep, deletePrefix, expectError, expectOk, http, postJson, postYaml, settled, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const YAML = 'method: random\nprogram: train.py\nparameters:\n  x: {min: 0.0, max: 1.0}\n';

/** Every route that takes an id, with its method. */
const ID_ROUTES: Array<[string, string]> = [
  ['GET', '/api/sweeps/:id'],
  ['GET', '/api/sweeps/:id/runs'],
  ['GET', '/api/sweeps/:id/best'],
  ['GET', '/api/sweeps/:id/events'],
  ['POST', '/api/sweeps/:id/pause'],
  ['POST', '/api/sweeps/:id/resume'],
  ['POST', '/api/sweeps/:id/stop'],
  ['POST', '/api/sweeps/:id/cancel'],
  ['GET', '/api/runs/:id'],
  ['GET', '/api/runs/:id/metrics'],
  ['POST', '/api/runs/:id/stop'],
];

function request(method: string): RequestInit {
  return method === 'POST' ? { method, headers: { 'content-type': 'application/json' }, body: '{}' } : { method };
}

describe('bad input answers 4xx, never 500', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  before(async () => {
    c = await startTestController();
  });
  after(async () => {
    await c?.close();
  });

  test('%00 and other impossible ids on every route: 400 naming the id', async () => {
    for (const [method, route] of ID_ROUTES) {
      for (const id of ['%00', '%F0%9F%98%80', 'a%20b', 'x'.repeat(101), 'x'.repeat(5000), '%', '%E0%A4%A']) {
        const e = await expectError(http(c.url, route.replace(':id', id), request(method)), 400, 'INVALID_REQUEST');
        assert.match(e.message, /params\.id|URL/, `${method} ${route} with ${id}`);
      }
    }
  });

  test('query values out of range or unstorable: ?attempt= ≥ 2^31, ?name=%00, ?offset= ≥ 2^31', async () => {
    const s = await createSweep(c.url, YAML);
    const agent = new FakeAgent(c.redis, c.keys, s.id);
    await agent.advertise(1);
    const runs = await waitFor('a queued run', async () => {
      const r = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${s.id}/runs`));
      return settled(r, 1) ? r : undefined;
    });
    const run = runs.runs[0]!.id;
    for (const q of ['attempt=2147483648', 'attempt=99999999999999999999', 'name=%00', 'name=a%00b', `name=${'m,'.repeat(101)}`]) {
      const e = await expectError(http(c.url, `/api/runs/${run}/metrics?${q}`), 400, 'INVALID_REQUEST');
      assert.match(e.message, /query\.(attempt|name)/);
    }
    await expectError(http(c.url, `/api/sweeps/${s.id}/runs?offset=2147483648`), 400, 'INVALID_REQUEST');
    await expectError(http(c.url, `/api/sweeps?state=${'x'.repeat(201)}`), 400, 'INVALID_REQUEST');
    // The largest valid values still answer.
    const ok = await http(c.url, `/api/runs/${run}/metrics?attempt=2147483647`);
    assert.equal(ok.status, 200, ok.text);
  });

  test('NUL or lone-surrogate text in a sweep file: 400 INVALID_SWEEP_CONFIG, as `harrow validate` says', async () => {
    const files: Array<string | Record<string, unknown>> = [
      'method: random\nprogram: "t\\0.py"\nparameters:\n  x: {values: [1]}\n',
      'method: random\nprogram: t.py\nparameters:\n  x: {values: ["\\ud800"]}\n',
      'method: random\nprogram: t.py\nparameters:\n  "x\\0": {values: [1]}\n',
      'method: random\nprogram: t.py\nmetric: {name: "lo\\0ss", goal: minimize}\nparameters:\n  x: {values: [1]}\n',
      { method: 'random', program: 't.py', parameters: { x: { values: ['\u0000'] } } },
      { method: 'random', program: 't.py', parameters: { x: { value: { ['k\udfff']: 1 } } } },
      { method: 'random', program: 't.py', description: 'x\ud800', parameters: { x: { values: [1] } } },
    ];
    for (const file of files) {
      assert.equal(validateSweepConfig(file).valid, false);
      await expectError(postJson(c.url, '/api/sweeps', { config: file }), 400, 'INVALID_SWEEP_CONFIG');
      if (typeof file === 'string') await expectError(postYaml(c.url, '/api/sweeps', file), 400, 'INVALID_SWEEP_CONFIG');
    }
    await expectError(postJson(c.url, '/api/sweeps', { config: YAML, name: 'a\u0000' }), 400, 'INVALID_REQUEST');
    await expectError(postJson(c.url, '/api/sweeps', { config: YAML, name: '\ud800' }), 400, 'INVALID_REQUEST');
    const s = await createSweep(c.url, YAML);
    await expectError(postJson(c.url, `/api/sweeps/${s.id}/runs`, {}), 404, 'ROUTE_NOT_FOUND');
  });

  test('counts that do not fit their column: run_cap and grids past 2^31 - 1', async () => {
    await expectError(postYaml(c.url, '/api/sweeps', `run_cap: 3000000000\n${YAML}`), 400, 'INVALID_SWEEP_CONFIG');
    const grid = `method: grid\nprogram: t.py\nparameters:\n${[0, 1, 2, 3, 4].map((i) => `  p${i}: {min: 1, max: 100}\n`).join('')}`;
    await expectError(postYaml(c.url, '/api/sweeps', grid), 400, 'INVALID_SWEEP_CONFIG');
  });

  test('an oversized body is 413, an unsupported content type 415', async () => {
    const big = await expectError(postYaml(c.url, '/api/sweeps', `# ${'x'.repeat(3 * 1024 * 1024)}\n${YAML}`), 413, 'PAYLOAD_TOO_LARGE');
    assert.match(big.message, /larger than 2 MB/);
    for (const type of ['application/xml', 'multipart/form-data; boundary=x', 'image/png']) {
      const e = await expectError(http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': type }, body: '<sweep/>' }), 415, 'UNSUPPORTED_MEDIA_TYPE');
      assert.match(e.message, /application\/json/);
    }
  });
});

describe('reads while the database is down answer 503 DATABASE_UNAVAILABLE', { ...opts, timeout: 60_000 }, () => {
  test('Postgres cut off (a real network cut through a proxy)', async () => {
    const target = new URL(PG_URL);
    const proxy = new CuttableProxy(target.hostname, Number(target.port || 5432));
    await proxy.start();
    const pg = await freshPostgres('down');
    const viaProxy = new URL(pg.url);
    viaProxy.port = String(proxy.port);
    // 'pglite' only makes the harness skip its own schema: DATABASE_URL set means Postgres.
    const d = await startTestController({ backend: 'pglite', env: { DATABASE_URL: viaProxy.toString() } });
    try {
      const s = await createSweep(d.url, YAML);
      proxy.cutOff();
      for (const path of ['/api/sweeps', `/api/sweeps/${s.id}`, `/api/sweeps/${s.id}/runs`, `/api/sweeps/${s.id}/best`, `/api/runs/${s.id}-1`, `/api/runs/${s.id}-1/metrics`]) {
        const e = await expectError(http(d.url, path), 503, 'DATABASE_UNAVAILABLE');
        assert.match(e.message, /database is unreachable.*Try again/);
      }
      await expectError(postYaml(d.url, '/api/sweeps', YAML), 503, 'DATABASE_UNAVAILABLE');
      const health = await http<{ database: string }>(d.url, '/healthz');
      assert.equal(health.status, 503);
      proxy.restore();
      await waitFor('reads answer again', async () => (await http(d.url, `/api/sweeps/${s.id}`)).status === 200, 20_000);
    } finally {
      proxy.restore();
      await d.close();
      await proxy.stop();
      await pg.drop();
    }
  });

  test('the embedded database (PGlite) closed under the server', async () => {
    const c = await startTestController({ backend: 'pglite' });
    try {
      const s = await createSweep(c.url, YAML);
      await c.handle.ctx.db.close();
      for (const path of ['/api/sweeps', `/api/sweeps/${s.id}`, `/api/runs/${s.id}-1`]) await expectError(http(c.url, path), 503, 'DATABASE_UNAVAILABLE');
    } finally {
      // Closing reports the database that is already closed and stops before the harness's own
      // cleanup; finish that here so no connection keeps the test process alive.
      await c.close().catch(() => undefined);
      await deletePrefix(c.redis, c.prefix);
      c.redis.disconnect();
      await rm(c.handle.ctx.config.HARROW_DATA_DIR, { recursive: true, force: true });
    }
  });
});
