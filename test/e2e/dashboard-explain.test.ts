/**
 * The dashboard's "understand a sweep" panels in headless Chromium, against a controller with 30
 * finished runs whose loss is driven by one parameter: the importance table shows the API's
 * answer in its order; the parallel coordinates have one axis per varying parameter (log for a
 * log-distributed one, categories for a categorical one) plus the metric, and one line per run;
 * brushing an axis filters the runs table to exactly the runs inside the brush, and clearing it
 * brings them back. The sweep's report file opens from disk with the network off and shows the same
 * views. Screenshots go to test-artifacts/screenshots/ for a reviewer.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { ImportanceResponseSchema, ListRunsResponseSchema } from '../../protocol/api.js';
import { needServices } from '../helpers/services.js';
import { ROOT } from '../helpers/processes.js';
import { chartOf } from '../helpers/browser.js';
import { CHROMIUM, CHROMIUM_ARGS, needChromium, rowsOf, untilEqual, watchProblems } from '../helpers/browser.js';
import { FakeAgent, createSweep, expectOk, finishRuns, http, startTestController, type TestController } from '../integration/controller/controller-harness.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');

const SWEEP = [
  'name: explain-e2e',
  'method: random',
  'program: train.py',
  'metric: {name: loss, goal: minimize}',
  'parameters:',
  '  depth: {values: [1, 2, 3, 4]}',
  '  lr: {distribution: log_uniform_values, min: 0.0001, max: 0.1}',
  '  act: {values: [relu, tanh]}',
  '',
].join('\n');

interface ParallelOption {
  parallelAxis: Array<{ id: string; name: string; type: string }>;
  series: Array<{ data: unknown[] }>;
}

describe('dashboard: importance and parallel coordinates in a browser', { ...opts, timeout: 90_000 }, () => {
  let c: TestController;
  let browser: Browser | undefined;
  before(async () => {
    c = await startTestController();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
    await mkdir(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await c?.close();
  });

  test('importance equals the API; parallel axes and lines; brushing filters the table; clearing restores it', async () => {
    const sweep = await createSweep(c.url, SWEEP);
    await finishRuns(c.url, new FakeAgent(c.redis, c.keys, sweep.id), 30, (p) => Number(p.depth) + 0.01 * Number(p.lr));
    const imp = await expectOk(ImportanceResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/importance`));
    const runs = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?limit=100`));
    assert.equal(imp.parameters[0]?.name, 'depth');

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    await page.goto(`${c.url}/#/sweeps/${sweep.id}`);

    // ---- importance: the API's parameters, in its order ------------------------------------
    const impRows = page.locator('table.imp tbody tr');
    await untilEqual('importance rows', async () => (await rowsOf(impRows)).map((cells) => cells[0]), () => imp.parameters.map((p) => p.name));
    const [depthRow] = await rowsOf(impRows);
    assert.match(depthRow![2]!, /loss rises with it/, 'the effect column says which way the metric moves');

    // ---- parallel coordinates: axes and lines ---------------------------------------------
    const option = (): Promise<ParallelOption> =>
      page.locator('.chart.parallel').evaluate((node: unknown) => {
        const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { getOption(): unknown } } }).echarts;
        return echarts.getInstanceByDom(node).getOption() as ParallelOption;
      });
    await untilEqual('parallel lines', async () => (await option()).series[0]?.data.length, () => 30);
    const axes = (await option()).parallelAxis.map((a) => [a.name, a.type]);
    assert.deepEqual(axes, [
      ['act', 'category'],
      ['depth', 'value'],
      ['lr', 'log'],
      ['loss', 'value'],
    ]);
    await page.screenshot({ path: join(SHOTS, 'sweep-explain.png'), fullPage: true });

    // ---- brushing depth ∈ [0.5, 2.5] leaves exactly the runs with depth 1 or 2 in the table -
    const tableRows = page.locator('table.runs > tbody > tr');
    // 30 finished runs, and the one the scheduler keeps queued ahead (HARROW_LOOKAHEAD).
    await untilEqual('all runs in the table', () => tableRows.count(), () => runs.total);
    await page.locator('.chart.parallel').evaluate((node: unknown) => {
      const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { dispatchAction(a: unknown): void } } }).echarts;
      echarts.getInstanceByDom(node).dispatchAction({ type: 'axisAreaSelect', parallelAxisId: 'param:depth', intervals: [[0.5, 2.5]] });
    });
    const inBrush = runs.runs.filter((r) => r.value !== null && Number(r.params.depth) <= 2).map((r) => String(r.number));
    assert.ok(inBrush.length > 0 && inBrush.length < 30, 'the random sweep has runs on both sides of the brush');
    await untilEqual('the table after brushing', async () => (await rowsOf(tableRows)).map((cells) => cells[1]!.replace('#', '')).sort(), () => inBrush.sort());
    await page.screenshot({ path: join(SHOTS, 'sweep-brushed.png'), fullPage: true });

    await page.getByRole('button', { name: 'Clear the selection' }).first().click();
    await untilEqual('the table after clearing', () => tableRows.count(), () => runs.total);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the report: one HTML file that renders offline from file:// with the same data', async () => {
    const sweep = await createSweep(c.url, SWEEP);
    await finishRuns(c.url, new FakeAgent(c.redis, c.keys, sweep.id), 15, (p) => Number(p.depth));
    const imp = await expectOk(ImportanceResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/importance`));
    const runs = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?limit=100`));
    const res = await fetch(`${c.url}/api/sweeps/${sweep.id}/report`);
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/html/);
    assert.match(res.headers.get('content-disposition') ?? '', /attachment; filename="harrow-.*\.html"/);
    const dir = await mkdtemp(join(tmpdir(), 'harrow-report-'));
    const file = join(dir, 'sweep.html');
    await writeFile(file, await res.text());

    const context = await browser!.newContext({ viewport: { width: 1300, height: 1000 } });
    try {
      // No network at all: anything but the file itself is refused (and would be reported).
      await context.setOffline(true);
      const requests: string[] = [];
      await context.route('**/*', async (route) => {
        const url = route.request().url();
        if (url.startsWith('file:') || url.startsWith('data:')) return route.continue();
        requests.push(url);
        return route.abort();
      });
      const page = await context.newPage();
      page.setDefaultTimeout(10_000);
      const { problems } = watchProblems(page);
      await page.goto(`file://${file}`);
      await page.locator('#main h1').filter({ hasText: 'explain-e2e' }).waitFor();
      await untilEqual('importance rows', async () => (await rowsOf(page.locator('table.imp tbody tr'))).map((cells) => cells[0]), () => imp.parameters.map((p) => p.name));
      await untilEqual('runs table', () => page.locator('table.runs > tbody > tr').count(), () => runs.total);
      for (const title of ['Best so far', 'History', 'Learning curves']) {
        const chartEl = page.locator('#main .card').filter({ has: page.locator('h2', { hasText: new RegExp(`^${title}$`, 'i') }) }).locator('.chart').first();
        await untilEqual(`${title} drawn`, async () => (await chartOf(chartEl)).painted > 0, () => true);
      }
      await page.screenshot({ path: join(SHOTS, 'report-offline.png'), fullPage: true });
      // A run page inside the report.
      const best = runs.runs.filter((r) => r.value !== null).sort((a, b) => a.value! - b.value!)[0]!;
      await page.evaluate((id) => ((globalThis as unknown as { location: { hash: string } }).location.hash = `#/runs/${id}`), best.id);
      await page.locator('#main h1').filter({ hasText: `Run #${best.number}` }).waitFor();
      await untilEqual('the run page metric chart', async () => (await chartOf(page.locator('.metric-grid .chart').first())).painted > 0, () => true);
      assert.deepEqual(requests, [], 'the report asked the network for nothing');
      assert.deepEqual(problems, []);
    } finally {
      await context.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
