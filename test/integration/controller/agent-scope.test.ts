/**
 * An agent credential reaches only the sweeps it may work for. The `agent` role already keeps it
 * off every read route (roles.test.ts); these tests cover the agent protocol itself: a token
 * scoped to a project cannot claim, poll, report to or leave a sweep of another project (a claim
 * would hand it that sweep's parameters and command line), and is answered as if the sweep did
 * not exist, as project scopes answer everywhere else.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { CreatedTokenSchema } from '../../../protocol/auth-api.js';
import { SweepDetailSchema } from '../../../protocol/api.js';
import { AGENT_API } from '../../../protocol/agent-http.js';
import { needServices } from '../../helpers/services.js';
import { expectOk, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const ROOT = 'root-token-for-agent-scopes';
const yaml = (name: string, project?: string) =>
  [`name: ${name}`, 'method: random', 'program: train.py', ...(project ? [`project: ${project}`, 'entity: acme'] : []), 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');
const json = (token: string) => ({ 'content-type': 'application/json', authorization: `Bearer ${token}` });

describe('agent tokens scoped to projects', { ...opts, timeout: 60_000 }, () => {
  let c: TestController;
  let scopedAgent = '';
  let anyAgent = '';
  let vision = '';
  let other = '';

  before(async () => {
    c = await startTestController({ env: { HARROW_TOKEN: ROOT } });
    const token = async (name: string, body: Record<string, unknown>) =>
      (await expectOk(CreatedTokenSchema, http(c.url, '/api/tokens', { method: 'POST', headers: json(ROOT), body: JSON.stringify({ name, ...body }) }), 201)).token;
    scopedAgent = await token('vision-agent', { role: 'agent', projects: ['vision'] });
    anyAgent = await token('any-agent', { role: 'agent' });
    const mk = async (y: string) =>
      (await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', authorization: `Bearer ${ROOT}` }, body: y }), 201)).id;
    vision = await mk(yaml('in-vision', 'vision'));
    other = await mk(yaml('elsewhere', 'nlp'));
  });
  after(async () => {
    await c?.close();
  });

  const presence = () => ({ agentId: 'a-1', host: 'box', slots: 1, busy: 0, accepting: false, at: Date.now() });
  const call = async (token: string, sweepId: string, verb: string, body: unknown) => {
    const res = await fetch(`${c.url}${AGENT_API}/sweeps/${sweepId}/${verb}`, { method: 'POST', headers: json(token), body: JSON.stringify(body) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown> };
  };
  const bodies = (sweepId: string): Array<[string, unknown]> => [
    ['claim', { agentId: 'a-1', host: 'box', gpu: null, token: 'fence-token-1', waitMs: 0 }],
    ['poll', { presence: presence(), runs: [], heartbeat: false }],
    ['reports', { v: 1, type: 'metrics', sweepId, agentId: 'a-1', runId: `${sweepId}-1`, token: 'fence-token-1', points: [] }],
    ['leave', { agentId: 'a-1' }],
  ];

  test('a token scoped to a project cannot use the agent protocol on another project’s sweep', async () => {
    for (const [verb, body] of bodies(other)) {
      const r = await call(scopedAgent, other, verb, body);
      assert.equal(r.status, 404, `${verb} on another project's sweep: ${JSON.stringify(r.body)}`);
      assert.equal(r.body.code, 'SWEEP_NOT_FOUND', verb);
    }
  });

  test('the same token works on its own project’s sweep, and an unscoped agent token on any', async () => {
    for (const [token, sweepId] of [
      [scopedAgent, vision],
      [anyAgent, other],
    ] as const) {
      const claim = await call(token, sweepId, 'claim', bodies(sweepId)[0]![1]);
      assert.equal(claim.status, 200, JSON.stringify(claim.body));
      const poll = await call(token, sweepId, 'poll', bodies(sweepId)[1]![1]);
      assert.equal(poll.status, 200, JSON.stringify(poll.body));
      const leave = await call(token, sweepId, 'leave', { agentId: 'a-1' });
      assert.equal(leave.status, 200, JSON.stringify(leave.body));
    }
  });
});
