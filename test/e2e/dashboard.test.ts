/**
 * The dashboard in a real browser: headless Chromium (driven by playwright-core) against a real
 * controller process, a real sweep and two real agents running the Python trainer. It checks what
 * a user sees: the sweep in the list, the best so far equal to the API's, the best-so-far and
 * metric charts drawn from the API's data, one table row per run, a run finishing while the page
 * is open appearing without a reload (server-sent events), and no console error or failed request.
 *
 * Chromium comes from the system (Debian's `chromium` package; `.ci/run` installs it), or from
 * HARROW_CHROMIUM. Locally the test skips without it; in CI it fails.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Locator } from 'playwright-core';
import { CHROMIUM, CHROMIUM_ARGS, chartOf, needChromium, rowsOf, runTable, untilEqual, watchProblems } from '../helpers/browser.js';
import { needServices } from '../helpers/services.js';
import { api, waitFor, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished, type Env } from '../helpers/harness.js';
import { trainerSweep } from '../helpers/trainer-sweep.js';
import type { BestResponse, ListRunsResponse, SweepDetail } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();

const RUN_CAP = 6;
const STEPS = 8;
const SWEEP_NAME = 'dashboard-e2e';
/**
 * Each run takes STEPS × 0.25 s = 2 s, so with two agents the sweep lasts about three rounds
 * (~7 s): the page is open well before the last runs finish.
 */
const SWEEP = trainerSweep({ name: SWEEP_NAME, runCap: RUN_CAP, steps: STEPS, sleep: 0.25 });

/**
 * What the page shows for a metric value: it prints 5 significant digits (the trainer's losses
 * lie between 1/STEPS and 0.5 + 1/STEPS, so never in exponent form). Comparing numbers, not
 * strings, leaves trailing-zero trimming to the page.
 */
function shown(value: number): number {
  return Number(value.toPrecision(5));
}

/** The runs table with values as numbers. */
async function runValues(rows: Locator): Promise<Array<[number, string, number]>> {
  return (await runTable(rows)).map(([n, state, value]) => [n, state, Number(value)]);
}

async function apiRuns(env: Env, id: string): Promise<ListRunsResponse> {
  return api<ListRunsResponse>(env.url, `/api/sweeps/${id}/runs?limit=1000&sort=-number`);
}

describe('dashboard in a browser', { ...opts, timeout: 120_000 }, () => {
  test('a live sweep: list, best so far, charts, runs table, live updates, no errors', async () => {
    const env = await setUp('e2e_dash');
    let browser: Browser | undefined;
    try {
      browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
      const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
      // A missing element fails a read in 10 s, not playwright's default 30 s.
      page.setDefaultTimeout(10_000);
      const { problems, closedStreams } = watchProblems(page);
      const documents: string[] = [];
      page.on('request', (req) => {
        if (req.resourceType() === 'document') documents.push(req.url());
      });

      controller(env);
      await waitForHttp(env.url);
      const sweep: SweepDetail = await createSweep(env, SWEEP);
      agent(env, sweep.id);
      agent(env, sweep.id);

      // ---- the list: the sweep, by name and id, running -------------------------------------
      await page.goto(`${env.url}/`);
      const listRow = page.locator('#main tbody tr').filter({ hasText: sweep.id });
      await listRow.waitFor({ timeout: 10_000 });
      assert.equal(await listRow.locator('td').nth(0).locator('a').textContent(), SWEEP_NAME);
      assert.equal(await listRow.locator('td').nth(0).locator('.mono').textContent(), sweep.id);
      assert.equal(await listRow.locator('td').nth(1).textContent(), 'running');

      // ---- open the sweep by clicking it, as a user would -----------------------------------
      await listRow.locator('a').click();
      await page.locator('#main h1').filter({ hasText: SWEEP_NAME }).waitFor({ timeout: 10_000 });
      assert.equal(new URL(page.url()).hash, `#/sweeps/${sweep.id}`);
      const runRows = page.locator('table.runs > tbody > tr');
      await waitFor('the runs table or its empty note', async () => (await runRows.count()) > 0 || (await page.getByText('No runs yet.').count()) > 0, 10_000, 100);
      // The event stream is connected (the indicator turns "live" on the stream's open event).
      await untilEqual('the live indicator', async () => [await page.locator('#live').getAttribute('class'), await page.locator('#live').textContent()], () => ['live on', 'live']);
      // A reload would drop this mark; hash routing and live updates must not.
      await page.evaluate(() => ((globalThis as unknown as { harrowE2eMark?: string }).harrowE2eMark = 'still here'));
      const finishedAtOpen = new Set((await runValues(runRows)).filter((row) => row[1] === 'finished').map((row) => row[0]));
      assert.ok(finishedAtOpen.size < RUN_CAP, `every run had finished before the page opened (${finishedAtOpen.size}); runs are too fast for this test`);

      // ---- live: a run that finishes now shows up finished, with its value, without a reload --
      const later = await waitFor(
        'a run to finish after the page opened',
        async () => (await apiRuns(env, sweep.id)).runs.find((r) => r.state === 'finished' && r.value !== null && !finishedAtOpen.has(r.number)),
        30_000,
        100,
      );
      assert.equal((await api<SweepDetail>(env.url, `/api/sweeps/${sweep.id}`)).state, 'running', 'the sweep is still running');
      await untilEqual(
        `run #${later.number} finished in the table, live`,
        async () => (await runValues(runRows)).find((row) => row[0] === later.number)?.slice(1, 3),
        () => ['finished', shown(later.value!)],
        5_000,
      );

      // ---- once the sweep is over, the page must agree with the API ----------------------------
      await waitFinished(env, sweep.id);
      const best = await api<BestResponse>(env.url, `/api/sweeps/${sweep.id}/best`);
      const { runs, total } = await apiRuns(env, sweep.id);
      assert.equal(total, RUN_CAP);
      assert.equal(runs.length, RUN_CAP);
      assert.ok(best.best, 'the API has a best run');
      assert.equal(best.counted, RUN_CAP);

      await untilEqual('the header state', async () => page.locator('#main h1 .state').textContent(), () => 'finished');
      // The best so far: value (as the page formats it) and which run.
      const bestCard = page.locator('#main .summary .card').filter({ has: page.locator('h2', { hasText: /^best$/i }) });
      await untilEqual(
        'the best card',
        async () => [Number(await bestCard.locator('.big').textContent()), (await bestCard.locator('div').nth(1).textContent())?.split(' at step')[0]],
        () => [shown(best.best!.value), `run #${best.best!.number}`],
      );
      // The runs total in the summary.
      const runsCard = page.locator('#main .summary .card').filter({ has: page.locator('h2', { hasText: /^runs$/i }) });
      assert.match((await runsCard.locator('.big').textContent()) ?? '', new RegExp(`^${RUN_CAP}\\b`));

      // The best-so-far chart: the step line is the API's curve (each improvement at its index among
      // counted runs, then held to the last one); the dots are every finished and every stopped
      // run, one series each.
      const bestChart = page.locator('#main .grid .card').filter({ has: page.locator('h2', { hasText: /^best so far$/i }) }).locator('.chart');
      const finishedValues = runs.filter((r) => (r.state === 'finished' || r.state === 'stopped') && r.value !== null).map((r) => r.value!);
      await untilEqual(
        'the best-so-far chart',
        async () => {
          const c = await chartOf(bestChart);
          const [finished, stopped, line] = c.series;
          return {
            instance: c.instance,
            types: c.series.map((s) => s.type),
            line: line?.data,
            dots: [...(finished?.data ?? []), ...(stopped?.data ?? [])].map((d) => (d as [number, number])[1]).sort((a, b) => a - b),
            painted: c.painted > 0,
          };
        },
        () => ({
          instance: true,
          types: ['scatter', 'scatter', 'line'],
          line: [...best.curve.map((p) => [p.index, p.value]), [best.counted, best.curve.at(-1)!.value]],
          dots: [...finishedValues].sort((a, b) => a - b),
          painted: true,
        }),
      );
      assert.ok(best.curve.length >= 1 && best.curve.at(-1)!.value === best.best.value, 'the curve ends at the best value');

      // The learning curves: one curve per run, STEPS points each (fetched in one /curves request).
      const curveChart = page.locator('#main .card').filter({ has: page.locator('h2', { hasText: /^learning curves$/i }) }).locator('.chart');
      await untilEqual(
        'the loss-by-step chart',
        async () => {
          const c = await chartOf(curveChart);
          return { lengths: c.series.map((s) => s.data.length), painted: c.painted > 0 };
        },
        () => ({ lengths: Array<number>(RUN_CAP).fill(STEPS), painted: true }),
        15_000,
      );

      // The runs table: one row per run the API lists, newest first, with its state and value.
      await untilEqual(
        'the runs table',
        async () => runValues(runRows),
        () => runs.map((r) => [r.number, r.state, r.value === null ? NaN : shown(r.value)]),
      );

      assert.equal(await page.evaluate(() => (globalThis as unknown as { harrowE2eMark?: string }).harrowE2eMark), 'still here', 'the page was reloaded');
      assert.deepEqual(closedStreams, [], 'the event stream stayed open while the sweep was on screen');

      // ---- back to the list (the crumb link): the sweep is finished, with the same best ----------
      await page.locator('#crumbs a').click();
      const listRowAgain = page.locator('#main tbody tr').filter({ hasText: sweep.id });
      await listRowAgain.waitFor({ timeout: 10_000 });
      const cells = (await rowsOf(listRowAgain))[0]!;
      assert.equal(cells[1], 'finished');
      assert.equal(cells[4], `${RUN_CAP} / ${RUN_CAP}`);
      assert.equal(cells[6], '0', 'no failed run');
      assert.equal(Number(cells[7]), shown(best.best.value), `the list's best (${cells[7]})`);
      // Leaving the sweep closed its event stream (the page's route teardown), once.
      await waitFor('the sweep page to close its event stream', () => Promise.resolve(closedStreams.length > 0), 5_000, 50);
      // The stream is opened with a stream ticket (EventSource sends no token header).
      assert.deepEqual((closedStreams as string[]).map((u) => u.replace(/\?ticket=[^&]+$/, '')), [`${env.url}/api/sweeps/${sweep.id}/events`]);

      // ---- Back to the sweep while the list is still loading: the list's late answer (held 1 s
      // here) must not replace the sweep view, as it did before showList ignored answers that
      // arrive after the user has left it. ----------------------------------------------------
      await page.route(
        (u) => u.pathname === '/api/sweeps',
        async (route) => {
          await new Promise((r) => setTimeout(r, 1000));
          await route.continue();
        },
      );
      const lateList = page.waitForResponse((res) => new URL(res.url()).pathname === '/api/sweeps', { timeout: 30_000 });
      await page.goBack();
      await page.locator('#main h1').filter({ hasText: SWEEP_NAME }).waitFor({ timeout: 10_000 });
      // Back only once the list has asked: two history steps in quick succession can reach the
      // page as one (both hash changes read the final hash), and the list would never load at all
      // (seen once in CI on a loaded machine: no /api/sweeps request in 30 s).
      const listAsked = page.waitForRequest((req) => new URL(req.url()).pathname === '/api/sweeps', { timeout: 10_000 });
      await page.goForward();
      await listAsked;
      await page.goBack();
      await lateList;
      await page.unrouteAll({ behavior: 'wait' });
      await page.waitForTimeout(300);
      assert.equal(new URL(page.url()).hash, `#/sweeps/${sweep.id}`);
      assert.equal(await page.locator('#main h1').filter({ hasText: SWEEP_NAME }).count(), 1, 'the sweep view survived the late list answer');
      assert.equal(await runRows.count(), RUN_CAP);

      assert.deepEqual(documents, [`${env.url}/`], 'the page was loaded once, never reloaded');
      assert.deepEqual(problems, [], 'no console errors and no failed requests');
    } finally {
      await browser?.close();
      await tearDown(env);
    }
  });
});
