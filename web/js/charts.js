// ECharts, loaded only on pages that draw a chart, and the stable colour of each run.

import { h } from './dom.js';
import { onLeave } from './view.js';

export const dark = window.matchMedia('(prefers-color-scheme: dark)').matches;

let loading = null;

/** Loads the vendored ECharts once (a report file carries it inline already). */
export function loadECharts() {
  if (globalThis.echarts) return Promise.resolve(globalThis.echarts);
  loading ??= new Promise((resolve, reject) => {
    const script = h('script', { src: 'vendor/echarts.min.js' });
    script.addEventListener('load', () => resolve(globalThis.echarts));
    script.addEventListener('error', () => {
      loading = null;
      reject(new Error('the ECharts file did not load'));
    });
    document.head.append(script);
  });
  return loading;
}

const live = new Set();
window.addEventListener('resize', () => live.forEach((c) => c.resize()));

/** An ECharts instance in `el` that is disposed with the view; null (with a note) if ECharts is unavailable. */
export async function chart(el) {
  let echarts;
  try {
    echarts = await loadECharts();
  } catch (err) {
    el.replaceChildren(h('p', { class: 'muted' }, `Charts are unavailable: ${err.message}.`));
    return null;
  }
  const c = echarts.init(el, dark ? 'dark' : null, { renderer: 'canvas' });
  live.add(c);
  onLeave(() => {
    live.delete(c);
    if (!c.isDisposed()) c.dispose();
  });
  return c;
}

// A categorical palette with neighbours far apart (after Tableau 20 and Okabe–Ito); a run keeps
// its colour by number, in every chart, the table and the legend, across refreshes.
const PALETTE = [
  '#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f', '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac',
  '#1f77b4', '#d62728', '#2ca02c', '#9467bd', '#8c564b', '#e377c2', '#17becf', '#bcbd22', '#0072b2', '#d55e00',
];

export function runColour(number) {
  return PALETTE[(number - 1) % PALETTE.length];
}

/**
 * Marks `harrow:drawn:<name>` on the page's performance timeline when the first of `charts` to be
 * drawn last has painted its first option in full (ECharts' 'finished': progressive layers
 * included). `npm run bench` reads these marks: polling `getOption()` from outside copied 10,000
 * points per chart per poll, on the thread it was timing.
 */
export function markPainted(name, ...charts) {
  let left = charts.length;
  for (const c of charts) {
    const done = () => {
      c.off('finished', done);
      if (--left === 0) performance.mark(`harrow:drawn:${name}`);
    };
    c.on('finished', done);
  }
}

/** The axis and grid options every chart shares. */
export const BASE = { backgroundColor: 'transparent', animation: false };

/** Exponential moving average, as W&B's "smoothing" slider (0 = raw, 0.99 = very smooth), debiased at the start. */
export function smooth(points, weight) {
  if (!(weight > 0)) return points;
  let last = 0;
  let n = 0;
  return points.map(([x, y]) => {
    last = last * weight + (1 - weight) * y;
    n++;
    return [x, last / (1 - weight ** n)];
  });
}
