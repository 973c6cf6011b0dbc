/**
 * The dashboard under its Content-Security-Policy (@fastify/helmet, controller/security/
 * protection.ts) in headless Chromium: no `securitypolicyviolation` event and no console error
 * while the list, a sweep page with its charts drawn (tooltips included: ECharts builds them from
 * script) and a run page are shown; and the headers a security review looks for are on the page.
 * /docs (Swagger UI, with its own hashed inline scripts) also renders without a violation.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { chromium, type Browser, type Page } from 'playwright-core';
import { ListRunsResponseSchema } from '../../protocol/api.js';
import { needServices } from '../helpers/services.js';
import { CHROMIUM, CHROMIUM_ARGS, chartOf, needChromium, untilEqual, watchProblems } from '../helpers/browser.js';
import { FakeAgent, createSweep, expectOk, finishRuns, http, startTestController, type TestController } from '../integration/controller/controller-harness.js';

const services = await needServices();
const opts = services.skip ? services : needChromium();

const SWEEP = ['name: csp-e2e', 'method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', '  y: {values: [a, b, c]}', ''].join('\n');

/** Collects every CSP violation the page reports, from before its first script runs. */
async function watchViolations(page: Page): Promise<() => Promise<string[]>> {
  await page.addInitScript(() => {
    const g = globalThis as unknown as { __cspViolations: string[]; document: { addEventListener(t: string, f: (e: Record<string, unknown>) => void): void } };
    g.__cspViolations = [];
    g.document.addEventListener('securitypolicyviolation', (e) => {
      g.__cspViolations.push(`${String(e.effectiveDirective)} blocked ${String(e.blockedURI)} at ${String(e.sourceFile)}:${String(e.lineNumber)} (${String(e.sample)})`);
    });
  });
  return () => page.evaluate(() => (globalThis as unknown as { __cspViolations: string[] }).__cspViolations);
}

describe('dashboard under a strict Content-Security-Policy', { ...opts, timeout: 120_000 }, () => {
  let c: TestController;
  let browser: Browser | undefined;
  before(async () => {
    c = await startTestController();
    browser = await chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
  });
  after(async () => {
    await browser?.close();
    await c?.close();
  });

  test('list, sweep page with charts and tooltips, run page: no violation, no console error', async () => {
    const sweep = await createSweep(c.url, SWEEP);
    await finishRuns(c.url, new FakeAgent(c.redis, c.keys, sweep.id), 8, (p) => Number(p.x));
    const runs = await expectOk(ListRunsResponseSchema, http(c.url, `/api/sweeps/${sweep.id}/runs?state=finished`));

    const page = await browser!.newPage({ viewport: { width: 1400, height: 1100 } });
    page.setDefaultTimeout(10_000);
    const { problems } = watchProblems(page);
    const violations = await watchViolations(page);

    const res = await page.goto(`${c.url}/`);
    const headers = res!.headers();
    const csp = headers['content-security-policy'] ?? '';
    assert.match(csp, /default-src 'self'/);
    assert.match(csp, /script-src 'self'(;|$)/);
    assert.match(csp, /style-src 'self'(;|$)/);
    assert.match(csp, /style-src-elem 'self'(;|$)/);
    assert.match(csp, /script-src-attr 'none'/);
    assert.match(csp, /frame-ancestors 'none'/);
    // The one relaxation: style attributes (ECharts' HTML tooltips); never for scripts.
    assert.deepEqual(csp.split(';').map((d) => d.trim()).filter((d) => /unsafe/.test(d)), ["style-src-attr 'unsafe-inline'"]);
    assert.equal(headers['x-content-type-options'], 'nosniff');
    assert.equal(headers['x-frame-options'], 'DENY');
    assert.equal(headers['referrer-policy'], 'no-referrer');
    await page.locator('#main tbody tr').filter({ hasText: sweep.id }).waitFor();

    await page.goto(`${c.url}/#/sweeps/${sweep.id}`);
    const bestChart = page.locator('#main .grid .card').filter({ has: page.locator('h2', { hasText: /^best so far$/i }) }).locator('.chart');
    await untilEqual('the best-so-far chart is drawn', async () => (await chartOf(bestChart)).painted > 0, () => true);
    const parallel = page.locator('.chart.parallel');
    await untilEqual('the parallel chart is drawn', async () => (await chartOf(parallel)).painted > 0, () => true);
    // Tooltips are HTML that ECharts builds and styles from script.
    const box = (await bestChart.boundingBox())!;
    for (const fx of [0.3, 0.5, 0.7, 0.9]) await page.mouse.move(box.x + box.width * fx, box.y + box.height * 0.5, { steps: 4 });
    const pbox = (await parallel.boundingBox())!;
    await page.mouse.move(pbox.x + pbox.width * 0.5, pbox.y + pbox.height * 0.5, { steps: 4 });
    // And one shown for sure: its HTML (with style attributes) goes in through innerHTML.
    const tooltip = await bestChart.evaluate((node: unknown) => {
      interface El { querySelectorAll(s: string): ArrayLike<{ textContent: string | null; style: { display: string } }> }
      const echarts = (globalThis as unknown as { echarts: { getInstanceByDom(n: unknown): { dispatchAction(a: unknown): void } } }).echarts;
      echarts.getInstanceByDom(node).dispatchAction({ type: 'showTip', seriesIndex: 0, dataIndex: 0 });
      return new Promise<string>((resolve) =>
        setTimeout(() => {
          const divs = Array.from((node as El).querySelectorAll('div')).filter((d) => d.style.display !== 'none' && (d.textContent ?? '').trim() !== '');
          resolve(divs.map((d) => d.textContent ?? '').join(' | '));
        }, 300),
      );
    });
    assert.notEqual(tooltip, '', 'a tooltip is on screen');
    await page.waitForTimeout(300);

    await page.goto(`${c.url}/#/runs/${runs.runs[0]!.id}`);
    await page.locator('#main h1').filter({ hasText: `#${runs.runs[0]!.number}` }).waitFor();
    await page.waitForTimeout(500);

    assert.deepEqual(await violations(), [], 'no Content-Security-Policy violation');
    assert.deepEqual(problems, [], 'no console error, failed request or HTTP error');

    // What the policy is for: markup that reaches the page through an HTML path (a tooltip shows
    // metric names) cannot run script.
    const ran = await page.evaluate(async () => {
      const g = globalThis as unknown as { document: { body: { insertAdjacentHTML(w: string, html: string): void } }; __ran?: boolean };
      g.document.body.insertAdjacentHTML('beforeend', '<img src="data:," onerror="globalThis.__ran = true"><div onclick="globalThis.__ran = true"></div>');
      await new Promise((r) => setTimeout(r, 300));
      return g.__ran === true;
    });
    assert.equal(ran, false, 'an injected event handler did not run');
    assert.ok((await violations()).some((v) => v.startsWith('script-src-attr')), 'and the browser reported the refusal');
    await page.close();
  });

  test('/docs (Swagger UI) renders under its own policy', async () => {
    const page = await browser!.newPage();
    page.setDefaultTimeout(10_000);
    const violations = await watchViolations(page);
    const res = await page.goto(`${c.url}/docs/static/index.html`);
    assert.doesNotMatch(res!.headers()['content-security-policy'] ?? '', /upgrade-insecure-requests/, 'no upgrade to HTTPS on a plain-HTTP server');
    await page.locator('.swagger-ui .info .title').waitFor();
    assert.deepEqual(await violations(), []);
    await page.close();
  });
});
