/**
 * The dashboard with read authentication on, in headless Chromium against a real controller:
 * the page asks for the token once, keeps it for the tab (a reload does not ask again), opens the
 * sweep's event stream with a stream ticket (the token never appears in a URL), shows live
 * updates over it, and says who last changed the sweep ("paused by alice").
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser } from 'playwright-core';
import { launchChromium, needChromium, runTable } from '../helpers/browser.js';
import { needServices } from '../helpers/services.js';
import { waitFor } from '../helpers/processes.js';
import { FakeAgent, expectOk, http, newToken, startTestController } from '../integration/controller/controller-harness.js';
import { CreatedTokenSchema } from '../../protocol/auth-api.js';
import { ListRunsResponseSchema, SweepDetailSchema } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();

const ROOT = 'dashboard-root-token-123';
const SWEEP = ['name: guarded', 'method: random', 'metric: {name: loss, goal: minimize}', 'run_cap: 2', 'program: train.py', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n');

describe('dashboard with read auth on', { ...opts, timeout: 90_000 }, () => {
  test('asks for the token once, streams live over a ticket, says who paused the sweep', async () => {
    const c = await startTestController({ env: { HARROW_TOKEN: ROOT } });
    let browser: Browser | undefined;
    try {
      const auth = { authorization: `Bearer ${ROOT}` };
      const alice = await expectOk(
        CreatedTokenSchema,
        http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ name: 'alice', role: 'member' }) }),
        201,
      );
      const viewer = await expectOk(
        CreatedTokenSchema,
        http(c.url, '/api/tokens', { method: 'POST', headers: { 'content-type': 'application/json', ...auth }, body: JSON.stringify({ name: 'bob', role: 'viewer' }) }),
        201,
      );
      const sweep = await expectOk(SweepDetailSchema, http(c.url, '/api/sweeps', { method: 'POST', headers: { 'content-type': 'text/yaml', authorization: `Bearer ${alice.token}` }, body: SWEEP }), 201);
      const agent = new FakeAgent(c.redis, c.keys, sweep.id);
      await agent.advertise(1);
      const run = await waitFor('a queued run', async () => (await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs`, { headers: auth }))).runs[0]);

      browser = await launchChromium();
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      page.setDefaultTimeout(10_000);
      const pageErrors: string[] = [];
      page.on('pageerror', (err) => pageErrors.push(err.message));
      const streams: string[] = [];
      page.on('request', (req) => {
        if (new URL(req.url()).pathname.endsWith('/events')) streams.push(req.url());
      });
      await page.goto(`${c.url}/#/sweeps/${sweep.id}`);

      // The page cannot read without a token: it asks, once, however many calls wanted it.
      const input = page.locator('#token-input');
      await input.waitFor({ state: 'visible' });
      assert.equal(await page.locator('dialog.token-dialog').count(), 1);
      await input.fill(viewer.token);
      await page.getByRole('button', { name: 'Use token' }).click();

      const live = page.locator('#live');
      await waitFor('the live indicator', async () => (await live.textContent()) === 'live', 15_000, 100);
      assert.ok(streams.length > 0 && streams.every((u) => /[?&]ticket=/.test(u)), `streams opened with a ticket: ${streams.join(', ')}`);
      assert.ok(streams.every((u) => !u.includes(viewer.token) && !u.includes(encodeURIComponent(viewer.token))), 'the token itself never appears in a URL');
      const header = page.locator('.sweep-head');
      await waitFor('"created by alice" in the header', async () => /created by alice/.test((await header.textContent()) ?? ''), 10_000, 100);

      // Live updates over the ticketed stream: a run starts, the sweep is paused by alice.
      const rows = page.locator('table.runs > tbody > tr');
      await agent.claim(run.id, newToken());
      await waitFor('the run running in the table', async () => (await runTable(rows)).some(([n, state]) => n === run.number && state === 'running'), 10_000, 100);
      await expectOk(SweepDetailSchema, http(c.url, `/api/sweeps/${sweep.id}/pause`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: `Bearer ${alice.token}` }, body: '{}' }));
      await waitFor('"paused by alice" in the header', async () => /paused by alice/.test((await header.textContent()) ?? ''), 10_000, 100).catch(async (err: Error) =>
        assert.fail(`${err.message}; the header says ${await header.textContent()}`),
      );

      // The token is kept for the tab: a reload reads at once, without asking again. The runs are
      // read once, by the requests sweep-data.js makes as the page opens (with the kept token),
      // which the page then uses rather than asking again (the catch-up after the stream opens
      // reads the newest page with no offset). Before the token was given, those got a 401 and
      // the page asked again through the dialog, above.
      const reads: string[] = [];
      const onRequest = (req: { url: () => string }) => {
        const u = new URL(req.url());
        if (u.pathname === `/api/sweeps/${sweep.id}/runs` && u.searchParams.get('offset') === '0') reads.push(u.pathname);
      };
      page.on('request', onRequest);
      await page.reload();
      await waitFor('live after a reload', async () => (await live.textContent()) === 'live', 15_000, 100);
      page.off('request', onRequest);
      assert.equal(reads.length, 1, `the first runs page read once: ${reads.join(', ')}`);
      assert.equal(await page.locator('dialog.token-dialog').count(), 0, 'no second prompt');
      assert.deepEqual(pageErrors, []);
    } finally {
      await browser?.close();
      await c.close();
    }
  });
});
