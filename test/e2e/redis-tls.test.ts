/**
 * Redis over TLS with passwords and an ACL user for agents, on a private redis-server started by
 * this test with certificates it makes with openssl (`--port 0 --tls-port`): the controller (full
 * user) and a Redis agent (the README's `harrow-agent` ACL user, read from the README itself) run a
 * sweep to the end over `rediss://…?ca=`; Redis logged no command refused to the agent along the
 * way; the agent's credential cannot touch anything outside what the README says it may; and a
 * client given the wrong CA stops at once with one line naming the fix.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Redis } from 'ioredis';
import { needServices } from '../helpers/services.js';
import { PrivateRedis, privateServicesProblem } from '../helpers/private-services.js';
import { ROOT, startHarrow, waitForHttp, type Proc } from '../helpers/processes.js';
import { controller, createSweep, setUp, sweepState, tearDown, waitFinished, type Env } from '../helpers/harness.js';
import { makeTestCerts, needOpenssl, type TestCerts } from '../helpers/test-certs.js';
import { connectRedis } from '../../protocol/redis-connection.js';

const opts = await needServices();
const tlsOpts = needOpenssl();
const problem = privateServicesProblem();
if (problem && process.env.CI === 'true') throw new Error(`the Redis TLS test needs a private redis-server in CI: ${problem}`);
const ADMIN_PASSWORD = 'admin pw/with:odd@chars';
const AGENT_PASSWORD = 'agent-password-0123456789';

/** The README's ACL line for agents, for this test's prefix and password. */
function readmeAcl(prefix: string): string[] {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const line = readme.split('\n').find((l) => l.startsWith('ACL SETUSER harrow-agent '));
  assert.ok(line, 'README.md has no `ACL SETUSER harrow-agent …` line');
  // Arguments as redis-cli splits them: a "quoted" selector is one argument.
  const args = line
    .replaceAll('harrow:', `${prefix}:`)
    .replace('>AGENT_PASSWORD', `>${AGENT_PASSWORD}`)
    .match(/"[^"]*"|\S+/g)!
    .map((a) => a.replace(/^"(.*)"$/, '$1'));
  return args.slice(3);
}

async function finish(p: Proc, timeoutMs: number): Promise<{ code: number | null; out: string }> {
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (code === 'timeout') {
    p.child.kill('SIGKILL');
    throw new Error(`still running after ${timeoutMs} ms:\n${p.output()}`);
  }
  return { code, out: p.output() };
}

describe('Redis over TLS, with an ACL user for agents', { ...opts, ...tlsOpts, ...(problem ? { skip: problem } : {}), timeout: 180_000 }, () => {
  let certs: TestCerts;
  let redis: PrivateRedis;
  let admin: Redis;
  let env: Env;
  let agentUrl = '';

  before(async () => {
    certs = makeTestCerts();
    redis = await PrivateRedis.start({ tls: { ...certs.server, ca: certs.ca }, password: ADMIN_PASSWORD });
    admin = connectRedis(redis.url);
    env = await setUp('e2e_redis_tls');
    await admin.call('ACL', 'SETUSER', 'harrow-agent', ...readmeAcl(env.prefix));
    agentUrl = `rediss://harrow-agent:${AGENT_PASSWORD}@127.0.0.1:${redis.port}?ca=${encodeURIComponent(certs.ca)}`;
    env.controllerEnv.REDIS_URL = redis.url;
    env.agentEnv = { ...env.agentEnv, REDIS_URL: agentUrl };
  });
  after(async () => {
    if (env) {
      // tearDown cleans the shared Redis; this test's keys live in the private one, which goes.
      await tearDown(env);
    }
    admin?.disconnect();
    await redis?.kill();
    certs?.cleanup();
  });

  test('the controller and an agent with the ACL user run a sweep to the end over rediss://', async () => {
    controller(env);
    await waitForHttp(env.url);
    const sweep = await createSweep(
      env,
      ['name: over-rediss', 'method: grid', 'metric: {name: loss, goal: minimize}', 'program: test/fixtures/scripts/trainer.py', 'command: [python3, "${program}", "${args}"]', 'parameters:', '  x: {values: [0.1, 0.2, 0.3, 0.4]}', '  steps: {value: 3}', '  sleep: {value: 0.05}'].join('\n'),
    );
    // One run longer than half BullMQ's 30 s job lock, so the worker extends its lock (a script
    // with its own commands) under the restricted user too.
    const long = await createSweep(
      env,
      ['name: long-lock', 'method: grid', 'metric: {name: loss, goal: minimize}', 'program: test/fixtures/scripts/trainer.py', 'command: [python3, "${program}", "${args}"]', 'parameters:', '  x: {value: 0.5}', '  steps: {value: 17}', '  sleep: {value: 1}'].join('\n'),
    );
    await admin.call('ACL', 'LOG', 'RESET');
    const agent = startHarrow(['agent', sweep.id, '--quiet', '--concurrency', '2'], env.agentEnv);
    const longAgent = startHarrow(['agent', long.id, '--quiet'], env.agentEnv);
    env.procs.push(agent, longAgent);
    await waitFinished(env, sweep.id);
    const done = await finish(agent, 30_000);
    assert.equal(done.code, 0, done.out);
    const state = await sweepState(env, sweep.id);
    assert.equal(state.counts.finished, 4);
    await waitFinished(env, long.id, 60_000);
    const longDone = await finish(longAgent, 30_000);
    assert.equal(longDone.code, 0, longDone.out);
    assert.equal((await sweepState(env, long.id)).counts.finished, 1);
    assert.ok(!/lock/i.test(longDone.out), longDone.out);
    // Nothing the agent needed was refused (a refused command inside a retry loop could still end well).
    const log = (await admin.call('ACL', 'LOG')) as unknown[];
    assert.deepEqual(log, [], `ACL LOG: ${JSON.stringify(log)}`);
    // The agent's connections really were the restricted user.
    assert.ok(await admin.exists(`${env.prefix}:reports`));
  });

  test('the agent credential cannot reach beyond what it needs', async () => {
    await admin.set('other-app:secret', 'x');
    await admin.set(`${env.prefix}:sweep:s1:state`, 'running');
    await admin.set(`${env.prefix}:run:r1:control`, '{}');
    const agent = connectRedis(agentUrl, { maxRetriesPerRequest: 0 });
    try {
      const refused = async (what: string, fn: () => Promise<unknown>): Promise<void> => {
        await assert.rejects(fn, /NOPERM/, what);
      };
      await refused('GET outside the prefix', () => agent.get('other-app:secret'));
      await refused('SET outside the prefix', () => agent.set('other-app:secret', 'y'));
      await refused('KEYS', () => agent.keys('*'));
      await refused('SCAN', () => agent.scan(0));
      await refused('FLUSHALL', () => agent.flushall());
      await refused('FLUSHDB', () => agent.flushdb());
      await refused('CONFIG GET', () => agent.config('GET', '*'));
      await refused('ACL LIST', () => agent.call('ACL', 'LIST'));
      await refused('CLIENT LIST', () => agent.call('CLIENT', 'LIST'));
      await refused('CLIENT KILL', () => agent.call('CLIENT', 'KILL', 'TYPE', 'normal'));
      await refused('SHUTDOWN', () => agent.call('SHUTDOWN', 'NOSAVE'));
      await refused("write a sweep's state", () => agent.set(`${env.prefix}:sweep:s1:state`, 'paused'));
      await refused("delete a sweep's state", () => agent.del(`${env.prefix}:sweep:s1:state`));
      await refused("write a run's stop message", () => agent.set(`${env.prefix}:run:r1:control`, '{"action":"stop"}'));
      await refused('a script touching a key outside the prefix', () => agent.eval("return redis.call('GET', KEYS[1])", 1, 'other-app:secret'));
      // The reports stream: append only. Reading it would reveal other agents' fencing tokens.
      await refused('XRANGE the reports', () => agent.xrange(`${env.prefix}:reports`, '-', '+'));
      await refused('XREAD the reports', () => agent.xread('COUNT', 1, 'STREAMS', `${env.prefix}:reports`, '0'));
      await refused('XTRIM the reports', () => agent.xtrim(`${env.prefix}:reports`, 'MAXLEN', 0));
      await refused('DEL the reports', () => agent.del(`${env.prefix}:reports`));
      await refused('a script reading the reports', () => agent.eval("return redis.call('XRANGE', KEYS[1], '-', '+')", 1, `${env.prefix}:reports`));
      await refused('PUBLISH to a claim channel', () => agent.publish(`${env.prefix}:run:r1:claim:t`, 'forged'));
      const sub = agent.duplicate();
      try {
        await refused('SUBSCRIBE outside the prefix', () => sub.subscribe('other-app:events'));
      } finally {
        sub.disconnect();
      }
      // What it may: read the state and stop messages, write presence, append reports.
      assert.equal(await agent.get(`${env.prefix}:sweep:s1:state`), 'running');
      assert.equal(await agent.get(`${env.prefix}:run:r1:control`), '{}');
      assert.equal(await agent.hset(`${env.prefix}:sweep:s1:agents`, 'a', '{}'), 1);
      assert.match(String(await agent.xadd(`${env.prefix}:reports`, '*', 'probe', '1')), /^\d+-\d+$/);
      assert.equal(await admin.get('other-app:secret'), 'x');
    } finally {
      agent.disconnect();
    }
  });

  test('the wrong CA is refused at start, in one line, by the agent and the server', async () => {
    const wrong = `rediss://harrow-agent:${AGENT_PASSWORD}@127.0.0.1:${redis.port}?ca=${encodeURIComponent(certs.wrongCa)}`;
    const agent = startHarrow(['agent', 'any-sweep'], { ...env.agentEnv, REDIS_URL: wrong });
    env.procs.push(agent);
    const a = await finish(agent, 20_000);
    assert.notEqual(a.code, 0, a.out);
    assert.match(a.out, /not signed by a CA this process trusts \(\w+\); add \?ca=/, a.out);
    assert.doesNotMatch(a.out, new RegExp(AGENT_PASSWORD), 'password shown');

    const serverWrong = redis.url.replace(encodeURIComponent(certs.ca), encodeURIComponent(certs.wrongCa));
    const server = startHarrow(['server'], { ...env.controllerEnv, REDIS_URL: serverWrong, HARROW_PORT: '0' });
    env.procs.push(server);
    const s = await finish(server, 20_000);
    assert.equal(s.code, 1, s.out);
    assert.match(s.out.trim(), /^harrow server: cannot use Redis at rediss:\/\/:\*\*\*@127\.0\.0\.1:\d+.*not signed by a CA this process trusts/, s.out);
    assert.equal(s.out.trim().split('\n').length, 1, s.out);

    // No ca= and no NODE_EXTRA_CA_CERTS: a private CA is not trusted either.
    const bare = startHarrow(['agent', 'any-sweep'], { ...env.agentEnv, REDIS_URL: `rediss://harrow-agent:${AGENT_PASSWORD}@127.0.0.1:${redis.port}` });
    env.procs.push(bare);
    const b = await finish(bare, 20_000);
    assert.notEqual(b.code, 0, b.out);
    assert.match(b.out, /not signed by a CA this process trusts/, b.out);
  });
});
