/**
 * Who may do what, over real HTTP: every route of the API against every role (none, viewer,
 * member, admin, agent), project-scoped tokens, revocation, the metrics token, stream tickets,
 * the audit trail the routes write, the CLI verbs `harrow token` and `harrow audit`, and when
 * authentication is on by default.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreatedTokenSchema, type AuditEntry, type CreatedToken } from '../../../protocol/auth-api.js';
import { SweepDetailSchema } from '../../../protocol/api.js';
import { HarrowError } from '../../../protocol/errors.js';
import { loadControllerConfig } from '../../../controller/config.js';
import { tokenCommand } from '../../../cli/commands/token.js';
import { auditCommand } from '../../../cli/commands/audit.js';
import { needServices } from '../../helpers/services.js';
import { expectError, expectOk, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const ROOT = 'root-token-for-the-role-matrix';
const METRICS = 'metrics-scraper-token-0123456789';
const yaml = (name: string, project?: string) =>
  [`name: ${name}`, 'method: random', 'program: train.py', ...(project ? [`project: ${project}`, 'entity: acme'] : []), 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

type Who = 'none' | 'viewer' | 'member' | 'admin' | 'agent';
const WHO: readonly Who[] = ['none', 'viewer', 'member', 'admin', 'agent'];
const READ: readonly Who[] = ['viewer', 'member', 'admin'];
const WRITE: readonly Who[] = ['member', 'admin'];
const ADMIN: readonly Who[] = ['admin'];
/** The agent protocol: agent tokens (and admins), nobody else. */
const AGENT: readonly Who[] = ['agent', 'admin'];

function bearer(token: string | undefined): Record<string, string> {
  return token === undefined ? {} : { authorization: `Bearer ${token}` };
}

async function call(base: string, method: string, path: string, token: string | undefined, body?: unknown): Promise<number> {
  const res = await fetch(`${base}${path}`, {
    method,
    headers: { ...bearer(token), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  await res.body?.cancel();
  return res.status;
}

describe('roles over HTTP', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  const tokens = {} as Record<Exclude<Who, 'none'>, string> & { scoped: string };
  let sweepA = '';
  let sweepB = '';

  const create = async (name: string, role: string, extra: Record<string, unknown> = {}): Promise<CreatedToken> =>
    expectOk(CreatedTokenSchema, http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ROOT) }, body: JSON.stringify({ name, role, ...extra }) }), 201);

  before(async () => {
    c = await startTestController({ env: { HARROW_TOKEN: ROOT, HARROW_METRICS_TOKEN: METRICS } });
    for (const role of ['viewer', 'member', 'admin', 'agent'] as const) tokens[role] = (await create(`${role}-1`, role)).token;
    tokens.scoped = (await create('vision-member', 'member', { projects: ['vision'] })).token;
    const mk = async (y: string) =>
      (await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', ...bearer(tokens.member) }, body: y }), 201)).id;
    sweepA = await mk(yaml('in-vision', 'vision'));
    sweepB = await mk(yaml('elsewhere'));
  });
  after(async () => {
    await c?.close();
  });

  test('every route × role: allowed, or refused with 401 (no token) / 403 (role too low)', async () => {
    // [method, path, who may, body]; sweep B is paused/resumed in an order that works for any allowed caller.
    const routes: Array<[string, string, readonly Who[], unknown?]> = [
      ['GET', '/api/sweeps', READ],
      ['GET', `/api/sweeps/${sweepB}`, READ],
      ['GET', `/api/sweeps/${sweepB}/runs`, READ],
      ['GET', `/api/sweeps/${sweepB}/best`, READ],
      ['GET', `/api/sweeps/${sweepB}/importance`, READ],
      ['GET', `/api/sweeps/${sweepB}/recommendation`, READ],
      ['GET', `/api/sweeps/${sweepB}/curves?name=loss`, READ],
      ['GET', `/api/sweeps/${sweepB}/report`, READ],
      ['GET', '/api/runs/nope-1', READ],
      ['GET', '/api/runs/nope-1/metrics', READ],
      ['GET', '/api/audit', READ],
      // Open: it answers "nobody" (identity null) without a token rather than 401.
      ['GET', '/api/whoami', WHO],
      ['POST', '/api/stream-tickets', READ, { sweep: sweepB }],
      ['GET', '/metrics', READ],
      ['POST', '/api/sweeps', WRITE, { config: yaml('matrix') }],
      ['POST', `/api/sweeps/${sweepB}/pause`, WRITE, {}],
      ['POST', `/api/sweeps/${sweepB}/resume`, WRITE, {}],
      ['POST', '/api/runs/nope-1/stop', WRITE, {}],
      // Steering: bodies that fail validation, so an allowed caller gets a quick 400 and changes nothing.
      ['POST', `/api/sweeps/${sweepB}/extend`, WRITE, {}],
      ['POST', `/api/sweeps/${sweepB}/share`, WRITE, {}],
      ['POST', `/api/sweeps/${sweepB}/rerun`, WRITE, { states: 'bogus' }],
      ['POST', `/api/sweeps/${sweepB}/enqueue`, WRITE, {}],
      ['POST', '/api/runs/nope-1/clone', WRITE, {}],
      ['POST', `/api/sweeps/${sweepB}/warm-start`, WRITE, {}],
      ['PATCH', `/api/sweeps/${sweepB}/spec`, WRITE, {}],
      ['GET', `/api/sweeps/${sweepB}/spec/versions`, READ],
      // The agent protocol, likewise with bodies it refuses (a valid claim would long-poll).
      ['POST', `/api/agent/v1/sweeps/${sweepB}/claim`, AGENT, {}],
      ['POST', `/api/agent/v1/sweeps/${sweepB}/reports`, AGENT, {}],
      ['POST', `/api/agent/v1/sweeps/${sweepB}/poll`, AGENT, {}],
      ['POST', `/api/agent/v1/sweeps/${sweepB}/leave`, AGENT, {}],
      ['GET', '/api/tokens', ADMIN],
      ['POST', '/api/tokens', ADMIN, { name: 'made-in-matrix', role: 'viewer' }],
      ['DELETE', '/api/tokens/made-in-matrix', ADMIN],
      // Sweep B is running: an admin's delete without ?force is refused with 409 and deletes nothing.
      ['DELETE', `/api/sweeps/${sweepB}`, ADMIN],
      ['GET', '/api/retention', ADMIN],
      ['POST', '/api/retention', ADMIN, {}],
    ];
    const documented = new Set<string>();
    const doc = (await http<{ paths: Record<string, Record<string, unknown>> }>(c.url, '/docs/json')).body;
    for (const [path, ops] of Object.entries(doc.paths)) for (const m of Object.keys(ops)) documented.add(`${m.toUpperCase()} ${path}`);
    const covered = new Set(routes.map(([m, p]) => `${m} ${p.replace(sweepB, '{id}').replace('nope-1', '{id}').replace('made-in-matrix', '{name}').replace(/\?.*$/, '')}`));
    for (const r of ['POST /api/sweeps/{id}/stop', 'POST /api/sweeps/{id}/cancel', 'GET /api/sweeps/{id}/events']) covered.add(r); // below
    const missing = [...documented].filter((r) => !covered.has(r) && r !== 'GET /healthz');
    assert.deepEqual(missing, [], 'every documented route has its expectation in this matrix');

    for (const [method, path, allowed, body] of routes) {
      for (const who of WHO) {
        const status = await call(c.url, method, path, who === 'none' ? undefined : tokens[who], body);
        const where = `${method} ${path} as ${who} → ${status}`;
        if (allowed.includes(who)) assert.ok(status !== 401 && status !== 403, where);
        else assert.equal(status, who === 'none' ? 401 : 403, where);
        // Put sweep B back the way the next caller expects.
        if (path.endsWith('/pause') && status === 200) await call(c.url, 'POST', `/api/sweeps/${sweepB}/resume`, ROOT, {});
        if (method === 'POST' && path === '/api/tokens' && status === 201) await call(c.url, 'DELETE', '/api/tokens/made-in-matrix', ROOT);
      }
    }
    // Stop and cancel end the sweep: refused roles first, then one allowed call each.
    for (const action of ['stop', 'cancel']) {
      const victim = (await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', ...bearer(ROOT) }, body: yaml(action) }), 201)).id;
      for (const who of ['none', 'viewer', 'agent'] as const) {
        assert.equal(await call(c.url, 'POST', `/api/sweeps/${victim}/${action}`, who === 'none' ? undefined : tokens[who], {}), who === 'none' ? 401 : 403);
      }
      assert.equal(await call(c.url, 'POST', `/api/sweeps/${victim}/${action}`, tokens.member, {}), 200);
    }
    // The event stream: a header works for readers; agents and strangers are refused.
    for (const who of WHO) {
      const status = await call(c.url, 'GET', `/api/sweeps/${sweepB}/events`, who === 'none' ? undefined : tokens[who]);
      assert.equal(status, READ.includes(who) ? 200 : who === 'none' ? 401 : 403, `events as ${who}`);
    }
    // Open routes.
    assert.equal(await call(c.url, 'GET', '/healthz', undefined), 200);
    assert.equal(await call(c.url, 'GET', '/', undefined), 200, 'the dashboard page holds no data');
  });

  test('a project-scoped token sees and steers only its projects; others look absent', async () => {
    const list = (await http<{ sweeps: Array<{ id: string }> }>(c.url, '/api/sweeps', { headers: bearer(tokens.scoped) })).body.sweeps.map((s) => s.id);
    assert.ok(list.includes(sweepA));
    assert.ok(!list.includes(sweepB));
    assert.equal(await call(c.url, 'GET', `/api/sweeps/${sweepA}`, tokens.scoped), 200);
    await expectError(http(c.url, `/api/sweeps/${sweepB}`, { headers: bearer(tokens.scoped) }), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(c.url, `/api/sweeps/${sweepB}/pause`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.scoped) }, body: '{}' }), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(c.url, '/api/stream-tickets', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.scoped) }, body: JSON.stringify({ sweep: sweepB }) }), 404, 'SWEEP_NOT_FOUND');
    await expectError(http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', ...bearer(tokens.scoped) }, body: yaml('no-project') }), 403, 'FORBIDDEN');
    assert.equal(await call(c.url, 'POST', '/api/sweeps', tokens.scoped, { config: yaml('mine', 'vision') }), 201);
    await expectError(http(c.url, '/metrics', { headers: bearer(tokens.scoped) }), 403, 'FORBIDDEN');
    const audit = (await http<{ entries: AuditEntry[] }>(c.url, '/api/audit', { headers: bearer(tokens.scoped) })).body.entries;
    assert.ok(audit.length > 0);
    assert.ok(audit.every((e) => e.sweepId !== null && e.sweepId !== sweepB), 'only entries of its own sweeps');
  });

  test("a project-scoped token cannot warm-start from another project's sweep: it reads as absent, and nothing is imported", async () => {
    const post = (path: string, body: unknown) =>
      http(c.url, path, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.scoped) }, body: JSON.stringify(body) });
    // At creation (harrow.warm_start.from in the sweep file): the same answer as for a sweep that does not exist.
    const fromOther = `${yaml('warm-from-other', 'vision')}harrow:\n  warm_start: {from: ${sweepB}}\n`;
    const refused = await expectError(post('/api/sweeps', { config: fromOther }), 400, 'INVALID_SWEEP_CONFIG');
    assert.match(refused.message, new RegExp(`there is no sweep '${sweepB}'`));
    const missing = await expectError(post('/api/sweeps', { config: fromOther.replace(sweepB, 'nosuchsweep') }), 400, 'INVALID_SWEEP_CONFIG');
    assert.equal(refused.message.replace(sweepB, 'X'), missing.message.replace('nosuchsweep', 'X'), 'out of scope and absent answer alike');
    // Into an existing sweep of its own project.
    await expectError(post(`/api/sweeps/${sweepA}/warm-start`, { from: sweepB }), 400, 'INVALID_SWEEP_CONFIG');
    const detail = await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${sweepA}`, { headers: bearer(tokens.scoped) }));
    assert.equal(detail.imported?.count ?? 0, 0, 'nothing imported');
    // An unscoped member may.
    const ok = await http(c.url, `/api/sweeps/${sweepA}/warm-start`, { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(tokens.member) }, body: JSON.stringify({ from: sweepB }) });
    assert.equal(ok.status, 201, ok.text);
  });

  test('HARROW_METRICS_TOKEN reads /metrics and nothing else; a revoked token stops working at once', async () => {
    assert.equal(await call(c.url, 'GET', '/metrics', METRICS), 200);
    assert.equal(await call(c.url, 'GET', '/api/sweeps', METRICS), 401);
    const t = await create('short-lived', 'viewer');
    assert.equal(await call(c.url, 'GET', '/api/sweeps', t.token), 200);
    assert.equal(await call(c.url, 'DELETE', '/api/tokens/short-lived', ROOT), 200);
    const refused = await expectError(http(c.url, '/api/sweeps', { headers: bearer(t.token) }), 401, 'UNAUTHORIZED');
    assert.match(refused.message, /revoked/);
    // A token with one character changed is refused (the id finds the row; the secret does not match).
    const forged = tokens.viewer.slice(0, -1) + (tokens.viewer.endsWith('A') ? 'B' : 'A');
    assert.equal(await call(c.url, 'GET', '/api/sweeps', forged), 401);
    await expectError(http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(ROOT) }, body: JSON.stringify({ name: 'viewer-1', role: 'viewer' }) }), 409, 'TOKEN_EXISTS');
  });

  test('stream tickets: one sweep, signed, short-lived, void once the token is revoked', async () => {
    const t = await create('ticket-user', 'viewer');
    const ticketOf = async (sweep: string) =>
      (await http<{ ticket: string }>(c.url, '/api/stream-tickets', { method: 'POST', headers: { 'content-type': 'application/json', ...bearer(t.token) }, body: JSON.stringify({ sweep }) })).body.ticket;
    const ticket = await ticketOf(sweepB);
    const open = async (sweep: string, tk: string) => call(c.url, 'GET', `/api/sweeps/${sweep}/events?ticket=${encodeURIComponent(tk)}`, undefined);
    assert.equal(await open(sweepB, ticket), 200);
    assert.equal(await open(sweepA, ticket), 401, 'a ticket for another sweep');
    const [payload, mac] = ticket.split('.');
    const claims = JSON.parse(Buffer.from(payload!, 'base64url').toString()) as { e: number };
    const later = Buffer.from(JSON.stringify({ ...claims, e: claims.e + 3_600_000 })).toString('base64url');
    assert.equal(await open(sweepB, `${later}.${mac}`), 401, 'a ticket whose expiry was pushed back');
    assert.equal(await call(c.url, 'GET', `/api/sweeps?ticket=${encodeURIComponent(ticket)}`, undefined), 401, 'tickets open streams only');
    await call(c.url, 'DELETE', '/api/tokens/ticket-user', ROOT);
    assert.equal(await open(sweepB, ticket), 401, 'revoking the token voids its tickets');
  });

  test('the audit trail: who, when, from where, what, outcome; the sweep records its creator', async () => {
    const entries = (await http<{ entries: AuditEntry[] }>(c.url, `/api/audit?sweep=${sweepB}`, { headers: bearer(ROOT) })).body.entries;
    const created = entries.find((e) => e.action === 'create');
    assert.equal(created?.actor, 'member-1');
    assert.equal(created?.role, 'member');
    assert.equal(created?.outcome, 'ok');
    assert.match(created?.address ?? '', /127\.0\.0\.1/);
    assert.ok(entries.some((e) => e.action === 'pause' && e.actor === 'member-1' && e.outcome === 'ok'));
    assert.ok(entries.some((e) => e.action === 'pause' && e.actor === 'admin-1' && e.outcome === 'ok'));
    const sweep = (await http<{ createdBy: string }>(c.url, `/api/sweeps/${sweepB}`, { headers: bearer(ROOT) })).body;
    assert.equal(sweep.createdBy, 'member-1');
    const refused = (await http<{ entries: AuditEntry[] }>(c.url, '/api/audit?outcome=refused&actor=viewer-1', { headers: bearer(ROOT) })).body.entries;
    assert.ok(refused.some((e) => e.action === 'POST /api/sweeps/:id/pause' && /FORBIDDEN/.test(e.error ?? '')), 'a refused change is recorded');
    const tokenEvents = (await http<{ entries: AuditEntry[] }>(c.url, '/api/audit?action=token.revoke', { headers: bearer(ROOT) })).body.entries;
    assert.ok(tokenEvents.some((e) => e.target === 'short-lived' && e.actor === 'HARROW_TOKEN'));
    // A state conflict is recorded as an error with its code.
    await call(c.url, 'POST', `/api/sweeps/${sweepA}/resume`, ROOT, {});
    const conflict = (await http<{ entries: AuditEntry[] }>(c.url, `/api/audit?sweep=${sweepA}&action=resume&limit=1`, { headers: bearer(ROOT) })).body.entries[0];
    assert.equal(conflict?.outcome, 'error');
    assert.match(conflict?.error ?? '', /INVALID_STATE_TRANSITION/);
    // Non-admins do not see token changes or refusals without a sweep.
    const asViewer = (await http<{ entries: AuditEntry[] }>(c.url, '/api/audit', { headers: bearer(tokens.viewer) })).body.entries;
    assert.ok(asViewer.length > 0 && asViewer.every((e) => e.sweepId !== null));
    await expectError(http(c.url, '/api/audit?since=yesterday', { headers: bearer(ROOT) }), 400, 'INVALID_REQUEST');
  });

  test('harrow token create|list|revoke and harrow audit, against the server', async () => {
    const run = async (verb: typeof tokenCommand, argv: string[], token = ROOT) => {
      let text = '';
      const code = await verb.runWith(argv, { env: { HARROW_URL: c.url, HARROW_TOKEN: token }, stdout: { write: (s: string) => (text += s) } });
      return { code, text };
    };
    const made = await run(tokenCommand, ['create', 'carol', '--role', 'member', '--expires', '90d', '--json']);
    assert.equal(made.code, 0);
    const secret = (JSON.parse(made.text) as { token: string; expiresAt: string }).token;
    assert.match(secret, /^hrw_[0-9a-f]{16}_/);
    const plain = await run(tokenCommand, ['create', 'dave', '--role', 'viewer', '--project', 'vision']);
    assert.match(plain.text, /shown only now/);
    assert.match(plain.text, /hrw_[0-9a-f]{16}_\S{43}/);
    const list = await run(tokenCommand, ['list']);
    assert.match(list.text, /carol\s+member/);
    assert.match(list.text, /dave\s+viewer\s+vision/);
    assert.doesNotMatch(list.text, /hrw_/, 'secrets are never listed');
    await assert.rejects(run(tokenCommand, ['list'], secret), (err: unknown) => err instanceof HarrowError && err.code === 'FORBIDDEN');
    assert.equal((await run(tokenCommand, ['revoke', 'carol'])).code, 0);
    assert.doesNotMatch((await run(tokenCommand, ['list'])).text, /carol/);
    await assert.rejects(run(tokenCommand, ['revoke', 'carol']), (err: unknown) => err instanceof HarrowError && err.code === 'TOKEN_NOT_FOUND');
    const audit = await run(auditCommand, [sweepB]);
    assert.match(audit.text, /member-1\s+member\s+create/);
    const json = JSON.parse((await run(auditCommand, ['--action', 'token.revoke', '--json'])).text) as { entries: AuditEntry[] };
    assert.ok(json.entries.some((e) => e.target === 'carol'));
  });
});

describe('when authentication is on', { ...opts, timeout: 60_000 }, () => {
  test('a loopback server without tokens is open; the first named token turns reads and writes auth on', async () => {
    const c = await startTestController();
    try {
      assert.equal(await call(c.url, 'GET', '/api/sweeps', undefined), 200);
      const made = await expectOk(CreatedTokenSchema, http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ name: 'first-admin', role: 'admin' }) }), 201);
      assert.equal(await call(c.url, 'GET', '/api/sweeps', undefined), 401);
      assert.equal(await call(c.url, 'GET', '/api/sweeps', made.token), 200);
      assert.equal(await call(c.url, 'GET', '/healthz', undefined), 200);
    } finally {
      await c.close();
    }
  });

  test('HARROW_AUTH=token on loopback guards reads; HARROW_AUTH=off with HARROW_TOKEN and proxy are refused', async () => {
    const c = await startTestController({ env: { HARROW_AUTH: 'token' } });
    try {
      assert.equal(await call(c.url, 'GET', '/api/sweeps', undefined), 401);
    } finally {
      await c.close();
    }
    assert.throws(() => loadControllerConfig({ HARROW_AUTH: 'off', HARROW_TOKEN: ROOT }), /HARROW_AUTH=off/);
    assert.throws(() => loadControllerConfig({ HARROW_AUTH: 'proxy' }), /HARROW_AUTH=proxy needs HARROW_TRUSTED_PROXIES/);
  });
});
