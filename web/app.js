/* global document, window, fetch, EventSource, echarts, setTimeout, clearTimeout, setInterval, clearInterval */
// The Harrow dashboard: a list of sweeps, and one sweep live — best so far, the metric of each
// run, counts by state and a sortable runs table. Plain DOM, no build step; every string from
// the server goes in through textContent, never innerHTML.

const RUN_STATES = ['queued', 'running', 'finished', 'failed', 'crashed', 'stopped', 'canceled'];
/** Runs whose metric curves are drawn: enough to see the spread, few enough to stay readable. */
const MAX_CURVES = 40;
const LIST_REFRESH_MS = 5000;
const CURVE_REFRESH_MS = 5000;

const main = document.getElementById('main');
const crumbs = document.getElementById('crumbs');
const live = document.getElementById('live');
const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;

/** What the current view must undo when the route changes (streams, timers, charts). */
let teardown = [];

const charts = new Map();

/** A flag set when the current view is torn down: responses that arrive later must not draw. */
function viewFlag() {
  const view = { left: false };
  teardown.push(() => (view.left = true));
  return view;
}

function route() {
  teardown.forEach((fn) => fn());
  teardown = [];
  charts.clear();
  const m = /^#\/sweeps\/([^/]+)$/.exec(window.location.hash);
  if (m) void showSweep(decodeURIComponent(m[1]));
  else void showList();
}

// ---- helpers ---------------------------------------------------------------------------------

function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof window.Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** replaceChildren, minus the null/false placeholders of optional parts (the DOM would print "null"). */
function fill(el, ...children) {
  el.replaceChildren(...children.flat().filter((c) => c !== null && c !== undefined && c !== false));
}

async function api(path) {
  const res = await fetch(`api/${path}`, { headers: { accept: 'application/json' } });
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new Error(body?.message ?? `HTTP ${res.status} for /api/${path}`);
  return body;
}

function fmt(x, digits = 5) {
  if (x === null || x === undefined) return '–';
  if (!Number.isFinite(x)) return String(x);
  if (x === 0) return '0';
  const abs = Math.abs(x);
  if (Number.isInteger(x) && abs < 1e15) return String(x);
  const trim = (s) => (s.includes('.') ? s.replace(/0+$/, '').replace(/\.$/, '') : s);
  if (abs >= 1e9 || abs < 1e-4) {
    const [m, e] = x.toExponential(digits - 1).split('e');
    return `${trim(m)}e${e.replace('+', '')}`;
  }
  if (abs >= 10 ** digits) return String(Math.round(x));
  return trim(x.toPrecision(digits));
}

function duration(ms) {
  if (!Number.isFinite(ms) || ms < 0) return '–';
  const s = Math.floor(ms / 1000);
  const pad = (n) => String(n).padStart(2, '0');
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

function runTime(run) {
  if (!run.startedAt) return null;
  return (run.endedAt ? Date.parse(run.endedAt) : Date.now()) - Date.parse(run.startedAt);
}

function ago(iso) {
  return iso ? `${duration(Date.now() - Date.parse(iso))} ago` : '–';
}

function paramText(params) {
  return Object.keys(params)
    .sort()
    .map((k) => `${k}=${typeof params[k] === 'number' ? fmt(params[k], 4) : typeof params[k] === 'string' ? params[k] : JSON.stringify(params[k])}`)
    .join('  ');
}

function badge(state) {
  return h('span', { class: `state state-${state}` }, state);
}

function stopText(info) {
  const { rule, message, value, threshold, band, rung, at } = info;
  if (rule === 'user' || typeof value !== 'number' || typeof threshold !== 'number') return message ?? 'stopped';
  const where = band !== undefined ? ` at band ${band}` : rung !== undefined ? ` at rung ${rung}` : at !== undefined ? ` after ${at} values` : '';
  return `${rule}${where}: ${fmt(value)} vs ${rule === 'median' ? 'median' : 'threshold'} ${fmt(threshold)}`;
}

function runNote(run) {
  return [stateNote(run), warningNote(run)].filter(Boolean).join('; ');
}

function stateNote(run) {
  if (run.stopInfo) return run.state === 'running' ? `stopping: ${stopText(run.stopInfo)}` : stopText(run.stopInfo);
  if (run.state === 'failed' && run.exitCode !== null && !/exit|signal/i.test(run.reason ?? '')) return `exit ${run.exitCode}${run.reason ? `: ${run.reason}` : ''}`;
  if (run.state === 'running') return [run.host, run.gpu !== null ? `gpu ${run.gpu}` : null].filter(Boolean).join(' ');
  if (run.state === 'finished') return '';
  return run.reason ?? '';
}

/** Refused metric points and data loss in a few words (the run view shows the full messages). */
function warningNote(run) {
  const plural = (n) => (n === 1 ? '' : 's');
  const parts = (run.warnings ?? []).map((w) =>
    w.kind === 'data_loss' ? `data loss: ${w.count} point${plural(w.count)} missing` : `${w.count} point${plural(w.count)} refused`,
  );
  return parts.length ? `⚠ ${parts.join(', ')}` : '';
}

function setLive(state, text) {
  live.hidden = state === null;
  live.className = `live ${state ?? ''}`;
  live.textContent = text ?? '';
}

function fail(err) {
  main.replaceChildren(h('p', { class: 'error' }, `Could not load: ${err.message}`));
}

/** Coalesces bursts (a run event per second per agent) into one call per `ms`. */
function throttle(fn, ms) {
  let timer = null;
  const wrapped = () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  teardown.push(() => clearTimeout(timer));
  return wrapped;
}

function chart(el, key) {
  if (typeof echarts === 'undefined') {
    el.replaceChildren(h('p', { class: 'muted' }, 'Charts are unavailable: the ECharts file did not load.'));
    return null;
  }
  const c = echarts.init(el, dark ? 'dark' : null, { renderer: 'canvas' });
  charts.set(key, c);
  teardown.push(() => c.dispose());
  return c;
}

// ---- the list of sweeps ----------------------------------------------------------------------

async function showList() {
  crumbs.replaceChildren();
  setLive(null);
  document.title = 'Harrow';
  const view = viewFlag();
  const draw = async () => {
    let sweeps;
    try {
      ({ sweeps } = await api('sweeps'));
    } catch (err) {
      if (!view.left) fail(err);
      return;
    }
    if (view.left) return;
    if (sweeps.length === 0) {
      main.replaceChildren(h('div', { class: 'card' }, h('p', {}, 'No sweeps yet. Create one with ', h('code', {}, 'harrow create sweep.yaml'), '.')));
      return;
    }
    const rows = sweeps.map((s) =>
      h(
        'tr',
        { class: 'clickable', onclick: () => (window.location.hash = `#/sweeps/${encodeURIComponent(s.id)}`) },
        h('td', {}, h('a', { href: `#/sweeps/${encodeURIComponent(s.id)}` }, s.name ?? s.id), s.name ? h('div', { class: 'muted mono' }, s.id) : null),
        h('td', {}, badge(s.state)),
        h('td', {}, s.method),
        h('td', {}, s.metric ? `${s.metric.goal} ${s.metric.name}` : '–'),
        h('td', { class: 'num' }, limitText(s)),
        h('td', { class: 'num' }, s.counts.running),
        h('td', { class: 'num' }, s.best ? fmt(s.best.value) : '–'),
        h('td', {}, ago(s.createdAt)),
      ),
    );
    main.replaceChildren(
      h(
        'div',
        { class: 'card' },
        h(
          'table',
          {},
          h('thead', {}, h('tr', {}, ['Sweep', 'State', 'Method', 'Metric', 'Runs', 'Running', 'Best', 'Created'].map((t, i) => h('th', { class: i >= 4 && i <= 6 ? 'num' : '' }, t)))),
          h('tbody', {}, rows),
        ),
      ),
    );
  };
  await draw();
  const timer = setInterval(() => void draw(), LIST_REFRESH_MS);
  teardown.push(() => clearInterval(timer));
}

function limitText(s) {
  const limits = [s.runCap, s.expectedRuns].filter((n) => n !== null);
  return limits.length > 0 ? `${s.counts.total} / ${Math.min(...limits)}` : String(s.counts.total);
}

// ---- one sweep -------------------------------------------------------------------------------

async function showSweep(id) {
  crumbs.replaceChildren(h('a', { href: '#/' }, 'Sweeps'), ' / ', h('span', { class: 'mono' }, id));
  const state = { sweep: null, best: null, runs: new Map(), total: 0, curves: new Map(), sort: { key: 'number', asc: false }, selected: null };
  const view = viewFlag();

  try {
    const [sweep, best, page] = await Promise.all([api(`sweeps/${encodeURIComponent(id)}`), api(`sweeps/${encodeURIComponent(id)}/best`), api(`sweeps/${encodeURIComponent(id)}/runs?limit=1000&sort=-number`)]);
    state.sweep = sweep;
    state.best = best;
    state.total = page.total;
    for (const r of page.runs) state.runs.set(r.id, r);
  } catch (err) {
    if (!view.left) fail(err);
    return;
  }
  if (view.left) return;
  document.title = `${state.sweep.name ?? id} · Harrow`;

  const el = {
    header: h('div'),
    summary: h('div', { class: 'summary' }),
    bestChart: h('div', { class: 'chart' }),
    curveChart: h('div', { class: 'chart' }),
    table: h('div', { class: 'card' }),
    detail: h('div'),
  };
  main.replaceChildren(
    el.header,
    el.summary,
    h('div', { class: 'grid' }, h('div', { class: 'card' }, h('h2', {}, 'Best so far'), el.bestChart), h('div', { class: 'card' }, h('h2', {}, metricName(state), ' by step'), el.curveChart)),
    el.table,
    el.detail,
  );
  const bestChart = chart(el.bestChart, 'best');
  const curveChart = chart(el.curveChart, 'curves');

  const drawHeader = () => drawSweepHeader(el, state);
  const drawTable = throttle(() => drawRuns(el, state, drawTable), 250);
  const drawBest = () => bestChart && drawBestChart(bestChart, state);
  const drawCurves = () => curveChart && drawCurveChart(curveChart, state);
  const loadBest = throttle(async () => {
    try {
      state.best = await api(`sweeps/${encodeURIComponent(id)}/best`);
      drawBest();
    } catch {
      // The next event or the stream's reconnect brings it back.
    }
  }, 500);
  const loadCurves = throttle(() => void refreshCurves(state).then(() => !view.left && drawCurves()), 1000);

  drawHeader();
  drawRuns(el, state, drawTable);
  drawBest();
  loadCurves();
  const poll = setInterval(loadCurves, CURVE_REFRESH_MS);
  teardown.push(() => clearInterval(poll));

  // Counts change with runs; the summary event may not come for each.
  const refreshSweep = throttle(async () => {
    try {
      state.sweep = await api(`sweeps/${encodeURIComponent(id)}`);
      drawHeader();
    } catch {
      // As above: the stream recovers it.
    }
  }, 1000);

  // EventSource reconnects by itself; the server sends the sweep again on each connect.
  const source = new EventSource(`api/sweeps/${encodeURIComponent(id)}/events`);
  teardown.push(() => source.close());
  setLive('', 'connecting');
  source.addEventListener('open', () => setLive('on', 'live'));
  source.addEventListener('error', () => setLive('off', 'reconnecting…'));
  source.addEventListener('sweep', (e) => {
    state.sweep = { ...state.sweep, ...JSON.parse(e.data) };
    drawHeader();
  });
  source.addEventListener('run', (e) => {
    const run = JSON.parse(e.data);
    if (!state.runs.has(run.id)) state.total += 1;
    state.runs.set(run.id, run);
    drawTable();
    loadBest();
    loadCurves();
    refreshSweep();
  });
  source.addEventListener('best', (e) => {
    state.sweep = { ...state.sweep, best: JSON.parse(e.data) };
    drawHeader();
    loadBest();
  });
}

function metricName(state) {
  return state.sweep.metric?.name ?? 'metric';
}

function drawSweepHeader(el, state) {
  const s = state.sweep;
  const limits = [s.expectedRuns !== null ? `${s.expectedRuns} expected` : null, s.runCap !== null ? `run cap ${s.runCap}` : null].filter(Boolean);
  fill(el.header,
    h('h1', {}, s.name ?? s.id, ' ', badge(s.state)),
    h(
      'div',
      { class: 'muted' },
      `${s.id} · ${s.method} · ${s.metric ? `${s.metric.goal} ${s.metric.name}` : 'no metric'} · created ${ago(s.createdAt)}`,
      s.stateReason ? ` · ${s.stateReason}` : '',
    ),
  );
  const best = s.best;
  fill(el.summary,
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Runs'),
      h('div', { class: 'big' }, s.counts.total, limits.length ? h('span', { class: 'muted' }, ` (${limits.join(', ')})`) : null),
      h('div', { class: 'counts' }, RUN_STATES.map((st) => h('span', { class: `state-${st}` }, st, h('b', {}, s.counts[st])))),
    ),
    h(
      'div',
      { class: 'card' },
      h('h2', {}, 'Best'),
      best
        ? [
            h('div', { class: 'big' }, fmt(best.value)),
            h('div', {}, `run #${best.number}`, best.step !== null ? ` at step ${best.step}` : ''),
            h('div', { class: 'mono muted' }, paramText(best.params)),
          ]
        : h('div', { class: 'muted' }, s.metric ? `No run has reported ${s.metric.name} yet.` : 'The sweep has no metric.'),
    ),
    s.state === 'running' || s.state === 'paused' ? h('div', { class: 'card' }, h('h2', {}, 'Join with an agent'), h('code', {}, s.agentCommand ?? `harrow agent ${s.id}`)) : null,
  );
}

const COLUMNS = [
  { key: 'number', label: '#', num: true, get: (r) => r.number },
  { key: 'state', label: 'State', get: (r) => RUN_STATES.indexOf(r.state) },
  { key: 'value', label: null, num: true, get: (r) => r.value },
  { key: 'step', label: 'Step', num: true, get: (r) => r.valueStep },
  { key: 'time', label: 'Time', num: true, get: (r) => runTime(r) },
  { key: 'started', label: 'Started', get: (r) => (r.startedAt ? Date.parse(r.startedAt) : null) },
  { key: 'params', label: 'Params' },
  { key: 'note', label: 'Note' },
];

function drawRuns(el, state, redraw) {
  const { key, asc } = state.sort;
  const col = COLUMNS.find((c) => c.key === key);
  const goal = state.sweep.metric?.goal ?? 'minimize';
  const runs = [...state.runs.values()].sort((a, b) => {
    const x = col.get(a);
    const y = col.get(b);
    // Missing values sort last both ways; "value" ascending means best first.
    if (x === null && y === null) return b.number - a.number;
    if (x === null) return 1;
    if (y === null) return -1;
    let d = x - y;
    if (key === 'value' && goal === 'maximize') d = -d;
    return (asc ? d : -d) || b.number - a.number;
  });
  const header = COLUMNS.map((c) => {
    const sortable = Boolean(c.get);
    const cls = [c.num ? 'num' : '', sortable ? 'sortable' : '', c.key === key ? 'sorted' : '', c.key === key && asc ? 'asc' : ''].join(' ');
    const onclick = sortable
      ? () => {
          // The metric starts best-first; the others start newest/largest first.
          state.sort = { key: c.key, asc: state.sort.key === c.key ? !state.sort.asc : c.key === 'value' };
          redraw();
        }
      : undefined;
    return h('th', { class: cls, onclick }, c.label ?? metricName(state));
  });
  const rows = runs.map((r) =>
    h(
      'tr',
      { class: `clickable ${state.selected === r.id ? 'selected' : ''}`, onclick: () => void showRun(el, state, r.id, redraw) },
      h('td', { class: 'num' }, r.number),
      h('td', {}, badge(r.state), r.attempt > 1 ? h('span', { class: 'muted' }, ` ×${r.attempt}`) : null),
      h('td', { class: 'num' }, fmt(r.value)),
      h('td', { class: 'num' }, r.valueStep ?? '–'),
      h('td', { class: 'num' }, duration(runTime(r) ?? NaN)),
      h('td', {}, r.startedAt ? ago(r.startedAt) : '–'),
      h('td', { class: 'params mono', title: paramText(r.params) }, paramText(r.params)),
      h('td', { class: 'note' }, runNote(r)),
    ),
  );
  const shown = state.runs.size < state.total ? h('p', { class: 'muted' }, `Showing the latest ${state.runs.size} of ${state.total} runs.`) : null;
  fill(el.table, h('h2', {}, 'Runs'), rows.length ? h('table', {}, h('thead', {}, h('tr', {}, header)), h('tbody', {}, rows)) : h('p', { class: 'muted' }, 'No runs yet.'), shown);
}

async function showRun(el, state, runId, redraw) {
  state.selected = runId;
  redraw();
  let run;
  try {
    run = await api(`runs/${encodeURIComponent(runId)}`);
  } catch (err) {
    el.detail.replaceChildren(h('div', { class: 'card error' }, err.message));
    return;
  }
  if (state.selected !== runId) return;
  const kv = (k, v) => [h('span', { class: 'muted' }, k), h('span', {}, v)];
  el.detail.replaceChildren(
    h(
      'div',
      { class: 'card detail' },
      h('h2', {}, `Run #${run.number}`),
      h(
        'div',
        { class: 'kv' },
        kv('id', h('code', {}, run.id)),
        kv('state', [badge(run.state), run.attempt > 1 ? ` attempt ${run.attempt}` : '']),
        kv(metricName(state), `${fmt(run.value)}${run.valueStep !== null ? ` at step ${run.valueStep}` : ''}`),
        runNote(run) ? kv('note', runNote(run)) : null,
        run.exitCode !== null ? kv('exit code', run.exitCode) : null,
        run.host ? kv('host', `${run.host}${run.gpu !== null ? ` · gpu ${run.gpu}` : ''}`) : null,
      ),
      run.warnings?.length
        ? [h('h2', {}, 'Warnings'), h('ul', { class: 'warnings' }, run.warnings.map((w) => h('li', {}, `attempt ${w.attempt}: ${w.message}`)))]
        : null,
      h('h2', {}, 'Params'),
      h('pre', { class: 'mono' }, JSON.stringify(run.params, null, 2)),
      run.events.length ? [h('h2', {}, 'Events'), h('pre', { class: 'mono' }, run.events.map((e) => `${e.at}  ${e.from ?? '·'} → ${e.to}  ${e.reason}`).join('\n'))] : null,
      run.outputTail ? [h('h2', {}, 'Output (tail)'), h('pre', { class: 'mono' }, run.outputTail)] : null,
    ),
  );
  el.detail.scrollIntoView({ behavior: 'smooth', block: 'nearest' });
}

// ---- charts ----------------------------------------------------------------------------------

function drawBestChart(c, state) {
  // Every finished run with a value, in the order it finished, under the best-so-far steps.
  const finished = [...state.runs.values()]
    .filter((r) => r.state === 'finished' && r.value !== null)
    .sort((a, b) => Date.parse(a.endedAt) - Date.parse(b.endedAt) || a.number - b.number);
  const curve = state.best?.curve ?? [];
  const total = Math.max(state.best?.finished ?? 0, finished.length);
  const steps = curve.map((p) => [p.index, p.value]);
  if (steps.length > 0) steps.push([total, steps[steps.length - 1][1]]);
  c.setOption(
    {
      backgroundColor: 'transparent',
      animation: false,
      grid: { left: 56, right: 16, top: 16, bottom: 36 },
      tooltip: { trigger: 'item', formatter: (p) => (p.seriesIndex === 0 ? `run #${p.data[2]}: ${fmt(p.data[1])}` : `best ${fmt(p.data[1])}`) },
      xAxis: { type: 'value', name: 'finished runs', nameLocation: 'middle', nameGap: 24, min: 1, max: Math.max(1, total), minInterval: 1 },
      yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } },
      series: [
        { type: 'scatter', symbolSize: 6, itemStyle: { opacity: 0.45 }, data: finished.map((r, i) => [i + 1, r.value, r.number]) },
        { type: 'line', step: 'end', symbol: 'circle', symbolSize: 5, lineStyle: { width: 2 }, data: steps },
      ],
    },
    { notMerge: true },
  );
}

/** Which runs get a curve: the running ones, then the best finished ones, up to MAX_CURVES. */
function curveRuns(state) {
  const goal = state.sweep.metric?.goal ?? 'minimize';
  const all = [...state.runs.values()].filter((r) => r.state !== 'queued' && r.state !== 'canceled');
  const running = all.filter((r) => r.state === 'running');
  const rest = all
    .filter((r) => r.state !== 'running' && r.value !== null)
    .sort((a, b) => (goal === 'maximize' ? b.value - a.value : a.value - b.value));
  return [...running, ...rest].slice(0, MAX_CURVES);
}

async function refreshCurves(state) {
  const metric = state.sweep.metric?.name;
  if (!metric) return;
  const wanted = curveRuns(state);
  // A finished run's curve never changes; a running one's is re-read on each refresh.
  const stale = wanted.filter((r) => {
    const have = state.curves.get(r.id);
    return !have || have.attempt !== r.attempt || have.state === 'running';
  });
  await Promise.all(
    stale.map(async (r) => {
      try {
        const res = await api(`runs/${encodeURIComponent(r.id)}/metrics?name=${encodeURIComponent(metric)}`);
        state.curves.set(r.id, { attempt: r.attempt, state: r.state, number: r.number, points: res.points.filter((p) => p.value !== null).map((p) => [p.step, p.value]) });
      } catch {
        // Left for the next refresh.
      }
    }),
  );
  const keep = new Set(wanted.map((r) => r.id));
  for (const id of state.curves.keys()) if (!keep.has(id)) state.curves.delete(id);
}

function drawCurveChart(c, state) {
  const bestId = state.sweep.best?.runId;
  const series = [...state.curves.entries()].map(([id, curve]) => ({
    name: `#${curve.number}`,
    type: 'line',
    showSymbol: false,
    data: curve.points,
    lineStyle: { width: id === bestId ? 3 : 1.2, opacity: id === bestId ? 1 : 0.6 },
    z: id === bestId ? 3 : 2,
  }));
  c.setOption(
    {
      backgroundColor: 'transparent',
      animation: false,
      grid: { left: 56, right: 16, top: 16, bottom: 36 },
      tooltip: { trigger: 'item', formatter: (p) => `${p.seriesName} · step ${p.data[0]}: ${fmt(p.data[1])}` },
      xAxis: { type: 'value', name: 'step', nameLocation: 'middle', nameGap: 24, minInterval: 1 },
      yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } },
      series,
    },
    { notMerge: true },
  );
}

window.addEventListener('hashchange', route);
window.addEventListener('resize', () => charts.forEach((c) => c.resize()));
route();
