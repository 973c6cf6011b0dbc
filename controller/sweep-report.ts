/**
 * A sweep as one self-contained HTML file (`harrow report`, the dashboard's "Download report"):
 * the dashboard's own modules, style and ECharts inlined, and the API answers its views read,
 * embedded. It opens from disk with no server and no network — for reviewers who cannot reach the
 * controller — and shows what the live page shows (minus the controls and live updates).
 *
 * The data comes from the API itself (`app.inject`, in process, with the caller's credentials),
 * so the report says exactly what the API says.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { CurvesResponse, ListRunsResponse, RunSummary, SweepDetail } from '../protocol/api.js';
import { HarrowError } from '../protocol/errors.js';
import { compareRuns } from '../strategies/objective.js';
import { dashboardModules, packageRoot, resolveEcharts } from './web-assets.js';

/** Runs whose full detail (every metric, events, output tail) the report carries. */
const DETAILED_RUNS = 200;
/** Runs whose curves of every metric are carried; the sweep metric is carried for all of them. */
const CURVE_RUNS_ALL_METRICS = 30;
const CURVE_POINTS = 300;
const PAGE = 1000;

export interface ReportData {
  sweepId: string;
  generatedAt: string;
  sweep: SweepDetail;
  best: unknown;
  runs: RunSummary[];
  importance: unknown;
  /** metric name → run id → points, as /curves answers them. */
  curves: Record<string, Record<string, CurvesResponse['curves'][number]>>;
  runDetails: Record<string, unknown>;
}

type Get = <T>(path: string) => Promise<T>;

/** Reads what the views need through the app's own routes. */
export async function collectReport(app: FastifyInstance, sweepId: string, headers: Record<string, string>): Promise<ReportData> {
  const get: Get = async <T>(path: string) => {
    const res = await app.inject({ method: 'GET', url: `/api/${path}`, headers });
    const body = res.json<T & { code?: string; message?: string }>();
    if (res.statusCode >= 400) throw new HarrowError(res.statusCode === 404 ? 'SWEEP_NOT_FOUND' : 'INVALID_REQUEST', body.message ?? `HTTP ${res.statusCode} for /api/${path}`);
    return body;
  };
  const id = encodeURIComponent(sweepId);
  const sweep = await get<SweepDetail>(`sweeps/${id}`);
  const [best, importance, first] = await Promise.all([get(`sweeps/${id}/best`), get(`sweeps/${id}/importance`), get<ListRunsResponse>(`sweeps/${id}/runs?limit=${PAGE}&sort=-number`)]);
  const runs = [...first.runs];
  for (let page = first; page.nextCursor; ) {
    page = await get<ListRunsResponse>(`sweeps/${id}/runs?limit=${PAGE}&sort=-number&cursor=${page.nextCursor}`);
    runs.push(...page.runs);
  }

  const goal = sweep.metric?.goal ?? 'minimize';
  const ranked = [...runs].sort((a, b) => compareRuns(goal, a, b));
  const failed = runs.filter((r) => r.state === 'failed' || r.state === 'crashed');
  const detailed = [...new Map([...ranked.slice(0, DETAILED_RUNS - Math.min(50, failed.length)), ...failed.slice(0, 50)].map((r) => [r.id, r])).values()];
  const runDetails: Record<string, unknown> = {};
  for (const r of detailed) runDetails[r.id] = await get(`runs/${encodeURIComponent(r.id)}`);

  const curves: ReportData['curves'] = {};
  const metricNames = new Set(runs.flatMap((r) => Object.keys(r.summary)));
  const withCurves = runs.filter((r) => r.state !== 'queued' && r.state !== 'canceled');
  for (const name of metricNames) {
    const forRuns = name === sweep.metric?.name ? withCurves : ranked.filter((r) => r.state !== 'queued' && r.state !== 'canceled').slice(0, CURVE_RUNS_ALL_METRICS);
    const byRun: Record<string, CurvesResponse['curves'][number]> = {};
    for (let i = 0; i < forRuns.length; i += 200) {
      const ids = forRuns.slice(i, i + 200).map((r) => encodeURIComponent(r.id)).join(',');
      const res = await get<CurvesResponse>(`sweeps/${id}/curves?name=${encodeURIComponent(name)}&runs=${ids}&points=${CURVE_POINTS}`);
      for (const c of res.curves) byRun[c.runId] = c;
    }
    curves[name] = byRun;
  }
  return { sweepId, generatedAt: new Date().toISOString(), sweep, best, runs, importance, curves, runDetails };
}

/** JSON inside a <script>: nothing in it may close the element or open a comment. */
function scriptJson(value: unknown): string {
  return JSON.stringify(value).replace(/</g, '\\u003c').replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/**
 * Module sources with their relative imports turned into bare `harrow/…` specifiers, which an
 * import map resolves to data: URLs (a data: module cannot resolve a relative path).
 */
function bareImports(source: string, url: string): string {
  const dir = url.includes('/') ? url.slice(0, url.lastIndexOf('/') + 1) : '';
  return source.replace(/(\bfrom\s+|\bimport\s+)(['"])(\.{1,2}\/[^'"]+)\2/g, (_m, kw: string, q: string, rel: string) => {
    const parts = (dir + rel).split('/');
    const out: string[] = [];
    for (const p of parts) {
      if (p === '..') out.pop();
      else if (p !== '.') out.push(p);
    }
    return `${kw}${q}harrow/${out.join('/')}${q}`;
  });
}

export async function renderReport(data: ReportData): Promise<string> {
  const root = packageRoot();
  const [style, echartsPath] = [await readFile(join(root, 'web', 'style.css'), 'utf8'), resolveEcharts()];
  if (!echartsPath) throw new HarrowError('INTERNAL', 'ECharts is missing from this installation; reinstall harrow (npm ci)');
  const echarts = await readFile(echartsPath, 'utf8');
  const imports: Record<string, string> = {};
  for (const m of dashboardModules(root)) {
    const source = bareImports(await readFile(m.path, 'utf8'), m.url);
    imports[`harrow/${m.url}`] = `data:text/javascript;base64,${Buffer.from(source).toString('base64')}`;
  }
  const title = `${data.sweep.name ?? data.sweep.id} · Harrow report`;
  const escape = (s: string) => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<link rel="icon" href="data:,">
<style>${style.replace(/<\/style/gi, '<\\/style')}</style>
<script>${echarts.replace(/<\/script/gi, '<\\/script')}</script>
<script>globalThis.HARROW_REPORT = ${scriptJson(data)};</script>
<script type="importmap">${scriptJson({ imports })}</script>
<script type="module">import 'harrow/app.js';</script>
</head>
<body>
<header class="top">
  <a class="brand" href="#/">Harrow</a>
  <nav id="crumbs" aria-label="Breadcrumbs"></nav>
  <span class="live">report of ${escape(data.sweep.id)} · ${escape(data.generatedAt.slice(0, 19).replace('T', ' '))} UTC</span>
  <span id="live" class="live" role="status" hidden></span>
</header>
<main id="main" aria-live="polite"><p class="muted">Loading…</p></main>
<noscript><p>This report needs JavaScript to draw its charts.</p></noscript>
</body>
</html>
`;
}
