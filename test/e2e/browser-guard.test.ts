/**
 * No web page can drive a loopback controller, proven in headless Chromium against a real
 * `harrow server` on 127.0.0.1 with no token (the README's safe setup). Attacker pages come from a
 * second HTTP server on another port, under a foreign name (`evil.test`, mapped to 127.0.0.1 with
 * Chromium's host resolver rules: cross-site) and under 127.0.0.1 itself (same-site, another
 * origin). They try every request a page can send without a CORS preflight; afterwards the API
 * must show nothing created or changed, and the responses the browser saw must be the server's
 * refusals (so the test cannot pass just because the browser never sent them). DNS rebinding is
 * simulated by serving the attacker's document for `attacker.test:<controller port>` from the
 * test (the first DNS answer) while everything after it reaches the controller (the rebound one).
 * Same-origin pages (the dashboard) and the CLI, which sends no Origin, still work.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { needServices } from '../helpers/services.js';
import { CHROMIUM, CHROMIUM_ARGS, needChromium } from '../helpers/browser.js';
import { api, freePort, startHarrow, waitForHttp } from '../helpers/processes.js';
import { controller, setUp, tearDown, type Env } from '../helpers/harness.js';
import type { SweepDetail, SweepSummary } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium('the browser guard test');

/** What an attacker would post: its command would run on every agent of the installation. */
const EVIL_YAML = ['name: pwned', 'method: random', 'command: [sh, -c, "touch /tmp/harrow-pwned"]', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');
const GOOD_YAML = ['name: from-the-cli', 'method: random', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

interface Outcome {
  attack: string;
  /** 'opaque' (no-cors: the page learns nothing), 'status NNN', or the error the page got. */
  result: string;
}

/**
 * Every state-changing request a page can send to another origin without a preflight. Runs in
 * the attacker's page; the browser side has no DOM typings here (tsconfig's lib is ES only).
 */
async function attacks(page: Page, target: string, sweepId: string): Promise<Outcome[]> {
  return page.evaluate(
    async ({ target, sweepId, yaml }) => {
      interface Env {
        URLSearchParams: new (init: Record<string, string>) => unknown;
        FormData: new () => { append(k: string, v: string): void };
        Blob: new (parts: string[]) => unknown;
      }
      const g = globalThis as unknown as Env;
      const form = new g.FormData();
      form.append('config', yaml);
      const tries: Array<[string, string, RequestInit]> = [
        ['no-cors text/plain POST', '/api/sweeps', { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: yaml }],
        ['cors text/plain POST', '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/plain' }, body: yaml }],
        ['no-cors form-urlencoded POST', '/api/sweeps', { method: 'POST', mode: 'no-cors', body: new g.URLSearchParams({ config: yaml }) as never }],
        ['no-cors multipart POST', '/api/sweeps', { method: 'POST', mode: 'no-cors', body: form as never }],
        ['no-cors untyped Blob POST', '/api/sweeps', { method: 'POST', mode: 'no-cors', body: new g.Blob([yaml]) as never }],
        ['cors JSON POST (needs a preflight)', '/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: yaml }) }],
        ['no-cors bodyless pause', `/api/sweeps/${sweepId}/pause`, { method: 'POST', mode: 'no-cors' }],
        ['no-cors bodyless cancel', `/api/sweeps/${sweepId}/cancel`, { method: 'POST', mode: 'no-cors' }],
        ['no-cors text/plain cancel', `/api/sweeps/${sweepId}/cancel`, { method: 'POST', mode: 'no-cors', headers: { 'content-type': 'text/plain' }, body: '{}' }],
      ];
      const out: Array<{ attack: string; result: string }> = [];
      for (const [attack, path, init] of tries) {
        try {
          const res = await fetch(`${target}${path}`, init);
          out.push({ attack, result: res.type === 'opaque' ? 'opaque' : `status ${res.status}` });
        } catch (err) {
          out.push({ attack, result: String(err) });
        }
      }
      return out;
    },
    { target, sweepId, yaml: EVIL_YAML },
  );
}

/** An HTML form the page submits itself: the classic CSRF, a YAML body smuggled in a field name. */
function formPage(action: string, enctype: string): string {
  // text/plain sends `name=value`: with the YAML in the name and a final `#`, the `=` is a comment.
  const field = EVIL_YAML.replace(/\n/g, '&#10;') + '#';
  return `<!doctype html><title>cute cats</title><form method="POST" action="${action}" enctype="${enctype}"><input type="hidden" name="${field}" value=""></form>`;
}

describe('a web page cannot drive a loopback controller', { ...opts, timeout: 180_000 }, () => {
  let env: Env;
  let browser: Browser;
  let attacker: Server;
  let attackerPort: number;
  let ctlPort: string;
  let cliSweep: SweepDetail;
  let dir: string;
  /** Responses the browser got from the controller: method, path, status. */
  const seen: Array<{ method: string; path: string; status: number; origin: string }> = [];

  async function sweeps(): Promise<SweepSummary[]> {
    return (await api<{ sweeps: SweepSummary[] }>(env.url, '/api/sweeps')).sweeps;
  }

  async function newPage(): Promise<Page> {
    const page = await browser.newPage();
    page.setDefaultTimeout(10_000);
    page.on('response', (res) => {
      const url = new URL(res.url());
      if (url.port === ctlPort) seen.push({ method: res.request().method(), path: url.pathname, status: res.status(), origin: url.host });
    });
    return page;
  }

  before(async () => {
    env = await setUp('e2e_guard');
    ctlPort = new URL(env.url).port;
    controller(env);
    attackerPort = await freePort();
    const pages = new Map<string, string>([
      ['/form-text', formPage(`${env.url}/api/sweeps`, 'text/plain')],
      ['/form-urlencoded', formPage(`${env.url}/api/sweeps`, 'application/x-www-form-urlencoded')],
    ]);
    attacker = createServer((req, res) => {
      const body = pages.get(new URL(req.url ?? '/', 'http://x').pathname) ?? '<!doctype html><title>cute cats</title><p>nothing to see</p>';
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' }).end(body);
    });
    await new Promise<void>((resolve) => attacker.listen(attackerPort, '127.0.0.1', resolve));
    dir = await mkdtemp(join(tmpdir(), 'harrow-guard-'));
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        ...CHROMIUM_ARGS,
        '--host-resolver-rules=MAP evil.test 127.0.0.1, MAP attacker.test 127.0.0.1',
        // Chromium's own local-network checks block a page the test serves itself (it counts as
        // public) from calling loopback. Firefox and Safari have no such check, so the server must
        // hold without it: the test turns it off.
        '--disable-features=LocalNetworkAccessChecks,BlockInsecurePrivateNetworkRequests,PrivateNetworkAccessSendPreflights',
      ],
    });
    await waitForHttp(env.url);
  });

  after(async () => {
    await browser?.close();
    await new Promise((resolve) => attacker?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
    if (env) await tearDown(env);
  });

  test('the CLI, which sends no Origin, creates and pauses a sweep', async () => {
    const file = join(dir, 'sweep.yaml');
    await writeFile(file, GOOD_YAML);
    const cli = async (...args: string[]): Promise<string> => {
      const p = startHarrow(args, { HARROW_URL: env.url });
      const code = await p.exited;
      assert.equal(code, 0, `harrow ${args.join(' ')} exited ${code}:\n${p.output()}`);
      return p.output();
    };
    const created = await cli('create', file, '--json');
    cliSweep = JSON.parse(created) as SweepDetail;
    assert.equal(cliSweep.state, 'running');
    await cli('pause', cliSweep.id);
    assert.equal((await api<SweepDetail>(env.url, `/api/sweeps/${cliSweep.id}`)).state, 'paused');
    await cli('resume', cliSweep.id);
    assert.match(await cli('status'), new RegExp(cliSweep.id));
  });

  for (const site of ['evil.test', '127.0.0.1'] as const) {
    test(`a page at http://${site}:<other port> sends every preflight-free request; nothing is created or changed`, async () => {
      const page = await newPage();
      try {
        const start = seen.length;
        await page.goto(`http://${site}:${attackerPort}/`);
        const outcomes = await attacks(page, env.url, cliSweep.id);
        // The page learns nothing: opaque answers or network errors, never a status.
        for (const o of outcomes) assert.ok(o.result === 'opaque' || o.result.startsWith('TypeError'), `${o.attack}: ${o.result}`);

        // Real forms, submitted as a navigation (what a page does with no script at all).
        for (const form of ['/form-text', '/form-urlencoded']) {
          await page.goto(`http://${site}:${attackerPort}${form}`);
          const [res] = await Promise.all([page.waitForResponse((r) => r.url() === `${env.url}/api/sweeps`), page.locator('form').evaluate((f: unknown) => (f as { submit(): void }).submit())]);
          assert.equal(res.status(), 403, `${form}: ${await res.text()}`);
          assert.match(await res.text(), /CROSS_SITE_REQUEST/);
        }

        // The browser did send them, and the controller refused each one.
        const posts = seen.slice(start).filter((s) => s.method === 'POST');
        assert.ok(posts.length >= 9, `the browser sent the POSTs (saw ${JSON.stringify(posts)})`);
        for (const p of posts) assert.equal(p.status, 403, `POST ${p.path} from ${site}`);
        const names = (await sweeps()).map((s) => s.name);
        assert.ok(!names.includes('pwned'), `a page created a sweep: ${names.join(', ')}`);
        assert.equal((await api<SweepDetail>(env.url, `/api/sweeps/${cliSweep.id}`)).state, 'running', 'the sweep was neither paused nor canceled');
      } finally {
        await page.close();
      }
    });
  }

  test('DNS rebinding: a page whose own name now points at the controller cannot read or write it', async () => {
    const page = await newPage();
    try {
      const origin = `http://attacker.test:${ctlPort}`;
      // The first answer for attacker.test: the attacker's server (simulated here) hands out the page.
      await page.route(`${origin}/`, (route) => route.fulfill({ contentType: 'text/html', body: '<!doctype html><title>cute cats</title>' }));
      await page.goto(`${origin}/`);
      // From here on attacker.test resolves to 127.0.0.1: the page's same-origin requests reach the controller.
      const results = await page.evaluate(
        async ({ sweepId }) => {
          const read = async (path: string, init?: RequestInit) => {
            const res = await fetch(path, init);
            return { path, status: res.status, text: await res.text() };
          };
          return [
            await read('/api/sweeps'),
            await read(`/api/sweeps/${sweepId}`),
            await read(`/api/sweeps/${sweepId}/runs`),
            await read('/metrics'),
            await read('/docs/json'),
            await read('/api/sweeps', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ config: 'method: random\nparameters:\n  x: {min: 0, max: 1}\n' }) }),
            await read(`/api/sweeps/${sweepId}/cancel`, { method: 'POST' }),
            await read('/healthz'),
          ];
        },
        { sweepId: cliSweep.id },
      );
      const health = results.pop()!;
      // /healthz answers any Host (probes): proof that the page really reaches the controller.
      assert.equal(health.status, 200, health.text);
      assert.match(health.text, /"ok":true/);
      for (const r of results) {
        assert.equal(r.status, 421, `${r.path}: ${r.text}`);
        assert.match(r.text, /HOST_NOT_ALLOWED/);
        assert.ok(!r.text.includes(cliSweep.id), `${r.path} leaked the sweep id`);
      }
      assert.equal((await api<SweepDetail>(env.url, `/api/sweeps/${cliSweep.id}`)).state, 'running');
      assert.equal((await sweeps()).length, 1);
    } finally {
      await page.close();
    }
  });

  test('the dashboard, same origin, still shows the sweep and may change it', async () => {
    const page = await newPage();
    try {
      const problems: string[] = [];
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      await page.goto(`${env.url}/`);
      await page.locator('#main tbody tr').filter({ hasText: cliSweep.id }).waitFor();
      // The page has no mutating control today; a same-origin POST is what one would send.
      const changed = await page.evaluate(async (id) => {
        const post = async (path: string, body?: string) => {
          const res = await fetch(path, { method: 'POST', ...(body === undefined ? {} : { headers: { 'content-type': 'application/json' }, body }) });
          return { status: res.status, body: (await res.json()) as { state?: string } };
        };
        return [await post(`api/sweeps/${id}/pause`, '{}'), await post(`api/sweeps/${id}/resume`)];
      }, cliSweep.id);
      assert.deepEqual(
        changed.map((c) => [c.status, c.body.state]),
        [
          [200, 'paused'],
          [200, 'running'],
        ],
      );
      // The same page under the other loopback names (how users and SSH tunnels reach it).
      await page.goto(`http://localhost:${ctlPort}/`);
      await page.locator('#main tbody tr').filter({ hasText: cliSweep.id }).waitFor();
      assert.deepEqual(problems, []);
    } finally {
      await page.close();
    }
  });
});
