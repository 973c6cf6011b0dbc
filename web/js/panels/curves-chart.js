// Learning curves: any logged metric, by step or by time, log y and smoothing on request. Each
// run keeps its colour (the table's swatch); hovering a curve brings it forward, clicking it opens
// the run. The curves of many runs come in one request. The compare view draws the ticked runs
// with the same code.

import { api } from '../api.js';
import { BASE, chart, markPainted, runColour, smooth } from '../charts.js';
import { fmt, h } from '../dom.js';
import { byValue, metricNames, visibleRuns } from '../sweep-state.js';
import { every, throttle } from '../view.js';
import { select } from './run-charts.js';

/** Curves drawn at once: enough to see the spread, few enough to read. */
export const MAX_CURVES = 30;
const REFRESH_MS = 5000;

/** Loads (once per metric and attempt; running runs again each time) the curves of `runs`. */
export async function loadCurves(state, cache, runs, metric) {
  const stale = runs.filter((r) => {
    const have = cache.get(`${metric}\n${r.id}`);
    return !have || have.attempt !== r.attempt || have.state === 'running' || r.state === 'running';
  });
  for (let i = 0; i < stale.length; i += 200) {
    const chunk = stale.slice(i, i + 200);
    const res = await api(`sweeps/${encodeURIComponent(state.id)}/curves?name=${encodeURIComponent(metric)}&runs=${chunk.map((r) => encodeURIComponent(r.id)).join(',')}&points=1000`);
    const got = new Map(res.curves.map((c) => [c.runId, c]));
    for (const r of chunk) {
      const c = got.get(r.id);
      cache.set(`${metric}\n${r.id}`, { attempt: r.attempt, state: r.state, number: r.number, points: c ? c.points : [] });
    }
  }
}

/** The series of some runs' curves under the chart options `o` ({ metric, x, logY, smoothing }). */
export function curveOption(state, cache, runs, o) {
  const bestId = state.sweep.best?.runId;
  const series = runs.map((r) => {
    const curve = cache.get(`${o.metric}\n${r.id}`);
    const t0 = curve?.points[0]?.[2] ?? 0;
    const raw = (curve?.points ?? []).filter((p) => p[1] !== null && (!o.logY || p[1] > 0)).map((p) => [o.x === 'time' ? (p[2] - t0) / 1000 : p[0], p[1]]);
    return {
      name: `#${r.number}`,
      id: r.id,
      type: 'line',
      // A curve of one or two points has no line to speak of: show its points.
      showSymbol: raw.length < 3,
      data: smooth(raw, o.smoothing),
      lineStyle: { width: r.id === bestId ? 2.5 : 1.3, color: runColour(r.number) },
      itemStyle: { color: runColour(r.number) },
      emphasis: { focus: 'series', lineStyle: { width: 3 } },
      z: r.id === bestId ? 3 : 2,
    };
  });
  return {
    ...BASE,
    legend: { type: 'scroll', bottom: 0, textStyle: { fontSize: 11 } },
    grid: { left: 56, right: 16, top: 16, bottom: 60 },
    tooltip: { trigger: 'item', formatter: (p) => `${p.seriesName} · ${o.x === 'time' ? `${fmt(p.data[0], 3)} s` : `step ${p.data[0]}`}: ${fmt(p.data[1])}` },
    xAxis: { type: 'value', name: o.x === 'time' ? 'seconds since the first point' : 'step', nameLocation: 'middle', nameGap: 24, scale: o.x === 'time' },
    yAxis: { type: o.logY ? 'log' : 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } },
    series,
  };
}

/** Controls shared by the curves and compare views: metric, x, log y, smoothing. */
export function curveControls(state, o, onChange) {
  const names = metricNames(state);
  if (!o.metric || !names.includes(o.metric)) o.metric = names[0] ?? state.sweep.metric?.name ?? null;
  return [
    h('label', {}, 'metric ', select(names.length ? names : [o.metric ?? '–'], o.metric, (v) => ((o.metric = v), onChange()))),
    h('label', {}, 'x ', select(['step', 'time'], o.x, (v) => ((o.x = v), onChange()))),
    h('label', {}, h('input', { type: 'checkbox', checked: o.logY, onchange: (e) => ((o.logY = e.target.checked), onChange()) }), ' log y'),
    h(
      'label',
      { title: 'exponential moving average, as in W&B' },
      'smoothing ',
      h('input', { type: 'range', min: 0, max: 0.99, step: 0.01, value: o.smoothing, 'aria-label': 'smoothing', oninput: (e) => ((o.smoothing = Number(e.target.value)), onChange()) }),
    ),
  ];
}

/** Which runs get a curve: the running ones, then the best others, up to MAX_CURVES. */
function curveRuns(state) {
  const all = visibleRuns(state).filter((r) => r.state !== 'queued' && r.state !== 'canceled');
  const running = all.filter((r) => r.state === 'running');
  const rest = all.filter((r) => r.state !== 'running').sort(byValue(state));
  return [...running, ...rest].slice(0, MAX_CURVES);
}

/** `near`: resolves when the chart should be drawn (the curves are asked for at once). */
export async function mountCurves(el, state, view, cache, near = Promise.resolve()) {
  const controls = h('div', { class: 'controls' });
  const box = h('div', { class: 'chart tall', role: 'img', 'aria-label': 'Learning curves' });
  el.replaceChildren(controls, box);
  const o = { metric: state.sweep.metric?.name ?? null, x: 'step', logY: false, smoothing: 0 };
  // The first curves are asked for while ECharts loads and the chart is made, not after.
  const firstLoad = o.metric ? loadCurves(state, cache, curveRuns(state), o.metric).catch(() => undefined) : undefined;
  const c = await chart(box);
  if (!c) return;
  c.on('click', (p) => {
    if (p.seriesId) window.location.hash = `#/runs/${encodeURIComponent(p.seriesId)}`;
  });
  const drawNow = () => {
    controls.replaceChildren(...curveControls(state, o, () => void refresh()));
    const runs = curveRuns(state);
    const opt = curveOption(state, cache, runs, o);
    if (runs.length === 0) opt.title = { text: 'No run has logged yet.', left: 'center', top: 'middle', textStyle: { fontSize: 13, fontWeight: 'normal', color: '#888' } };
    c.setOption(opt, { notMerge: true });
  };
  const refresh = async () => {
    if (!o.metric) return drawNow();
    try {
      await loadCurves(state, cache, curveRuns(state), o.metric);
    } catch {
      // Left for the next refresh.
    }
    if (!view.left) drawNow();
  };
  await firstLoad;
  await near;
  if (view.left) return;
  const later = throttle(() => void refresh(), 1000);
  state.on('runs', later);
  state.on('selection', later);
  every(REFRESH_MS, later);
  markPainted('curves', c);
  drawNow();
}
