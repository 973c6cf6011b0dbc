// Parallel coordinates (W&B's default panel): one axis per varying parameter — log for log
// distributions, categories for the rest — plus the metric; lines coloured by the metric, good
// runs warm whatever the goal. Brushing any axis sets the selection every other view follows.

import { BASE, chart } from '../charts.js';
import { fmt, h } from '../dom.js';
import { axisValue, categoryLabel, describeParams } from '../params.js';
import { flatOf, goalOf } from '../sweep-state.js';
import { throttle } from '../view.js';

export async function mountParallel(el, state) {
  const note = h('p', { class: 'muted hint' }, 'Drag along an axis to select runs; every view follows. Drag an empty part of an axis to clear it.');
  const box = h('div', { class: 'chart tall parallel', role: 'img', 'aria-label': 'Parallel coordinates of the runs' });
  el.replaceChildren(note, box);
  const c = await chart(box);
  if (!c) return;
  let runs = [];
  let intervals = new Map();

  const draw = () => {
    const metric = state.sweep.metric?.name ?? 'metric';
    runs = [...state.runs.values()].filter((r) => r.value !== null && Number.isFinite(r.value));
    const { varying } = describeParams(state.sweep.spec, runs);
    if (runs.length === 0 || varying.length === 0) {
      c.setOption({ ...BASE, title: { text: runs.length === 0 ? `No run has a ${metric} yet.` : 'No parameter varies yet.', left: 'center', top: 'middle', textStyle: { fontSize: 13, fontWeight: 'normal', color: '#888' } } }, { notMerge: true });
      return;
    }
    const values = runs.map((r) => r.value);
    const goal = goalOf(state);
    const data = runs.map((r) => [...varying.map((p) => axisValue(p, flatOf(r))), r.value]);
    c.setOption(
      {
        ...BASE,
        parallel: { left: 48, right: 72, top: 36, bottom: 24 },
        parallelAxis: [
          ...varying.map((p, i) => ({
            id: `param:${p.name}`,
            dim: i,
            name: p.name,
            type: p.kind,
            ...(p.kind === 'category' ? { data: p.categories, axisLabel: { formatter: categoryLabel } } : { scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } }),
          })),
          { id: 'metric', dim: varying.length, name: metric, type: 'value', scale: true, inverse: goal === 'maximize', axisLabel: { formatter: (v) => fmt(v, 3) } },
        ],
        visualMap: {
          type: 'continuous',
          dimension: varying.length,
          min: Math.min(...values),
          max: Math.max(...values),
          inRange: { color: goal === 'maximize' ? ['#4575b4', '#fee090', '#d73027'] : ['#d73027', '#fee090', '#4575b4'] },
          right: 0,
          top: 'middle',
          itemHeight: 120,
          calculable: false,
          textStyle: { fontSize: 10 },
        },
        series: [{ type: 'parallel', lineStyle: { width: 1, opacity: runs.length > 2000 ? 0.15 : 0.5 }, inactiveOpacity: 0.03, activeOpacity: 1, progressive: 2000, data }],
      },
      { notMerge: true },
    );
    // setOption with notMerge drops the brush: put the user's ranges back.
    for (const [axisId, iv] of intervals) c.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: axisId, intervals: iv });
    if (intervals.size > 0) readSelection();
  };

  const readSelection = () => {
    const series = c.getModel().getSeries()[0];
    if (!series) return;
    const active = series.getRawIndicesByActiveState('active');
    const next = active.length === runs.length ? null : new Set(active.map((i) => runs[i].id));
    const same = next === state.brushed || (next && state.brushed && next.size === state.brushed.size && [...next].every((id) => state.brushed.has(id)));
    if (same) return;
    state.brushed = next;
    state.emit('selection');
  };

  c.on('axisareaselected', (e) => {
    const id = e.parallelAxisId;
    if (id) {
      if (e.intervals?.length) intervals.set(id, e.intervals);
      else intervals.delete(id);
    }
    readSelection();
  });
  state.clearBrush = () => {
    intervals = new Map();
    state.brushed = null;
    draw();
    state.emit('selection');
  };

  const redraw = throttle(draw, 2000);
  state.on('runs', redraw);
  draw();
}
