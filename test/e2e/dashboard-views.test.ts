/**
 * The dashboard's views in headless Chromium against a real controller process and two real
 * agents running the Python trainer on a grid where half the runs raise ValueError: the runs
 * table shows each failed run's error line (the API's `errorLine`), the run page marks the
 * traceback's lines; ticking two runs compares them (their curves overlaid, the parameters that
 * differ); the parallel-coordinates axes move from the keyboard and by dragging; every control is
 * reached with Tab and works with Enter or Space; at 390 px wide nothing overflows the page; and
 * the browser logs no error. Screenshots of each view go to test-artifacts/screenshots/.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { chartOf, launchChromium, needChromium, rowsOf, untilEqual, watchProblems } from '../helpers/browser.js';
import { needServices } from '../helpers/services.js';
import { ROOT, api, waitForHttp } from '../helpers/processes.js';
import { agent, controller, createSweep, setUp, tearDown, waitFinished, type Env } from '../helpers/harness.js';
import type { ListRunsResponse, RunDetail, RunSummary, SweepDetail } from '../../protocol/api.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();
const SHOTS = join(ROOT, 'test-artifacts', 'screenshots');
const STEPS = 6;

const SWEEP = `
name: views-e2e
method: grid
metric: {name: loss, goal: minimize}
program: test/fixtures/scripts/trainer.py
command: [python3, "\${program}", "\${args}"]
parameters:
  x: {values: [0.1, 0.25, 0.4, 0.7]}
  fail_at: {values: [-1, 2]}
  steps: {value: ${STEPS}}
  sleep: {value: 0.02}
harrow:
  pause_on_failures: false
`;

interface ParallelOption {
  parallelAxis: Array<{ id: string; name: string }>;
}

/** The parallel chart's axis ids, left to right, as ECharts holds them. */
function axisIds(page: Page): Promise<string[]> {
  return page.locator('.chart.parallel').evaluate((node: unknown) => {
    const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { getOption(): unknown } } }).echarts;
    return (echarts.getInstanceByDom(node).getOption() as ParallelOption).parallelAxis.map((a) => a.id);
  });
}

/** What has the keyboard focus: its tag, role-ish label and text. */
function focused(page: Page): Promise<string> {
  return page.evaluate(() => {
    interface Focusable {
      tagName: string;
      getAttribute(n: string): string | null;
      textContent: string | null;
      type?: string;
      labels?: ArrayLike<{ textContent: string | null }>;
    }
    const el = (globalThis as unknown as { document: { activeElement: Focusable | null } }).document.activeElement;
    if (!el) return '';
    const tag = el.tagName.toLowerCase();
    return `${tag}${tag === 'input' ? `[${el.type}]` : ''} ${el.getAttribute('aria-label') ?? (el.labels?.[0]?.textContent ?? el.textContent ?? '').trim().slice(0, 40)}`;
  });
}

/** Page-level horizontal overflow: the document's scroll width against the viewport's. */
function scrollWidth(page: Page): Promise<number> {
  return page.evaluate(() => (globalThis as unknown as { document: { documentElement: { scrollWidth: number } } }).document.documentElement.scrollWidth);
}

describe('dashboard views in a browser', { ...opts, timeout: 180_000 }, () => {
  let env: Env;
  let browser: Browser | undefined;
  let sweep: SweepDetail;
  let runs: RunSummary[];
  before(async () => {
    env = await setUp('e2e_views');
    controller(env);
    await waitForHttp(env.url);
    sweep = await createSweep(env, SWEEP);
    agent(env, sweep.id);
    agent(env, sweep.id);
    await mkdir(SHOTS, { recursive: true });
    browser = await launchChromium();
    await waitFinished(env, sweep.id);
    runs = (await api<ListRunsResponse>(env.url, `/api/sweeps/${sweep.id}/runs?limit=100&sort=number`)).runs;
  });
  after(async () => {
    await browser?.close();
    await tearDown(env);
  });

  test('failed runs: the error line in the table, the traceback marked on the run page', async () => {
    const failed = runs.filter((r) => r.state === 'failed');
    assert.equal(failed.length, 4, 'the grid has four failing cells');
    for (const r of failed) assert.equal(r.errorLine, 'ValueError: loss diverged at step 2');
    assert.ok(runs.filter((r) => r.state === 'finished').every((r) => r.errorLine === null));

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
    const rows = page.locator('table.runs > tbody > tr');
    await untilEqual('all runs in the table', () => rows.count(), () => runs.length);
    for (const r of failed) {
      const note = rows.filter({ has: page.locator(`a[href="#/runs/${r.id}"]`) }).locator('td.note span');
      assert.equal(await note.textContent(), r.errorLine);
      assert.equal(await note.getAttribute('title'), r.errorLine, 'the whole line on hover');
    }
    await page.screenshot({ path: join(SHOTS, 'views-sweep.png'), fullPage: true });

    const one = failed[0]!;
    await page.goto(`${env.url}/#/runs/${one.id}`);
    await page.locator('#main h1').filter({ hasText: `Run #${one.number}` }).waitFor();
    const detail = await api<RunDetail>(env.url, `/api/runs/${one.id}`);
    const marked = await page.locator('pre.output span.err').allTextContents();
    const lines = detail.outputTail!.split('\n');
    assert.deepEqual(marked.map((t) => t.replace(/\n$/, '')), detail.errorLines!.map((i) => lines[i]));
    assert.ok(marked.some((t) => t.startsWith('Traceback')) && marked.some((t) => t.startsWith('ValueError: loss diverged')), marked.join('|'));
    assert.equal(await page.locator('#last-error').textContent(), 'ValueError: loss diverged at step 2\n');
    assert.equal(await page.locator('#run-command').textContent(), `python3 test/fixtures/scripts/trainer.py --fail_at=2 --sleep=0.02 --steps=${STEPS} --x=${String(one.params.x)}`);
    await page.screenshot({ path: join(SHOTS, 'views-run-failed.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('compare: two ticked runs give two overlaid curves and the parameters that differ', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
    const [a, b] = runs.filter((r) => r.state === 'finished').slice(0, 2) as [RunSummary, RunSummary];
    const compare = page.locator('.card').filter({ has: page.locator('h2', { hasText: /^Compare \d+ runs$/ }) });
    for (const r of [a, b]) await page.getByRole('checkbox', { name: `compare run #${r.number}` }).check();
    await compare.locator('h2', { hasText: 'Compare 2 runs' }).waitFor();
    await untilEqual(
      'the compare chart: two curves of every step',
      async () => {
        const c = await chartOf(compare.locator('.chart'));
        return { lengths: c.series.map((s) => s.data.length), painted: c.painted > 0 };
      },
      () => ({ lengths: [STEPS, STEPS], painted: true }),
    );
    const diff = await rowsOf(compare.locator('table.compare tbody tr.differs'));
    assert.deepEqual(diff, [['x', String(a.params.x), String(b.params.x)]], 'only x differs');
    assert.match((await compare.locator('p.hint').textContent()) ?? '', /fail_at=-1/);
    await page.screenshot({ path: join(SHOTS, 'views-compare.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('clicking a point of the best-so-far, history or slice chart opens that run', async () => {
    // (The best-so-far chart's first point is also the first step of its line, which opens the
    // run that set that best: the same run.)
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    const finished = runs.filter((r) => r.state === 'finished');
    // Each chart's first point of its first series (finished runs), where it is on the page, and
    // the run it must open: the history's x is the run number, the slice of x has the run's x.
    const cases: Array<[string, (p: [number, number]) => RunSummary | undefined]> = [
      ['History', (p) => runs.find((r) => r.number === p[0])],
      ['Best so far', (p) => finished.find((r) => r.value === p[1])],
      ['Slices', (p) => finished.find((r) => r.params.x === p[0] && r.value === p[1])],
    ];
    for (const [title, runAt] of cases) {
      await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
      const card = page.locator('#main .card').filter({ has: page.locator('h2', { hasText: new RegExp(`^${title}`) }) });
      const box = title === 'Slices' ? card.locator('.slice-cell').filter({ has: page.locator('.slice-title', { hasText: /^x$/ }) }).locator('.slice') : card.locator('.chart').first();
      await untilEqual(`${title} drawn`, async () => (await chartOf(box)).painted > 0, () => true);
      await box.scrollIntoViewIfNeeded();
      const { point, pixel } = await box.evaluate((node: unknown) => {
        const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { getOption(): { series: Array<{ data: Array<[number, number]> }> }; convertToPixel(f: unknown, v: unknown): [number, number] } } }).echarts;
        const c = echarts.getInstanceByDom(node);
        const first = c.getOption().series[0]!.data[0]!;
        return { point: first, pixel: c.convertToPixel({ seriesIndex: 0 }, first) };
      });
      const run = runAt(point);
      assert.ok(run, `${title}: a run at ${point.join(', ')}`);
      const at = (await box.boundingBox())!;
      await page.mouse.click(at.x + pixel[0], at.y + pixel[1]);
      await page.locator('#main h1').filter({ hasText: `Run #${run.number}` }).waitFor();
      assert.equal(await page.evaluate('location.hash'), `#/runs/${run.id}`, title);
    }
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('parallel axes move from the keyboard and by dragging; the order survives a redraw', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
    await untilEqual('the default axes', () => axisIds(page), () => ['param:fail_at', 'param:x', 'metric']);
    await page.getByRole('button', { name: 'Move x left' }).focus();
    await page.keyboard.press('Enter');
    await untilEqual('x moved left', () => axisIds(page), () => ['param:x', 'param:fail_at', 'metric']);
    // The focus stays on the axis: Enter again moves it on (here: right, back and on).
    await page.getByRole('button', { name: 'Move x right' }).focus();
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await untilEqual('x moved right twice', () => axisIds(page), () => ['param:fail_at', 'metric', 'param:x']);
    // Drag the metric's name onto the first place.
    await page.locator('.axis-chip[data-axis="metric"]').dragTo(page.locator('.axis-chip[data-axis="param:fail_at"]'));
    await untilEqual('the metric dragged first', () => axisIds(page), () => ['metric', 'param:fail_at', 'param:x']);
    await page.screenshot({ path: join(SHOTS, 'views-axes-reordered.png'), fullPage: true });
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('every control is reached with Tab and works from the keyboard', async () => {
    const page = await browser!.newPage({ viewport: { width: 1400, height: 1000 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    await page.goto(`${env.url}/#/sweeps/${sweep.id}`);
    const rows = page.locator('table.runs > tbody > tr');
    await untilEqual('all runs in the table', () => rows.count(), () => runs.length);
    await untilEqual('the parallel chart', async () => (await axisIds(page)).length, () => 3);
    // A brush, so that its reset button is on the page.
    await page.locator('.chart.parallel').evaluate((node: unknown) => {
      const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { dispatchAction(a: unknown): void } } }).echarts;
      echarts.getInstanceByDom(node).dispatchAction({ type: 'axisAreaSelect', parallelAxisId: 'param:x', intervals: [[0.05, 0.3]] });
    });
    const inBrush = runs.filter((r) => Number(r.params.x) <= 0.3).length;
    await untilEqual('the brushed table', () => rows.count(), () => inBrush);

    const seen: string[] = [];
    await page.locator('body').focus();
    for (let i = 0; i < 400; i++) {
      await page.keyboard.press('Tab');
      const f = await focused(page);
      if (seen.length > 0 && f === seen[0]) break;
      seen.push(f);
    }
    const reached = (re: RegExp) => assert.ok(seen.some((s) => re.test(s)), `Tab reaches ${re}; it reached:\n${seen.join('\n')}`);
    reached(/^a Harrow/);
    reached(/^button Download report/);
    reached(/^button Move x left/);
    reached(/^button Clear the brush/);
    reached(/^select /);
    reached(/^button Export CSV/);
    reached(/^input\[checkbox\] compare run #/);
    reached(/^input\[checkbox\] .*finished/);
    for (const col of ['#', 'State', 'loss', 'Step', 'x', 'fail_at', 'Time', 'Started']) reached(new RegExp(`^button ${col}$`));

    // Enter on a sort header sorts; Space ticks a run for comparison; Enter clears the brush.
    const lossHeader = page.locator('table.runs thead th').filter({ hasText: /^loss$/ });
    await page.getByRole('button', { name: 'loss', exact: true }).focus();
    await page.keyboard.press('Enter');
    await untilEqual('sorted by loss', () => lossHeader.getAttribute('aria-sort'), () => 'ascending');
    const box = page.getByRole('checkbox', { name: /^compare run #/ }).first();
    await box.focus();
    await page.keyboard.press('Space');
    assert.equal(await box.isChecked(), true);
    await page.getByRole('button', { name: 'Clear the brush' }).focus();
    await page.keyboard.press('Enter');
    await untilEqual('the brush cleared', () => rows.count(), () => runs.length);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('at 390 px wide nothing overflows the page', async () => {
    const page = await browser!.newPage({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    const views: Array<[string, string, () => Promise<void>]> = [
      ['list', '/', () => page.locator('#main tbody tr').first().waitFor()],
      ['sweep', `/#/sweeps/${sweep.id}`, () => page.locator('table.runs > tbody > tr').first().waitFor()],
      ['run', `/#/runs/${runs.find((r) => r.state === 'failed')!.id}`, () => page.locator('#run-command').waitFor()],
    ];
    for (const [name, path, ready] of views) {
      await page.goto(`${env.url}${path}`);
      await ready();
      await page.waitForTimeout(500);
      assert.ok((await scrollWidth(page)) <= 390, `the ${name} page is ${await scrollWidth(page)} px wide at 390`);
      await page.screenshot({ path: join(SHOTS, `views-390-${name}.png`), fullPage: true });
    }
    assert.deepEqual(problems, []);
    await page.close();
  });
});
