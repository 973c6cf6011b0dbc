// One run, at its own URL (#/runs/<id>): every metric's curve and summary, the parameters and the
// command line, attempts and state changes with their reasons, the output tail with its error
// lines marked, host and GPU, ticking clocks and a warning when a running run has gone quiet.

import { ApiError, api, post, report } from './api.js';
import { BASE, chart } from './charts.js';
import { runClock, since, tickClocks } from './clocks.js';
import { badge, copyButton, fill, fmt, h, runNote, shellLine, stopText } from './dom.js';
import { every, onLeave, viewFlag } from './view.js';

const REFRESH_MS = 3000;
/** Agents heartbeat every 5 s by default: three missed beats is worth a warning. */
const QUIET_AFTER_MS = 15_000;

export async function showRun(ui, runId) {
  const view = viewFlag();
  let run;
  try {
    run = await api(`runs/${encodeURIComponent(runId)}`);
  } catch (err) {
    if (!view.left) ui.fail(err);
    return;
  }
  if (view.left) return;
  ui.crumbs.replaceChildren(
    h('a', { href: '#/' }, 'Sweeps'),
    ' / ',
    h('a', { href: `#/sweeps/${encodeURIComponent(run.sweepId)}`, class: 'mono' }, run.sweepId),
    ' / ',
    h('span', {}, `run #${run.number}`),
  );
  document.title = `Run #${run.number} · Harrow`;
  ui.setLive(null);
  let sweep = null;
  try {
    sweep = await api(`sweeps/${encodeURIComponent(run.sweepId)}`);
  } catch {
    // The page works without the sweep's metric name.
  }
  const charts = h('div', { class: 'metric-grid' });
  const rest = h('div');
  ui.main.replaceChildren(rest, h('section', { class: 'card' }, h('h2', {}, 'Metrics'), charts));
  const drawn = new Map();

  const draw = async () => {
    fillRun(rest, run, sweep);
    await drawMetrics(charts, drawn, run, sweep);
    tickClocks(ui.main);
  };
  await draw();
  if (report) return;
  const refresh = async () => {
    if (run.state !== 'running' && run.state !== 'queued') return;
    try {
      run = await api(`runs/${encodeURIComponent(runId)}`);
      if (!view.left) await draw();
    } catch {
      // Next time.
    }
  };
  every(REFRESH_MS, () => void refresh());
  onLeave(() => drawn.clear());
}

function fillRun(el, run, sweep) {
  const kv = (k, v) => (v === null || v === undefined || v === '' ? null : [h('dt', {}, k), h('dd', {}, v)]);
  const metric = sweep?.metric?.name ?? 'value';
  const quiet = run.state === 'running' && run.heartbeatAt ? h('div', { class: 'banner warn', role: 'alert', 'data-heartbeat': run.heartbeatAt, 'data-quiet-after': QUIET_AFTER_MS, hidden: true }) : null;
  const tail = run.outputTail ?? '';
  const lines = tail.split('\n');
  // Which lines are errors is the server's call (protocol/output-errors.ts), as for the runs table.
  const errorIdx = run.errorLines ?? [];
  const isError = new Set(errorIdx);
  const commandLine = run.command ? shellLine(run.command) : null;
  const commandEl = commandLine ? h('pre', { class: 'mono command', id: 'run-command' }, commandLine) : null;
  fill(
    el,
    h('div', { class: 'title-row' }, h('h1', {}, `Run #${run.number} `, badge(run.state), run.attempt > 1 ? h('span', { class: 'muted small' }, ` attempt ${run.attempt}`) : null), runControls(run)),
    quiet,
    run.stopInfo ? h('div', { class: 'banner info' }, run.state === 'running' ? 'Stopping: ' : 'Stopped: ', stopText(run.stopInfo)) : null,
    (run.warnings ?? []).length ? h('div', { class: 'banner warn', role: 'alert' }, h('strong', {}, 'Warnings'), h('ul', { class: 'warnings' }, run.warnings.map((w) => h('li', {}, `attempt ${w.attempt}: ${w.message}`)))) : null,
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Run'),
        h(
          'dl',
          { class: 'kv' },
          kv('id', h('code', {}, run.id)),
          kv(metric, run.value !== null ? `${fmt(run.value)}${run.valueStep !== null ? ` at step ${run.valueStep}` : ''}` : '–'),
          kv('note', runNote(run)),
          kv('reason', run.reason),
          kv('exit', run.exitCode !== null ? `code ${run.exitCode}` : run.signal ? `signal ${run.signal}` : null),
          kv('host', run.host ? `${run.host}${run.gpu !== null ? ` · GPU ${run.gpu}` : ''}` : null),
          kv('agent', run.agentId),
          kv('created', since(run.createdAt)),
          kv('started', run.startedAt ? since(run.startedAt) : null),
          kv('time', run.startedAt ? runClock(run) : null),
          kv('last heartbeat', run.heartbeatAt && run.state === 'running' ? since(run.heartbeatAt) : null),
        ),
      ),
      h(
        'section',
        { class: 'card' },
        h('h2', {}, 'Parameters'),
        h('pre', { class: 'mono' }, JSON.stringify(run.params, null, 2)),
        commandEl
          ? [
              h('div', { class: 'card-head' }, h('h2', {}, 'Command'), copyButton(() => commandLine, commandEl, 'Copy')),
              commandEl,
              /\$[A-Za-z_]/.test(commandLine) ? h('p', { class: 'muted small' }, '$NAME: a variable of the agent\'s environment ($HARROW_PARAMS_FILE names the file holding the parameters).') : null,
            ]
          : null,
      ),
    ),
    h('section', { class: 'card' }, h('h2', {}, 'Summary'), summaryTable(run)),
    h(
      'section',
      { class: 'card' },
      h('h2', {}, 'Attempts and state changes'),
      run.events.length
        ? h(
            'table',
            {},
            h('thead', {}, h('tr', {}, ['When', 'Attempt', 'Change', 'Reason'].map((t) => h('th', {}, t)))),
            h('tbody', {}, run.events.map((e) => h('tr', {}, h('td', { title: e.at }, since(e.at)), h('td', { class: 'num' }, e.attempt), h('td', {}, `${e.from ?? '·'} → ${e.to}`), h('td', {}, e.reason)))),
          )
        : h('p', { class: 'muted' }, 'None yet.'),
    ),
    h(
      'section',
      { class: 'card' },
      h('div', { class: 'card-head' }, h('h2', {}, 'Output (tail)'), errorIdx.length ? h('a', { href: '#', class: 'link', onclick: (e) => (e.preventDefault(), document.getElementById('last-error')?.scrollIntoView({ block: 'center' })) }, `${errorIdx.length} error line${errorIdx.length > 1 ? 's' : ''}: show the last`) : null),
      tail
        ? h(
            'pre',
            { class: 'mono output', tabindex: 0 },
            lines.map((l, i) => h('span', { class: isError.has(i) ? 'err' : '', id: i === errorIdx[errorIdx.length - 1] ? 'last-error' : null }, `${l}\n`)),
          )
        : h('p', { class: 'muted' }, 'No output yet.'),
    ),
  );
}

function runControls(run) {
  if (report || (run.state !== 'running' && run.state !== 'queued')) return null;
  const status = h('span', { class: 'muted', role: 'status' });
  return h(
    'div',
    { class: 'actions' },
    h(
      'button',
      {
        type: 'button',
        class: 'warn',
        onclick: async (e) => {
          if (!window.confirm(`Stop run #${run.number}?`)) return;
          e.target.disabled = true;
          try {
            await post(`runs/${encodeURIComponent(run.id)}/stop`, { reason: 'stopped from the dashboard' });
            status.textContent = run.state === 'queued' ? 'canceled' : 'stop sent; the run ends when its agent has stopped it';
          } catch (err) {
            status.textContent = err instanceof ApiError ? err.message : String(err);
            status.className = 'error';
            e.target.disabled = false;
          }
        },
      },
      'Stop run',
    ),
    status,
  );
}

function summaryTable(run) {
  const names = Object.keys(run.summary ?? {}).sort();
  if (names.length === 0) return h('p', { class: 'muted' }, 'No metric logged yet.');
  return h(
    'table',
    {},
    h('thead', {}, h('tr', {}, ['Metric', 'Last', 'Min', 'Max', 'Points', 'Last step'].map((t, i) => h('th', { class: i ? 'num' : '' }, t)))),
    h(
      'tbody',
      {},
      names.map((n) => {
        const s = run.summary[n];
        return h('tr', {}, h('td', { class: 'mono' }, n), ...[s.last, s.min, s.max, s.count, s.step].map((v) => h('td', { class: 'num' }, fmt(v))));
      }),
    ),
  );
}

/** One small chart per logged metric (the sweep's first), kept across refreshes. */
async function drawMetrics(el, drawn, run, sweep) {
  const main = sweep?.metric?.name;
  const names = Object.keys(run.metrics ?? {}).sort((a, b) => (a === main ? -1 : b === main ? 1 : a < b ? -1 : 1));
  if (names.length === 0) {
    el.replaceChildren(h('p', { class: 'muted' }, 'No metric logged yet.'));
    drawn.clear();
    return;
  }
  if (el.dataset.names !== names.join('\n')) {
    el.dataset.names = names.join('\n');
    el.replaceChildren();
    drawn.clear();
    for (const n of names) {
      const box = h('div', { class: 'chart small', role: 'img', 'aria-label': `${n} by step` });
      el.append(h('div', {}, h('div', { class: 'slice-title mono' }, n), box));
      const c = await chart(box);
      if (c) drawn.set(n, c);
    }
  }
  for (const n of names) {
    const c = drawn.get(n);
    if (!c) continue;
    const pts = run.metrics[n].filter((p) => p.value !== null).map((p) => [p.step, p.value]);
    c.setOption(
      {
        ...BASE,
        grid: { left: 52, right: 12, top: 10, bottom: 26 },
        tooltip: { trigger: 'axis', valueFormatter: (v) => fmt(v) },
        xAxis: { type: 'value', scale: true, minInterval: 1, axisLabel: { fontSize: 10 } },
        yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3), fontSize: 10 } },
        series: [{ type: 'line', showSymbol: pts.length < 30, data: pts }],
      },
      { notMerge: true },
    );
  }
}
