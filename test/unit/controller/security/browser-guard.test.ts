/**
 * The guard's decisions on headers alone, through fastify's inject (no network). The integration
 * test covers the controller's real routes; this one the edge cases of origins and hosts.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import Fastify, { type FastifyInstance } from 'fastify';
import { browserGuard } from '../../../../controller/security/browser-guard.js';
import { AllowedHostsSchema } from '../../../../controller/security/allowed-hosts.js';
import { HarrowError } from '../../../../protocol/errors.js';

async function app(extraHosts?: string): Promise<FastifyInstance> {
  const a = Fastify();
  // What controller/app.ts does with a HarrowError.
  a.setErrorHandler((err, _req, reply) => {
    const h = err instanceof HarrowError ? err : new HarrowError('INTERNAL', String(err));
    void reply.status(h.status).send(h.toBody());
  });
  await a.register(browserGuard, { listenHost: '127.0.0.1', extraHosts: extraHosts === undefined ? undefined : AllowedHostsSchema.parse(extraHosts) });
  a.get('/api/sweeps', (_req, reply) => reply.send({ sweeps: [] }));
  a.post('/api/sweeps', (_req, reply) => reply.send({ ok: true }));
  await a.ready();
  return a;
}

async function status(a: FastifyInstance, method: 'GET' | 'POST', headers: Record<string, string>, body?: string): Promise<number> {
  const res = await a.inject({ method, url: '/api/sweeps', headers, ...(body === undefined ? {} : { payload: body }) });
  return res.statusCode;
}

test('Origin, when the browser sends no Sec-Fetch-Site, must be the very host the request went to', async () => {
  const a = await app('harrow.example.com');
  const json = { 'content-type': 'application/json' };
  try {
    const cases: Array<[Record<string, string>, number]> = [
      [{ host: 'localhost:8080', origin: 'http://localhost:8080' }, 200],
      [{ host: '[::1]:8080', origin: 'http://[::1]:8080' }, 200],
      [{ host: 'LOCALHOST:8080', origin: 'http://localhost:8080' }, 200],
      // TLS ended by a proxy that keeps Host: default ports on both sides.
      [{ host: 'harrow.example.com', origin: 'https://harrow.example.com' }, 200],
      [{ host: 'harrow.example.com:8443', origin: 'https://harrow.example.com:8443' }, 200],
      // Another origin of the same machine is not this server's page.
      [{ host: '127.0.0.1:8080', origin: 'http://localhost:8080' }, 403],
      [{ host: 'localhost:8080', origin: 'http://localhost:9000' }, 403],
      [{ host: 'harrow.example.com', origin: 'https://harrow.example.com:8443' }, 403],
      [{ host: 'localhost:8080', origin: 'null' }, 403],
      [{ host: 'localhost:8080', origin: 'not a url' }, 403],
      // The browser's own verdict wins when it gives one (a proxy may have rewritten Host).
      [{ host: '127.0.0.1:8080', origin: 'https://harrow.example.com', 'sec-fetch-site': 'same-origin' }, 200],
      [{ host: 'localhost:8080', origin: 'http://localhost:8080', 'sec-fetch-site': 'same-site' }, 403],
    ];
    for (const [headers, want] of cases) assert.equal(await status(a, 'POST', { ...json, ...headers }, '{}'), want, JSON.stringify(headers));
    // Reads are left to the browser's same-origin policy: a cross-site GET is answered, unreadable to the page.
    assert.equal(await status(a, 'GET', { host: 'localhost:8080', origin: 'http://evil.test', 'sec-fetch-site': 'cross-site' }), 200);
  } finally {
    await a.close();
  }
});

test('text/plain is refused even from the same origin (pages must send JSON); `*` lets any Host through', async () => {
  const a = await app('*');
  try {
    assert.equal(await status(a, 'POST', { host: 'localhost', 'sec-fetch-site': 'same-origin', 'content-type': 'text/plain' }, 'x'), 415);
    assert.equal(await status(a, 'POST', { host: 'anything.test', 'content-type': 'application/json' }, '{}'), 200);
    assert.equal(await status(a, 'GET', { host: 'anything.test' }), 200);
  } finally {
    await a.close();
  }
  const strict = await app();
  try {
    assert.equal(await status(strict, 'GET', { host: 'anything.test' }), 421);
    assert.equal(await status(strict, 'GET', { host: 'localhost:80' }), 200, "inject's own default Host");
  } finally {
    await strict.close();
  }
});
