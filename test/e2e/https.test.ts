/**
 * The controller over HTTPS (HARROW_TLS_CERT, HARROW_TLS_KEY) with certificates this test makes
 * with openssl: the CLI and an HTTP agent (`harrow agent --server https://…`) trust the test CA
 * through NODE_EXTRA_CA_CERTS and run a sweep to the end; plain http:// to the HTTPS port, a
 * client with the wrong CA, and a server given a key that is not its certificate's all fail with
 * one line that says what to change.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:https';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { needServices } from '../helpers/services.js';
import { spawn, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { ROOT, startHarrow, waitFor, type Proc } from '../helpers/processes.js';
import { setUp, tearDown, type Env } from '../helpers/harness.js';
import { makeTestCerts, needOpenssl, type TestCerts } from '../helpers/test-certs.js';

const opts = await needServices();
const tlsOpts = needOpenssl();
const TOKEN = 'https-test-admin-token';
const hasPython = spawnSync('python3', ['--version']).status === 0;
const SHIM = fileURLToPath(new URL('../../../sdk/python/wandb_shim', import.meta.url));

/** GET over HTTPS trusting only `ca` (the test process's own fetch cannot take a CA). */
function getJson(url: string, ca: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ca: readFileSync(ca), headers: { authorization: `Bearer ${TOKEN}` } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
    req.end();
  });
}

async function finish(p: Proc, timeoutMs = 60_000): Promise<{ code: number | null; out: string }> {
  const code = await Promise.race([p.exited, new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), timeoutMs))]);
  if (code === 'timeout') {
    p.child.kill('SIGKILL');
    throw new Error(`still running after ${timeoutMs} ms:\n${p.output()}`);
  }
  return { code, out: p.output() };
}

describe('HTTPS controller', { ...opts, ...tlsOpts, timeout: 180_000 }, () => {
  let certs: TestCerts;
  let env: Env;
  let url = '';

  before(async () => {
    certs = makeTestCerts();
    env = await setUp('e2e_https');
    env.controllerEnv.HARROW_TOKEN = TOKEN;
    env.controllerEnv.HARROW_TLS_CERT = certs.server.cert;
    env.controllerEnv.HARROW_TLS_KEY = certs.server.key;
    url = `https://127.0.0.1:${env.controllerEnv.HARROW_PORT}`;
    const server = startHarrow(['server'], env.controllerEnv);
    env.procs.push(server);
    await waitFor('the HTTPS controller', async () => (await getJson(`${url}/healthz`, certs.ca)).status === 200, 30_000).catch((err: Error) => {
      throw new Error(`${err.message}\n${server.output()}`);
    });
  });
  after(async () => {
    if (env) await tearDown(env);
    certs?.cleanup();
  });

  /** A grid sweep file in the temp dir; a function-agent sweep has no program and puts its parameters after `parameters:`. */
  const writeSweep = (name: string, lines: string[]): string => {
    const file = join(certs.dir, `${name}.yaml`);
    const params = lines[0]?.startsWith('  ') ? ['parameters:', ...lines] : lines;
    writeFileSync(file, [`name: ${name}`, 'method: grid', 'metric: {name: loss, goal: minimize}', ...params, ''].join('\n'));
    return file;
  };

  /** The CLI as a user runs it: HARROW_URL, HARROW_TOKEN and the CA through NODE_EXTRA_CA_CERTS. */
  const cli = (args: string[], extra: Record<string, string> = {}): Proc => {
    const p = startHarrow(args, { HARROW_URL: url, HARROW_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: certs.ca, ...extra });
    env.procs.push(p);
    return p;
  };

  test('the CLI and an HTTP agent run a sweep to the end over HTTPS', async () => {
    const file = writeSweep('over-https', ['program: test/fixtures/scripts/trainer.py', 'command: [python3, "${program}", "${args}"]', 'parameters:', '  x: {values: [0.1, 0.2, 0.3]}', '  steps: {value: 3}', '  sleep: {value: 0.02}']);
    const created = await finish(cli(['create', file, '--json']));
    assert.equal(created.code, 0, created.out);
    const sweep = JSON.parse(created.out) as { id: string };

    // REDIS_URL points nowhere: this agent reaches only the HTTPS port.
    const agent = await finish(
      cli(['agent', sweep.id, '--server', url, '--quiet'], { REDIS_URL: 'redis://127.0.0.1:1', HARROW_PREFIX: 'nothing-here', HARROW_HEARTBEAT_MS: '300', HARROW_CONTROL_POLL_MS: '200' }),
      90_000,
    );
    assert.equal(agent.code, 0, agent.out);

    const status = await finish(cli(['status', sweep.id, '--json']));
    assert.equal(status.code, 0, status.out);
    const detail = JSON.parse(status.out) as { state: string; counts: Record<string, number> };
    assert.equal(detail.state, 'finished', status.out);
    assert.equal(detail.counts.finished, 3, status.out);
  });

  test('a Python function agent (wandb.agent) runs over HTTPS with the CA in SSL_CERT_FILE, and says what to set without it', { skip: hasPython ? false : 'python3 is not on PATH' }, async () => {
    const created = await finish(cli(['create', '--json', writeSweep('notebook', ['  lr: {values: [1.0, 2.0]}', '  epochs: {value: 2}'])]));
    assert.equal(created.code, 0, created.out);
    const sweep = JSON.parse(created.out) as { id: string };
    const python = (extra: Record<string, string>): Proc => {
      const base = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith('HARROW_') && k !== 'PYTHONPATH' && k !== 'SSL_CERT_FILE'));
      const child = spawn('python3', ['test/fixtures/scripts/function-agent/notebook.py', sweep.id, '0'], {
        cwd: ROOT,
        env: { ...base, PYTHONPATH: SHIM, PYTHONUNBUFFERED: '1', HARROW_URL: url, HARROW_TOKEN: TOKEN, HARROW_HEARTBEAT_MS: '300', HARROW_CONTROL_POLL_MS: '200', ...extra },
        stdio: ['ignore', 'pipe', 'pipe'],
      });
      let out = '';
      child.stdout.on('data', (d: Buffer) => (out += d.toString()));
      child.stderr.on('data', (d: Buffer) => (out += d.toString()));
      const p = { child, output: () => out, exited: new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code))) };
      env.procs.push(p);
      return p;
    };
    // Python does not read NODE_EXTRA_CA_CERTS: without SSL_CERT_FILE it stops at once and says so.
    const refused = await finish(python({ NODE_EXTRA_CA_CERTS: certs.ca }), 30_000);
    assert.notEqual(refused.code, 0, refused.out);
    assert.match(refused.out, /TLS certificate does not verify .*SSL_CERT_FILE=/, refused.out);
    const ok = await finish(python({ SSL_CERT_FILE: certs.ca }), 60_000);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /AGENT RETURNED/);
    const status = await finish(cli(['status', sweep.id, '--json']));
    assert.equal((JSON.parse(status.out) as { counts: Record<string, number> }).counts.finished, 2, status.out);
  });

  test('plain http:// to the HTTPS port fails with a hint to use https://', async () => {
    const plain = `http://127.0.0.1:${env.controllerEnv.HARROW_PORT}`;
    const r = await finish(cli(['status'], { HARROW_URL: plain }));
    assert.notEqual(r.code, 0);
    assert.match(r.out, new RegExp(`closed the connection without answering: if it serves HTTPS.*HARROW_URL to https://127\\.0\\.0\\.1:${env.controllerEnv.HARROW_PORT}`));
    assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
  });

  test('a client that does not trust the server’s CA is refused with the reason and the fix', async () => {
    for (const extra of [{ NODE_EXTRA_CA_CERTS: certs.wrongCa }, { NODE_EXTRA_CA_CERTS: '' }]) {
      const r = await finish(cli(['status'], extra));
      assert.notEqual(r.code, 0, r.out);
      assert.match(r.out, /not signed by a CA this process trusts \((UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN|UNABLE_TO_GET_ISSUER_CERT_LOCALLY)\); set NODE_EXTRA_CA_CERTS/, r.out);
      assert.doesNotMatch(r.out, /\n\s+at /, 'no stack trace');
    }
    // The agent too: it stops at once instead of retrying a certificate that will never verify.
    const agent = await finish(cli(['agent', 'no-such-sweep', '--server', url], { NODE_EXTRA_CA_CERTS: certs.wrongCa, REDIS_URL: 'redis://127.0.0.1:1' }), 30_000);
    assert.notEqual(agent.code, 0, agent.out);
    assert.match(agent.out, /not signed by a CA this process trusts/, agent.out);
  });

  test('a server given a key that is not its certificate’s, or a missing file, says so in one line and exits 1', async () => {
    // Same port as the running server: the files are checked before the server tries to listen.
    for (const [extra, expected] of [
      [{ HARROW_TLS_KEY: join(certs.dir, 'wrong-ca.key') }, /^harrow server: HARROW_TLS_KEY \(.*wrong-ca\.key\) is not the private key of the certificate in HARROW_TLS_CERT/],
      [{ HARROW_TLS_CERT: join(certs.dir, 'missing.pem') }, /^harrow server: cannot read HARROW_TLS_CERT \(.*missing\.pem\): no such file/],
      [{ HARROW_TLS_KEY: '' }, /HTTPS needs both HARROW_TLS_CERT and HARROW_TLS_KEY; HARROW_TLS_KEY is missing/],
    ] as const) {
      const p = startHarrow(['server'], { ...env.controllerEnv, ...extra });
      env.procs.push(p);
      const r = await finish(p, 40_000);
      assert.equal(r.code, 1, r.out);
      assert.match(r.out.trim(), expected, r.out);
      assert.equal(r.out.trim().split('\n').length, 1, r.out);
    }
  });
});
