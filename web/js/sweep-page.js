// One sweep, live: what it is and how it goes (header, controls, failure banner, counts, best),
// then the views that explain it (best so far, history, parallel coordinates, importance, slices,
// learning curves, compare) above the runs table. All views share one state and one selection.

import { ApiError, api, download, post, report, streamUrl } from './api.js';
import { since } from './clocks.js';
import { copyButton, fill, fmt, h, paramText } from './dom.js';
import { sweepHealth } from './health.js';
import { mountCompare } from './panels/compare-panel.js';
import { mountCurves } from './panels/curves-chart.js';
import { mountImportance } from './panels/importance-panel.js';
import { mountParallel } from './panels/parallel-chart.js';
import { mountBestChart, mountHistory, mountSlices } from './panels/run-charts.js';
import { mountRunsTable } from './runs-table.js';
import { limitText, sweepBadge } from './sweep-list.js';
import { RUN_STATES, createState, mergeRuns } from './sweep-state.js';
import { throttle, viewFlag, whenNear } from './view.js';
import { loadECharts } from './charts.js';
import { liveStream } from './live-stream.js';
import { PAGE_SIZE, loadRuns, sweepData } from './sweep-data.js';

export async function showSweep(ui, id) {
  ui.crumbs.replaceChildren(h('a', { href: '#/' }, 'Sweeps'), ' / ', h('span', { class: 'mono' }, id));
  const state = createState(id);
  const view = viewFlag();
  const path = `sweeps/${encodeURIComponent(id)}`;
  // Every sweep page draws charts: fetch ECharts while the data loads, not after.
  void loadECharts().catch(() => undefined);

  try {
    const { sweep, best, runs } = await sweepData(api, id);
    performance.mark('harrow:data');
    state.sweep = sweep;
    state.best = best;
    state.total = runs.total;
    for (const r of runs.runs) state.runs.set(r.id, r);
  } catch (err) {
    if (!view.left) ui.fail(err);
    return;
  }
  if (view.left) return;
  document.title = `${state.sweep.name ?? id} · Harrow`;

  const el = {
    header: h('div', { class: 'sweep-head' }),
    banner: h('div'),
    summary: h('div', { class: 'summary' }),
    best: h('div', { class: 'chart' }),
    history: h('div'),
    parallel: h('div'),
    importance: h('div', { class: 'importance' }),
    slices: h('div', { class: 'slices' }),
    curves: h('div'),
    compare: h('div', { class: 'card' }),
    table: h('div', { class: 'card' }),
  };
  const card = (title, body, extra = {}) => h('section', { class: 'card', ...extra }, h('h2', {}, title), body);
  const hasMetric = Boolean(state.sweep.metric);
  fill(
    ui.main,
    el.header,
    el.banner,
    el.summary,
    hasMetric ? h('div', { class: 'grid' }, card('Best so far', el.best), card('History', el.history)) : null,
    hasMetric ? h('div', { class: 'grid wide-first' }, card('Parallel coordinates', el.parallel), card('Which settings matter', el.importance)) : null,
    hasMetric ? card('Slices: the metric against each parameter', el.slices) : null,
    card('Learning curves', el.curves),
    el.compare,
    el.table,
  );

  const drawHeader = () => {
    drawSweepHeader(el, state);
    drawBanner(el.banner, state);
  };
  performance.mark('harrow:filled');
  drawHeader();
  state.on('sweep', drawHeader);
  performance.mark('harrow:header');
  const cache = new Map();
  // The views that wait for the server (curves, importance) ask first, and the page yields once
  // before drawing: the browser sends a fetch only when the script that made it gives the thread
  // back, and drawing thousands of runs into the table and charts is one long task. The server
  // then answers them while the page draws, not after.
  let firstScreenDrawn;
  const firstScreen = new Promise((resolve) => (firstScreenDrawn = resolve));
  void mountCurves(el.curves, state, view, cache, whenNear(el.curves, firstScreen));
  if (hasMetric) mountImportance(el.importance, state, view);
  performance.mark('harrow:asked');
  // The views are drawn one task each, with the thread given back in between: an answer that
  // arrives meanwhile (importance) is drawn at the next turn, not after every chart of 10,000 runs
  // has been drawn in one long task. The charts of the first screen first, then the runs table;
  // the slices and the learning curves, below the first screen, once it is drawn or as soon as
  // they are scrolled into view (`whenNear`). Each turn waits behind the page's other work
  // (scheduler.postTask at background priority, where the browser has it): an answer's steps
  // (headers, body, parse) are tasks of their own, and behind a timer each waited for a chart.
  const turn = () => (globalThis.scheduler?.postTask ? globalThis.scheduler.postTask(() => undefined, { priority: 'background' }) : new Promise((resolve) => setTimeout(resolve, 0)));
  const views = [
    ...(hasMetric ? [() => mountBestChart(el.best, state), () => mountHistory(el.history, state), () => mountParallel(el.parallel, state)] : []),
    () => firstScreenDrawn(),
    () => mountRunsTable(el.table, state),
    ...(hasMetric ? [async () => void whenNear(el.slices, firstScreen).then(() => !view.left && mountSlices(el.slices, state))] : []),
    () => mountCompare(el.compare, state, view, cache),
  ];
  for (const mount of views) {
    await turn();
    if (view.left) return;
    await mount();
  }
  performance.mark('harrow:mounted');
  if (report || view.left) return;

  const loadBest = throttle(async () => {
    try {
      const best = await api(`${path}/best`);
      // Unchanged (a catch-up that found nothing new): nothing to redraw.
      if (JSON.stringify(best) === JSON.stringify(state.best)) return;
      state.best = best;
      state.emit('best');
    } catch {
      // The next event or the stream's reconnect brings it back.
    }
  }, 500);
  const refreshSweep = throttle(async () => {
    try {
      state.sweep = await api(path);
      drawHeader();
    } catch {
      // As above: the stream recovers it.
    }
  }, 1000);
  const reloadAll = async () => {
    // One read of the sweep serves both: its counts size the runs pages, and it redraws the header.
    const sweep = api(path);
    try {
      const runs = await loadRuns(api, id, sweep);
      if (view.left) return;
      state.total = runs.total;
      state.runs = new Map(runs.runs.map((r) => [r.id, r]));
      state.emit('runs');
    } catch {
      // The next reconnect tries again.
    }
    try {
      state.sweep = await sweep;
      drawHeader();
    } catch {
      // As above.
    }
    loadBest();
  };

  // Runs made or changed between the page's first load and the stream's start came with no event
  // (the page would miss a run queued then until it next changed): the newest page catches up.
  const catchUp = async () => {
    try {
      const page = await api(`${path}/runs?limit=${PAGE_SIZE}&sort=-number`);
      if (view.left) return;
      const changed = mergeRuns(state, page.runs) || state.total !== page.total;
      state.total = page.total;
      if (changed) state.emit('runs');
    } catch {
      // The next event or reconnect brings it.
    }
    refreshSweep();
    loadBest();
  };

  // Whatever changed while the stream was down (a server restart, a network blip) came with no
  // event: read it all again once it is back. The server sends the sweep itself on each connect.
  // "paused by alice 2 h ago": the sweep's latest recorded action, read again when it changes.
  // The server records an action in the audit trail right after the action itself, so the sweep's
  // event can come first: after a change, read again until a newer entry shows (a few tries).
  let lookFor = 0;
  const loadLastAction = throttle(async () => {
    try {
      const previous = state.lastAction?.id;
      const { entries } = await api(`audit?sweep=${encodeURIComponent(id)}&outcome=ok&limit=1`);
      state.lastAction = entries[0] ?? null;
      drawHeader();
      if (lookFor > 0 && state.lastAction?.id === previous) {
        lookFor--;
        setTimeout(loadLastAction, 1000);
      } else {
        lookFor = 0;
      }
    } catch {
      // Older servers have no audit trail; the header just says less.
    }
  }, 1000);
  const sweepChanged = () => {
    lookFor = 5;
    loadLastAction();
  };
  void loadLastAction();
  state.on('sweep', sweepChanged);

  liveStream(
    () => streamUrl(id),
    {
      sweep: (e) => {
        const before = state.sweep?.state;
        state.sweep = { ...state.sweep, ...JSON.parse(e.data) };
        drawHeader();
        if (state.sweep.state !== before) sweepChanged();
        else loadLastAction();
      },
      run: (e) => {
        const run = JSON.parse(e.data);
        if (!state.runs.has(run.id)) state.total += 1;
        state.runs.set(run.id, run);
        state.emit('runs');
        loadBest();
        refreshSweep();
      },
      best: (e) => {
        state.sweep = { ...state.sweep, best: JSON.parse(e.data) };
        drawHeader();
        loadBest();
      },
    },
    () => void reloadAll(),
    ui.setLive,
    () => void catchUp(),
  );
}

const ACTIONS = {
  running: ['pause', 'stop', 'cancel'],
  paused: ['resume', 'stop', 'cancel'],
  finished: [],
  canceled: [],
};
const CONFIRM = {
  stop: 'Stop this sweep? No new runs start; the running ones finish.',
  cancel: 'Cancel this sweep? Its running runs are killed now.',
};

function controls(state) {
  if (report) return null;
  const actions = ACTIONS[state.sweep.state] ?? [];
  const status = h('span', { class: 'muted', role: 'status' });
  const reportButton = h(
    'button',
    {
      type: 'button',
      title: 'One HTML file with the data and charts inside: opens from disk, with no server and no network',
      onclick: async (e) => {
        e.target.disabled = true;
        status.textContent = 'building the report…';
        try {
          await download(`sweeps/${encodeURIComponent(state.id)}/report`, `harrow-${state.id}.html`);
          status.textContent = '';
        } catch (err) {
          status.textContent = err.message;
          status.className = 'error';
        }
        e.target.disabled = false;
      },
    },
    'Download report',
  );
  return h(
    'div',
    { class: 'actions' },
    actions.map((a) =>
      h(
        'button',
        {
          type: 'button',
          class: a === 'cancel' ? 'danger' : a === 'stop' ? 'warn' : '',
          onclick: async (e) => {
            if (CONFIRM[a] && !window.confirm(CONFIRM[a])) return;
            e.target.disabled = true;
            status.textContent = `${a}…`;
            try {
              state.sweep = { ...state.sweep, ...(await post(`sweeps/${encodeURIComponent(state.id)}/${a}`)) };
              status.textContent = '';
              state.emit('sweep');
            } catch (err) {
              status.textContent = err instanceof ApiError ? err.message : String(err);
              status.className = 'error';
              e.target.disabled = false;
            }
          },
        },
        a[0].toUpperCase() + a.slice(1),
      ),
    ),
    reportButton,
    status,
  );
}

const DONE = { create: 'created', pause: 'paused', resume: 'resumed', stop: 'stopped', cancel: 'canceled', 'stop-run': 'run stopped' };

/** ` · paused by alice 2 h ago`, from the audit trail (nothing for a creation, said already). */
function lastAction(entry) {
  if (!entry || entry.action === 'create') return null;
  return h('span', { class: 'last-action' }, ` · ${DONE[entry.action] ?? entry.action} by ${entry.actor} `, since(entry.at));
}

function drawSweepHeader(el, state) {
  const s = state.sweep;
  fill(
    el.header,
    h('div', { class: 'title-row' }, h('h1', {}, s.name ?? s.id, ' ', sweepBadge(s)), controls(state)),
    h('div', { class: 'muted' }, `${s.id} · ${s.method} · ${s.metric ? `${s.metric.goal} ${s.metric.name}` : 'no metric'} · created `, s.createdBy ? `by ${s.createdBy} ` : '', since(s.createdAt), s.stateReason ? ` · ${s.stateReason}` : '', lastAction(state.lastAction)),
  );
  const limits = [
    s.expectedRuns !== null ? `${s.expectedRuns} expected` : null,
    s.runCap !== null ? `run cap ${s.runCap}` : null,
    // Prior results the strategy learns from (harrow.warm_start): not runs of this sweep.
    s.imported ? `${s.imported.count} imported, not counted` : null,
    s.specVersion > 1 ? `spec v${s.specVersion}` : null,
  ].filter(Boolean);
  const best = s.best;
  fill(
    el.summary,
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Runs'),
      h('div', { class: 'big' }, limitText(s), limits.length ? h('span', { class: 'muted small' }, ` (${limits.join(', ')})`) : null),
      h('div', { class: 'counts' }, RUN_STATES.map((st) => h('span', { class: `state-${st}` }, st, h('b', {}, s.counts[st])))),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Best'),
      best
        ? [
            h('div', { class: 'big' }, fmt(best.value)),
            h('div', {}, h('a', { href: `#/runs/${encodeURIComponent(best.runId)}` }, `run #${best.number}`), best.step !== null ? ` at step ${best.step}` : ''),
            h('div', { class: 'mono muted' }, paramText(best.params)),
          ]
        : h('div', { class: 'muted' }, s.metric ? `No run has reported ${s.metric.name} yet.` : 'The sweep has no metric.'),
    ),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, s.state === 'running' || s.state === 'paused' ? 'Join with an agent' : 'Sweep file'),
      s.state === 'running' || s.state === 'paused' ? agentCommand(s) : null,
      h('details', {}, h('summary', {}, 'The sweep file'), h('pre', { class: 'mono' }, s.config ?? '')),
    ),
  );
}

function agentCommand(s) {
  const text = s.agentCommand ?? `harrow agent ${s.id}`;
  const code = h('code', { class: 'copy' }, text);
  return h('div', { class: 'agent-command' }, code, ' ', report ? null : copyButton(() => text, code, 'Copy'));
}

/** Says plainly when a sweep is going wrong: every run so far failed, or it was paused for it. */
function drawBanner(el, state) {
  const s = state.sweep;
  const health = sweepHealth(s);
  const ended = s.counts.finished + s.counts.stopped + s.counts.failed + s.counts.crashed;
  if (health !== 'failing' && !(s.state === 'paused' && s.stateReason)) {
    el.replaceChildren();
    return;
  }
  const failedRun = [...state.runs.values()].filter((r) => r.state === 'failed' || r.state === 'crashed').sort((a, b) => b.number - a.number)[0];
  fill(
    el,
    h(
      'div',
      { class: 'banner error', role: 'alert' },
      h('strong', {}, health === 'failing' ? `All ${ended} runs that ended so far failed.` : `Paused: ${s.stateReason}`),
      health === 'failing' && s.state === 'paused' && s.stateReason ? h('div', {}, `Paused: ${s.stateReason}`) : null,
      failedRun ? h('div', {}, 'Latest: ', h('a', { href: `#/runs/${encodeURIComponent(failedRun.id)}` }, `run #${failedRun.number}`), ` (${failedRun.reason ?? failedRun.state})`) : null,
      failedRun?.errorLine ? h('div', { class: 'mono small' }, failedRun.errorLine) : null,
    ),
  );
}

