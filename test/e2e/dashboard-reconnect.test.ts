/**
 * The dashboard across a server restart, in headless Chromium against a real `harrow server`:
 * with the sweep page open (its event stream connected), SIGTERM stops the server within 5 s; the
 * page says it lost the connection, reconnects by itself once the server is back, says so, and
 * shows what changed while it was away (a run that finished during the outage) without a reload;
 * the new stream then carries live updates again. The list of sweeps, across a second restart,
 * stays on screen, says it is reconnecting, and shows fresh counts once the server is back.
 *
 * During the outage the event-stream requests get a 502, as from a reverse proxy in front of a
 * restarting server: the browser's EventSource gives up for good on an HTTP error, so the page
 * must retry by itself. The run's end is ingested before the page can reconnect, so no event
 * carries it: only the page's catch-up read after reconnecting can show it.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Redis } from 'ioredis';
import type { Browser } from 'playwright-core';
import { launchChromium, needChromium, runTable } from '../helpers/browser.js';
import { needServices, REDIS_URL } from '../helpers/services.js';
import { api, waitFor, waitForHttp, type Proc } from '../helpers/processes.js';
import { controller, createSweep, setUp, tearDown } from '../helpers/harness.js';
import { FakeAgent, newToken } from '../integration/controller/controller-harness.js';
import { redisKeys } from '../../protocol/wire.js';
import type { ListRunsResponse, RunSummary } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();

const SWEEP = `
name: reconnect
method: random
metric: {name: loss, goal: minimize}
run_cap: 2
program: train.py
parameters:
  x: {min: 0.0, max: 1.0}
`;

/** The runs table as [number, state, value] rows (the page's own formatting of the value). */

async function stopServer(p: Proc): Promise<number> {
  const t0 = Date.now();
  p.child.kill('SIGTERM');
  const code = await Promise.race([p.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), 5000))]);
  assert.notEqual(code, 'hung', `harrow server still running 5 s after SIGTERM with a dashboard open\n${p.output().slice(-2000)}`);
  assert.equal(code, 0, p.output().slice(-2000));
  return Date.now() - t0;
}

describe('dashboard across a server restart', { ...opts, timeout: 120_000 }, () => {
  test('SIGTERM exits within 5 s with the page open; the page reconnects by itself, says so, and shows fresh data', async () => {
    const env = await setUp('e2e_reconnect');
    // The fake agent sends no heartbeats: its runs must not be reaped as crashed during the test.
    env.controllerEnv.HARROW_CRASH_TIMEOUT_MS = '600000';
    env.controllerEnv.HARROW_AGENT_STALE_MS = '600000';
    const redis = new Redis(REDIS_URL);
    let browser: Browser | undefined;
    try {
      const first = controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(env, SWEEP);
      const agent = new FakeAgent(redis, redisKeys(env.prefix), sweep.id);
      await agent.advertise(2);
      const runs = await waitFor('two queued runs', async () => {
        const r = await api<ListRunsResponse>(env.url, `/api/sweeps/${sweep.id}/runs?sort=number`);
        return r.runs.length === 2 ? r.runs : undefined;
      });
      const [a, b] = runs as [RunSummary, RunSummary];
      const tokenA = newToken();
      await agent.claim(a.id, tokenA);
      await waitFor('run A running', async () => (await api<RunSummary>(env.url, `/api/runs/${a.id}`)).state === 'running');

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(10_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      const documents: string[] = [];
      page.on('request', (req) => {
        if (req.resourceType() === 'document') documents.push(req.url());
      });
      await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
      const live = page.locator('#live');
      const indicator = async () => [await live.getAttribute('class'), await live.textContent()];
      await waitFor('the live indicator', async () => (await live.textContent()) === 'live', 15_000, 100);
      const rows = page.locator('table.runs > tbody > tr');
      await waitFor('run A running in the table', async () => (await runTable(rows)).some(([n, state]) => n === a.number && state === 'running'), 10_000, 100);

      // ---- the server goes away: SIGTERM ends the page's stream, the process exits in time ----
      // Until released below, event-stream requests get what a proxy answers a restarting server.
      let outage = true;
      await page.route(
        (u) => u.pathname.endsWith('/events'),
        async (route) => {
          if (outage) await route.fulfill({ status: 502, contentType: 'text/plain', body: 'bad gateway' });
          else await route.continue();
        },
      );
      await stopServer(first);
      await waitFor('the page to say it is reconnecting', async () => /reconnecting/.test((await live.textContent()) ?? ''), 5_000, 50);
      assert.equal(await live.getAttribute('class'), 'live off');

      // ---- meanwhile run A ends; the restarted server ingests it with no page listening -------
      await agent.metrics(a.id, tokenA, [
        [0, 'loss', 0.9],
        [1, 'loss', 0.25],
      ]);
      await agent.end(a.id, tokenA, 'finished');
      const second = controller(env);
      await waitForHttp(env.url);
      await waitFor('run A ingested as finished', async () => (await api<RunSummary>(env.url, `/api/runs/${a.id}`)).state === 'finished', 20_000);
      assert.ok(/reconnecting/.test((await live.textContent()) ?? ''), 'still reconnecting while the proxy answers 502');
      outage = false;

      // ---- the page comes back by itself, says so, and shows run A finished --------------------
      await waitFor('the page to say it reconnected', async () => (await live.textContent()) === 'reconnected', 15_000, 50);
      assert.deepEqual(await indicator(), ['live on', 'reconnected']);
      await waitFor(
        'run A finished with its value in the table',
        async () => (await runTable(rows)).some(([n, state, value]) => n === a.number && state === 'finished' && value === '0.25'),
        5_000,
        100,
      ).catch(async (err: Error) => assert.fail(`${err.message}; the table shows ${JSON.stringify(await runTable(rows))}`));
      await waitFor('the indicator back to "live"', async () => (await live.textContent()) === 'live', 10_000, 100);

      // ---- and the new stream is live: run B's progress shows up without a reload --------------
      const tokenB = newToken();
      await agent.claim(b.id, tokenB);
      await waitFor('run B running in the table', async () => (await runTable(rows)).some(([n, state]) => n === b.number && state === 'running'), 10_000, 100);

      // ---- the list of sweeps across a restart: kept on screen, "reconnecting…", then fresh ----
      await page.locator('#crumbs a').click();
      const listRow = page.locator('#main tbody tr').filter({ hasText: sweep.id });
      const running = async () => (await listRow.locator('td').nth(5).textContent())?.trim();
      await waitFor('the list with run B running', async () => (await running()) === '1', 10_000, 100);
      await stopServer(second);
      await waitFor('the list to say it is reconnecting', async () => /reconnecting/.test((await live.textContent()) ?? ''), 15_000, 100);
      assert.equal(await listRow.count(), 1, 'the list stays on screen while the server is away');
      await agent.end(b.id, tokenB, 'finished');
      controller(env);
      await waitFor('the list to say it reconnected', async () => (await live.textContent()) === 'reconnected', 60_000, 50);
      await waitFor('the list to show no run running', async () => (await running()) === '0', 15_000, 100);

      assert.deepEqual(
        documents.map((u) => u.replace(/#.*$/, '')),
        [`${env.url}/`],
        'the page was loaded once, never reloaded',
      );
      assert.deepEqual(pageErrors, [], 'no uncaught exception in the page');
    } finally {
      await browser?.close();
      await redis.quit();
      await tearDown(env);
    }
  });

  test('a run queued after the page loaded its runs but before its event stream started shows without any further event', async () => {
    const env = await setUp('e2e_catchup');
    let browser: Browser | undefined;
    try {
      controller(env);
      await waitForHttp(env.url);
      const sweep = await createSweep(env, SWEEP);
      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // The page asks for a stream ticket after its first load; hold that request until a run has
      // been queued, so that the run's event goes out before the page listens.
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      await page.route('**/api/stream-tickets', async (route) => {
        await held;
        await route.continue();
      });
      await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
      await page.locator('table.runs, .card').first().waitFor();
      await waitFor('the page to have asked for its stream', async () => (await page.locator('#main h1').count()) > 0, 15_000, 100);
      await api(env.url, `/api/sweeps/${sweep.id}/enqueue`, { method: 'POST', body: JSON.stringify({ params: { x: 0.25 } }) });
      await waitFor('the run queued', async () => (await api<ListRunsResponse>(env.url, `/api/sweeps/${sweep.id}/runs`)).total === 1, 15_000, 100);
      release();
      // No agent: the run stays queued and no further event comes. Before the catch-up on the
      // stream's first open, the table stayed empty ("0 of 0 runs") until some later event.
      const rows = page.locator('table.runs > tbody > tr');
      await waitFor('the queued run in the table', async () => (await runTable(rows)).some(([n, state]) => n === 1 && state === 'queued'), 15_000, 100);
    } finally {
      await browser?.close();
      await tearDown(env);
    }
  });
});
