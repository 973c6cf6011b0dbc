// "Which settings matter": the server's importance with its 90% interval, and which way each
// parameter moves the metric. Reloaded when runs end (the server caches between).

import { api } from '../api.js';
import { fmt, h } from '../dom.js';
import { throttle } from '../view.js';

export function mountImportance(el, state, view) {
  const load = throttle(async () => {
    try {
      const imp = await api(`sweeps/${encodeURIComponent(state.id)}/importance`);
      if (!view.left) draw(el, imp);
      performance.mark('harrow:drawn:importance');
    } catch (err) {
      if (!view.left) el.replaceChildren(h('p', { class: 'muted' }, err.message));
    }
  }, 5000);
  state.on('runs', load);
  load();
}

function draw(el, imp) {
  if (imp.parameters.length === 0) {
    el.replaceChildren(h('p', { class: 'muted' }, imp.note ?? 'Not enough runs yet.'));
    return;
  }
  const top = Math.max(0.05, ...imp.parameters.map((p) => p.high));
  const pct = (x) => `${(Math.max(0, Math.min(x, top)) / top) * 100}%`;
  const direction = (r) => (r === null ? '' : Math.abs(r) < 0.1 ? 'no clear direction' : `${imp.metric} ${r > 0 ? 'rises' : 'falls'} with it (ρ ${fmt(r, 2)})`);
  el.replaceChildren(
    h(
      'table',
      { class: 'imp' },
      h('thead', {}, h('tr', {}, h('th', {}, 'Parameter'), h('th', {}, 'Importance (90% interval)'), h('th', {}, 'Effect'))),
      h(
        'tbody',
        {},
        imp.parameters.map((p) =>
          h(
            'tr',
            { title: `importance ${fmt(p.importance, 3)}, 90% interval [${fmt(p.low, 3)}, ${fmt(p.high, 3)}]` },
            h('td', { class: 'mono' }, p.name),
            h(
              'td',
              { class: 'imp-cell' },
              h('div', { class: 'imp-track' }, h('div', { class: 'imp-bar', style: `width:${pct(p.importance)}` }), h('div', { class: 'imp-ci', style: `left:${pct(p.low)};width:calc(${pct(p.high)} - ${pct(p.low)})` })),
              h('span', { class: 'num' }, fmt(Math.max(0, p.importance), 2)),
            ),
            h('td', { class: 'muted' }, direction(p.correlation)),
          ),
        ),
      ),
    ),
    h('p', { class: 'muted hint' }, `From ${imp.runs} finished and stopped runs: ${imp.method}. About the share of the metric's variation each parameter explains.`),
  );
}
