/**
 * What every browser test needs: Debian's Chromium (or HARROW_CHROMIUM) with the flags this
 * machine's closed network wants, a skip-or-fail rule for when it is missing, and readers of the
 * page (table rows, ECharts instances, everything that went wrong).
 */
import assert from 'node:assert/strict';
import { accessSync, constants } from 'node:fs';
import { chromium, type Browser, type Locator, type Page } from 'playwright-core';

export const CHROMIUM = process.env.HARROW_CHROMIUM ?? '/usr/bin/chromium';
/** No outside network here: keep Chromium from dialing home (refused connections are noisy). */
export const CHROMIUM_ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];

/** `{ skip }` without Chromium locally, with how to get it; in CI a missing browser fails the run. */
export function needChromium(what = 'the dashboard browser test'): { skip?: string } {
  try {
    accessSync(CHROMIUM, constants.X_OK);
    return {};
  } catch {
    // Reported below.
  }
  const problem = `no Chromium at ${CHROMIUM}.`;
  const howTo = ['Install it with:', '  apt-get update && apt-get install -y chromium', 'or point HARROW_CHROMIUM at a Chromium or Chrome executable.'].join('\n');
  if (process.env.CI) throw new Error(`${what} needs Chromium in CI: ${problem}\n${howTo}`);
  const message = `SKIPPED ${what}: ${problem}\n${howTo}`;
  console.error(`\n*** ${message}\n`);
  return { skip: message };
}

export function launchChromium(): Promise<Browser> {
  return chromium.launch({ executablePath: CHROMIUM, headless: true, args: CHROMIUM_ARGS });
}

/** Polls `read` until it deep-equals `expected()` (re-read each time too); on timeout, fails with the diff. */
export async function untilEqual<T>(what: string, read: () => Promise<T>, expected: () => Promise<T> | T, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (true) {
    const [actual, want] = await Promise.all([read(), expected()]);
    if (Date.now() >= deadline) {
      assert.deepEqual(actual, want, `${what} (after ${timeoutMs} ms)`);
      return;
    }
    try {
      assert.deepEqual(actual, want);
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

// ---- reading the page (the browser side gets no DOM typings here: tsconfig's lib is ES only) ----

interface CellsLike {
  cells: ArrayLike<{ textContent: string | null }>;
}

/** Every row of a table as the text of its cells, read in one go (no redraw in between). */
export function rowsOf(rows: Locator): Promise<string[][]> {
  return rows.evaluateAll((els: unknown[]) => els.map((tr) => Array.from((tr as CellsLike).cells, (c) => (c.textContent ?? '').trim())));
}

/** The dashboard's runs table (`table.runs > tbody > tr`) as [number, state, value text] per row (cells: tick, #number, state, value, …). */
export async function runTable(rows: Locator): Promise<Array<[number, string, string]>> {
  return (await rowsOf(rows)).map((cells) => [Number((cells[1] ?? '').replace('#', '')), cells[2] ?? '', cells[3] ?? '']);
}

export interface ChartState {
  instance: boolean;
  series: Array<{ type: string; data: unknown[] }>;
  /** Canvas pixels that are not fully transparent: 0 when nothing was drawn. */
  painted: number;
}

/** The ECharts instance inside a chart element: its series as ECharts holds them, and whether its canvas has pixels. */
export function chartOf(el: Locator): Promise<ChartState> {
  return el.evaluate((node: unknown) => {
    interface Canvas {
      width: number;
      height: number;
      getContext(kind: '2d'): { getImageData(x: number, y: number, w: number, h: number): { data: ArrayLike<number> } } | null;
    }
    interface Echarts {
      getInstanceByDom(el: unknown): { getOption(): { series?: Array<{ type?: string; data?: unknown[] }> } } | undefined;
    }
    const echarts = (globalThis as unknown as { echarts?: Echarts }).echarts;
    const instance = echarts?.getInstanceByDom(node);
    const series = (instance?.getOption().series ?? []).map((s) => ({ type: s.type ?? '', data: s.data ?? [] }));
    const canvas = (node as { querySelector(sel: string): Canvas | null }).querySelector('canvas');
    let painted = 0;
    const pixels = canvas && canvas.width > 0 && canvas.height > 0 ? canvas.getContext('2d')?.getImageData(0, 0, canvas.width, canvas.height).data : undefined;
    if (pixels) for (let i = 3; i < pixels.length; i += 4) if (pixels[i]! > 0) painted++;
    return { instance: instance !== undefined, series, painted };
  });
}

/**
 * Everything that went wrong in the browser: console errors, uncaught exceptions, failed or
 * 4xx/5xx requests. An event stream the page aborts itself (EventSource.close() when the user
 * leaves the sweep: `net::ERR_ABORTED`) is no failure; it goes to `closedStreams` instead, which
 * the test checks is empty while the sweep is on screen and holds the stream once it is left.
 */
export function watchProblems(page: Page): { problems: string[]; closedStreams: string[] } {
  const problems: string[] = [];
  const closedStreams: string[] = [];
  page.on('console', (msg) => {
    if (msg.type() === 'error') problems.push(`console error: ${msg.text()}`);
  });
  page.on('pageerror', (err) => problems.push(`uncaught exception: ${err.message}`));
  page.on('requestfailed', (req) => {
    const why = req.failure()?.errorText ?? '?';
    if (why === 'net::ERR_ABORTED' && /\/api\/sweeps\/[^/]+\/events$/.test(new URL(req.url()).pathname)) closedStreams.push(req.url());
    else problems.push(`request failed: ${req.method()} ${req.url()}: ${why}`);
  });
  page.on('response', (res) => {
    if (res.status() >= 400) problems.push(`HTTP ${res.status()}: ${res.request().method()} ${res.url()}`);
  });
  return { problems, closedStreams };
}

