/**
 * The dashboard's controls in headless Chromium, against a real controller process and a real
 * agent running the Python trainer: pause, resume and stop a sweep, stop one run from its page,
 * cancel another sweep. Once with a server that has a token (the page asks for it once, keeps it
 * for the tab, and every action goes through with it) and once without (nothing is asked). After
 * each click the page and the API agree on the new state. Screenshots go to
 * test-artifacts/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { launchChromium, needChromium, untilEqual, watchProblems } from '../helpers/browser.js';
import { needServices } from '../helpers/services.js';
import { ROOT, api, waitFor, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, type Env } from '../helpers/harness.js';
import type { ListRunsResponse, RunDetail, SweepDetail } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const TOKEN = 'dashboard-controls-token-42';

/** Runs of 100 × 0.1 s: one is running for as long as the test needs it. */
const SWEEP = (name: string) => `
name: ${name}
method: random
metric: {name: loss, goal: minimize}
run_cap: 20
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {min: 0.0, max: 1.0}
  steps: {value: 100}
  sleep: {value: 0.1}
`;

for (const withToken of [true, false]) {
  describe(`dashboard controls ${withToken ? 'with' : 'without'} a token`, { ...opts, timeout: 150_000 }, () => {
    let env: Env;
    let browser: Browser | undefined;
    before(async () => {
      env = await setUp(withToken ? 'e2e_ctl_tok' : 'e2e_ctl');
      if (withToken) env.controllerEnv.HARROW_TOKEN = TOKEN;
      controller(env);
      await waitForHttp(env.url);
      browser = await launchChromium();
      await mkdir(SHOTS, { recursive: true });
    });
    after(async () => {
      await browser?.close();
      await tearDown(env);
    });

    const headers = (): Record<string, string> => (withToken ? { authorization: `Bearer ${TOKEN}` } : {});
    const sweepOf = (id: string) => api<SweepDetail>(env.url, `/api/sweeps/${id}`, { headers: headers() });
    const suffix = withToken ? 'token' : 'open';

    /** Clicks a header control and waits until the page's badge and the API both say `state`. */
    async function act(page: Page, id: string, button: string, state: string): Promise<void> {
      await page.locator('.sweep-head .actions').getByRole('button', { name: button, exact: true }).click();
      await untilEqual(`${button}: the page and the API say ${state}`, async () => [await page.locator('#main h1 .state').textContent(), (await sweepOf(id)).state], () => [state, state], 15_000);
    }

    test('pause, resume, stop a run from its page, stop the sweep; cancel another sweep', async () => {
      const sweep = await createSweep(env, SWEEP(`controls-${suffix}`));
      agent(env, sweep.id);
      const page = await browser!.newPage({ viewport: { width: 1300, height: 1000 } });
      page.setDefaultTimeout(10_000);
      const { problems } = watchProblems(page);
      // The page's confirm() before stop, cancel and stop-run: the user says yes.
      const confirms: string[] = [];
      page.on('dialog', (d) => {
        confirms.push(d.message());
        void d.accept();
      });
      let asked = 0;
      await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
      if (withToken) {
        await page.locator('#token-input').waitFor({ state: 'visible' });
        asked += 1;
        await page.locator('#token-input').fill(TOKEN);
        await page.getByRole('button', { name: 'Use token' }).click();
        // The 401s that made the page ask (Chromium logs each as a console error too) are the
        // only way it learns a token is needed; nothing else may go wrong, before or after.
        const discovery = problems.splice(0);
        assert.ok(discovery.length > 0 && discovery.every((p) => /^HTTP 401: GET .*\/api\/sweeps\/|status of 401/.test(p)), discovery.join('\n'));
      }
      await page.locator('#main h1').filter({ hasText: `controls-${suffix}` }).waitFor();
      await untilEqual('live', () => page.locator('#live').textContent(), () => 'live', 15_000);

      await act(page, sweep.id, 'Pause', 'paused');
      await page.screenshot({ path: join(SHOTS, `controls-paused-${suffix}.png`), fullPage: true });
      await act(page, sweep.id, 'Resume', 'running');

      // ---- stop one running run from its own page --------------------------------------------
      const running = await waitFor(
        'a running run',
        async () => (await api<ListRunsResponse>(env.url, `/api/sweeps/${sweep.id}/runs?state=running`, { headers: headers() })).runs[0],
        30_000,
        200,
      );
      await page.locator('table.runs > tbody > tr').filter({ has: page.locator(`a[href="#/runs/${running.id}"]`) }).locator(`a[href="#/runs/${running.id}"]`).click();
      await page.locator('#main h1').filter({ hasText: `Run #${running.number}` }).waitFor();
      // The command line, as the agent ran it, with a copy button.
      const detail = await api<RunDetail>(env.url, `/api/runs/${running.id}`, { headers: headers() });
      assert.deepEqual(detail.command, ['python3', 'test/fixtures/scripts/trainer.py', '--sleep=0.1', '--steps=100', `--x=${String(running.params.x)}`]);
      assert.equal(await page.locator('#run-command').textContent(), detail.command.join(' '));
      await page.getByRole('button', { name: 'Stop run' }).click();
      await untilEqual('the run stopped (page and API)', async () => [await page.locator('#main h1 .state').textContent(), (await api<RunDetail>(env.url, `/api/runs/${running.id}`, { headers: headers() })).state], () => ['stopped', 'stopped'], 20_000);
      await page.screenshot({ path: join(SHOTS, `controls-run-stopped-${suffix}.png`), fullPage: true });

      // ---- back to the sweep: stop it (no new runs; the running one finishes) -----------------
      await page.goBack();
      await page.locator('#main h1').filter({ hasText: `controls-${suffix}` }).waitFor();
      await page.locator('.sweep-head .actions').getByRole('button', { name: 'Stop', exact: true }).click();
      await waitFor('the sweep to stop taking runs', async () => (await sweepOf(sweep.id)).state === 'finished', 30_000, 200);
      await untilEqual('the page says finished', () => page.locator('#main h1 .state').textContent(), () => 'finished', 15_000);
      assert.equal(await page.locator('.sweep-head .actions button').filter({ hasText: /^(Pause|Resume|Stop|Cancel)$/ }).count(), 0, 'an ended sweep offers no controls');

      // ---- a second sweep, canceled -----------------------------------------------------------
      const other = await createSweep(env, SWEEP(`cancel-${suffix}`));
      await page.goto(`${env.url}/#/sweeps/${other.id}`);
      await page.locator('#main h1').filter({ hasText: `cancel-${suffix}` }).waitFor();
      await act(page, other.id, 'Cancel', 'canceled');
      await page.screenshot({ path: join(SHOTS, `controls-canceled-${suffix}.png`), fullPage: true });

      assert.deepEqual(
        confirms.map((m) => m.split('?')[0]),
        [`Stop run #${running.number}`, 'Stop this sweep', 'Cancel this sweep'],
        'stop-run, stop and cancel asked for confirmation; pause and resume did not',
      );
      // Asked once for the whole tab, however many reads and actions (and a page.goto) followed.
      assert.equal(asked, withToken ? 1 : 0);
      assert.equal(await page.locator('dialog.token-dialog').count(), 0);
      assert.equal(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('harrow.token')), withToken ? TOKEN : null);
      assert.deepEqual(problems, [], 'no console errors and no failed requests');
      await page.close();
    });
  });
}
