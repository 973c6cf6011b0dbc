// The charts of a sweep's runs as points: the best so far, the history (metric by run number or by
// time, finished, stopped and failed runs drawn apart, log y on request) and one slice plot per
// varying parameter (the metric against its value, log x for log distributions). Each follows the
// shared selection; clicking a point opens its run.

import { BASE, chart, dark, markPainted } from '../charts.js';
import { fmt, h } from '../dom.js';
import { axisValue, categoryLabel, describeParams, flatOf } from '../params.js';
import { selected, visibleRuns } from '../sweep-state.js';
import { throttle } from '../view.js';

/** How each ended state is drawn (colours match the state badges). */
const MARKS = {
  finished: { symbol: 'circle', color: '#2e8b57' },
  stopped: { symbol: 'triangle', color: '#b7860b' },
  failed: { symbol: 'diamond', color: '#c4372d' },
  crashed: { symbol: 'diamond', color: '#c4372d' },
  running: { symbol: 'emptyCircle', color: '#1f8fb8' },
};
const SERIES_STATES = ['finished', 'stopped', 'failed', 'running'];
/**
 * Above 2,000 points a scatter is drawn as one batched path, not one shape per point: at 10,000
 * runs the shapes were most of the sweep page's time (`npm run bench -- --only dashboard
 * --profile`). Marks then come from the series, so each state is a series of its own.
 */
const LARGE = { large: true, largeThreshold: 2000 };

/**
 * Points as plain [x, y] pairs, with the run of each kept beside the chart (`runsOf[series][i]`)
 * for tooltips and clicks: ECharts reads 10,000 objects with a run id each much more slowly.
 */
function pointsOf(runs, x, y) {
  const data = new Array(runs.length);
  for (let i = 0; i < runs.length; i++) data[i] = [x(runs[i], i), y(runs[i])];
  return data;
}

/** The best-so-far steps: ECharts' first series colour of the theme, as before the points were split by state. */
const BEST_LINE = dark ? '#4992ff' : '#5470c6';

function seriesState(state) {
  return state === 'crashed' ? 'failed' : state;
}

/** Clicking a point opens its run; `runsOf()` gives the runs of each series as last drawn. */
function openRunOnClick(c, runsOf) {
  c.on('click', (p) => {
    const run = runsOf()[p.seriesIndex]?.[p.dataIndex];
    if (run) window.location.hash = `#/runs/${encodeURIComponent(run.id)}`;
  });
}

const emptyTitle = (text) => ({ text, left: 'center', top: 'middle', textStyle: { fontSize: 13, fontWeight: 'normal', color: '#888' } });

export async function mountBestChart(el, state) {
  const c = await chart(el);
  if (!c) return;
  let runsOf = [];
  openRunOnClick(c, () => runsOf);
  const draw = () => {
    // Runs with a value in the order they ended, under the best-so-far steps the server keeps.
    const ended = [...state.runs.values()]
      .filter((r) => r.endedAt && r.value !== null && (r.state === 'finished' || r.state === 'stopped'))
      .sort((a, b) => (a.endedAt < b.endedAt ? -1 : a.endedAt > b.endedAt ? 1 : a.number - b.number));
    const order = new Map(ended.map((r, i) => [r, i + 1]));
    const curve = state.best?.curve ?? [];
    const total = Math.max(state.best?.counted ?? 0, ended.length);
    const steps = curve.map((p) => [p.index, p.value]);
    // Each step is the run that set that best (the last step is drawn on to the end).
    const setters = curve.map((p) => ({ id: p.runId, number: p.number }));
    if (steps.length > 0) {
      steps.push([total, steps[steps.length - 1][1]]);
      setters.push(setters[setters.length - 1]);
    }
    runsOf = [...['finished', 'stopped'].map((st) => ended.filter((r) => r.state === st)), setters];
    c.setOption(
      {
        ...BASE,
        grid: { left: 56, right: 16, top: 16, bottom: 36 },
        tooltip: { trigger: 'item', formatter: (p) => `${p.seriesIndex < 2 ? '' : 'best: '}run #${runsOf[p.seriesIndex][p.dataIndex].number}: ${fmt(p.data[1])}` },
        xAxis: { type: 'value', name: 'ended runs', nameLocation: 'middle', nameGap: 24, min: 1, max: Math.max(1, total), minInterval: 1 },
        yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } },
        series: [
          ...runsOf.slice(0, 2).map((runs, k) => ({
            type: 'scatter',
            ...LARGE,
            symbol: MARKS[k === 0 ? 'finished' : 'stopped'].symbol,
            symbolSize: 6,
            itemStyle: { color: MARKS[k === 0 ? 'finished' : 'stopped'].color, opacity: 0.45 },
            data: pointsOf(runs, (r) => order.get(r), (r) => r.value),
          })),
          { type: 'line', step: 'end', symbol: 'circle', symbolSize: 5, lineStyle: { width: 2, color: BEST_LINE }, itemStyle: { color: BEST_LINE }, data: steps },
        ],
      },
      { notMerge: true },
    );
  };
  state.on('best', draw);
  state.on('runs', throttle(draw, 1000));
  markPainted('best', c);
  draw();
}

export async function mountHistory(el, state) {
  const controls = h('div', { class: 'controls' });
  const box = h('div', { class: 'chart' });
  el.replaceChildren(controls, box);
  const opts = { x: 'number', logY: false };
  const c = await chart(box);
  if (!c) return;
  let runsOf = [];
  openRunOnClick(c, () => runsOf);
  const draw = () => {
    const runs = visibleRuns(state).filter((r) => r.state !== 'queued' && r.state !== 'canceled');
    const values = runs.map((r) => r.value).filter((v) => v !== null);
    const canLog = values.length > 0 && values.every((v) => v > 0);
    const logY = opts.logY && canLog;
    const lo = values.length ? Math.min(...values) : 0;
    const hi = values.length ? Math.max(...values) : 1;
    const x = (r) => (opts.x === 'number' ? r.number : Date.parse(r.endedAt ?? r.startedAt ?? r.createdAt));
    controls.replaceChildren(
      h('label', {}, 'x ', select(['number', 'time'], opts.x, (v) => ((opts.x = v), draw()), { number: 'run number', time: 'time' })),
      h('label', { title: canLog ? '' : 'log y needs positive values' }, h('input', { type: 'checkbox', checked: logY, disabled: !canLog, onchange: (e) => ((opts.logY = e.target.checked), draw()) }), ' log y'),
    );
    runsOf = SERIES_STATES.map((s) => runs.filter((r) => seriesState(r.state) === s && (r.value !== null || s === 'failed')));
    // A failed run without a value sits on the top edge, so failures stay visible.
    const edge = logY ? hi : hi + (hi - lo) * 0.05 || 1;
    const series = SERIES_STATES.map((s, k) => ({
      name: s === 'failed' ? 'failed / crashed' : s,
      type: 'scatter',
      ...LARGE,
      symbol: MARKS[s].symbol,
      symbolSize: s === 'failed' ? 9 : 7,
      itemStyle: { color: MARKS[s].color, opacity: 0.8 },
      data: pointsOf(runsOf[k], x, (r) => r.value ?? edge),
    }));
    c.setOption(
      {
        ...BASE,
        legend: { top: 0, textStyle: { fontSize: 11 } },
        grid: { left: 56, right: 16, top: 30, bottom: 36 },
        tooltip: {
          trigger: 'item',
          formatter: (p) => {
            const r = runsOf[p.seriesIndex][p.dataIndex];
            return `run #${r.number} (${r.state}): ${r.value !== null ? fmt(r.value) : 'no value'}`;
          },
        },
        xAxis: opts.x === 'number' ? { type: 'value', name: 'run', nameLocation: 'middle', nameGap: 24, minInterval: 1, scale: true } : { type: 'time', name: 'ended', nameLocation: 'middle', nameGap: 24 },
        yAxis: { type: logY ? 'log' : 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } },
        series,
        ...(runs.length === 0 ? { title: emptyTitle('No run has ended yet.') } : {}),
      },
      { notMerge: true },
    );
  };
  const redraw = throttle(draw, 1000);
  state.on('runs', redraw);
  state.on('selection', draw);
  markPainted('history', c);
  draw();
}

export function select(values, current, onChange, labels = {}) {
  return h(
    'select',
    { onchange: (e) => onChange(e.target.value) },
    values.map((v) => h('option', { value: v, selected: v === current }, labels[v] ?? v)),
  );
}

/** One small scatter per varying parameter: where along each axis the good runs are. */
export async function mountSlices(el, state) {
  const charts = new Map();
  let marked = false;
  const draw = async () => {
    const withValue = [...state.runs.values()].filter((r) => r.value !== null && Number.isFinite(r.value));
    const { varying } = describeParams(state.sweep.spec, withValue);
    if (varying.length === 0) {
      el.replaceChildren(h('p', { class: 'muted' }, withValue.length === 0 ? 'No run has a value yet.' : 'No parameter varies yet.'));
      charts.clear();
      return;
    }
    const names = varying.map((p) => p.name).join('\n');
    if (el.dataset.params !== names) {
      el.dataset.params = names;
      el.replaceChildren();
      for (const { c } of charts.values()) c.dispose();
      charts.clear();
      for (const p of varying) {
        const box = h('div', { class: 'slice', role: 'img', 'aria-label': `${state.sweep.metric?.name} against ${p.name}` });
        el.append(h('div', { class: 'slice-cell' }, h('div', { class: 'slice-title mono' }, p.name), box));
        const c = await chart(box);
        if (c) {
          const slice = { c, runsOf: [] };
          openRunOnClick(c, () => slice.runsOf);
          charts.set(p.name, slice);
        }
      }
      if (!marked && charts.size > 0) {
        marked = true;
        markPainted('slices', ...[...charts.values()].map((x) => x.c));
      }
    }
    const metric = state.sweep.metric?.name ?? 'metric';
    const shown = withValue.filter((r) => selected(state, r));
    const byState = SERIES_STATES.map((st) => ({ st, runs: shown.filter((r) => seriesState(r.state) === st) })).filter((x) => x.runs.length > 0);
    for (const p of varying) {
      const slice = charts.get(p.name);
      if (!slice) continue;
      const { c } = slice;
      slice.runsOf = byState.map((x) => x.runs);
      const series = byState.map(({ st, runs }) => ({
        type: 'scatter',
        ...LARGE,
        symbol: MARKS[st].symbol,
        symbolSize: 6,
        itemStyle: { color: MARKS[st].color, opacity: 0.7 },
        data: pointsOf(runs, (r) => axisValue(p, flatOf(r)), (r) => r.value),
      }));
      c.setOption(
        {
          ...BASE,
          grid: { left: 48, right: 10, top: 8, bottom: 26 },
          tooltip: {
            trigger: 'item',
            formatter: (q) => `run #${slice.runsOf[q.seriesIndex][q.dataIndex].number}: ${p.name} = ${p.kind === 'category' ? categoryLabel(q.data[0]) : fmt(q.data[0], 4)}, ${metric} ${fmt(q.data[1])}`,
          },
          xAxis: p.kind === 'category' ? { type: 'category', data: p.categories, axisLabel: { formatter: categoryLabel, fontSize: 10 } } : { type: p.kind, scale: true, axisLabel: { formatter: (v) => fmt(v, 3), fontSize: 10 } },
          yAxis: { type: 'value', scale: true, axisLabel: { formatter: (v) => fmt(v, 3), fontSize: 10 } },
          series,
        },
        { notMerge: true },
      );
    }
  };
  const redraw = throttle(() => void draw(), 2000);
  state.on('runs', redraw);
  state.on('selection', () => void draw());
  await draw();
}
