// Compare the runs ticked in the table: their curves overlaid (same controls as the learning
// curves) and the parameters on which they differ, side by side.

import { BASE, chart, runColour } from '../charts.js';
import { badge, fill, fmt, h, valueText } from '../dom.js';
import { flatOf } from '../params.js';
import { curveControls, curveOption, loadCurves } from './curves-chart.js';

export async function mountCompare(el, state, view, cache) {
  const controls = h('div', { class: 'controls' });
  const box = h('div', { class: 'chart' });
  const diff = h('div', { class: 'scroll-x' });
  const o = { metric: state.sweep.metric?.name ?? null, x: 'step', logY: false, smoothing: 0 };
  let c = null;

  const runsChecked = () => [...state.checked].map((id) => state.runs.get(id)).filter(Boolean);

  const draw = async () => {
    const runs = runsChecked();
    if (runs.length < 2) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    if (!c) {
      el.replaceChildren(
        h('div', { class: 'card-head' }, h('h2', {}, `Compare ${runs.length} runs`), h('button', { type: 'button', class: 'link', onclick: () => (state.checked.clear(), state.emit('checked')) }, 'Clear')),
        controls,
        box,
        diff,
      );
      c = await chart(box);
    } else el.querySelector('h2').textContent = `Compare ${runs.length} runs`;
    controls.replaceChildren(...curveControls(state, o, () => void draw()));
    if (o.metric) {
      try {
        await loadCurves(state, cache, runs, o.metric);
      } catch {
        // Drawn with what is cached.
      }
    }
    if (view.left) return;
    if (c) c.setOption({ ...curveOption(state, cache, runs, o), ...BASE }, { notMerge: true });
    drawDiff(diff, state, runs);
  };
  state.on('checked', () => void draw());
  state.on('runs', () => {
    if (state.checked.size >= 2) void draw();
  });
  el.hidden = true;
}

function drawDiff(el, state, runs) {
  const flats = runs.map(flatOf);
  const names = [...new Set(flats.flatMap((f) => Object.keys(f)))].sort();
  const differs = (n) => new Set(flats.map((f) => JSON.stringify(f[n]))).size > 1;
  const rows = names.filter(differs);
  const same = names.filter((n) => !differs(n));
  const metric = state.sweep.metric?.name ?? 'value';
  fill(
    el,
    h(
      'table',
      { class: 'compare' },
      h('thead', {}, h('tr', {}, h('th', {}, ''), runs.map((r) => h('th', {}, h('span', { class: 'swatch', style: `background:${runColour(r.number)}` }), h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, `#${r.number}`))))),
      h(
        'tbody',
        {},
        h('tr', {}, h('th', {}, 'state'), runs.map((r) => h('td', {}, badge(r.state)))),
        h('tr', {}, h('th', {}, metric), runs.map((r) => h('td', { class: 'num' }, fmt(r.value)))),
        rows.map((n) => h('tr', { class: 'differs' }, h('th', { class: 'mono' }, n), flats.map((f) => h('td', { class: 'mono' }, valueText(f[n]))))),
      ),
    ),
    same.length ? h('p', { class: 'muted hint' }, `Equal in all ${runs.length}: `, same.map((n) => `${n}=${valueText(flats[0][n])}`).join('  ')) : null,
  );
}
