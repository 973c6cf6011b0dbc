// Parallel coordinates (W&B's default panel): one axis per varying parameter — log for log
// distributions, categories for the rest — plus the metric; lines coloured by the metric, good
// runs warm whatever the goal. Brushing any axis sets the selection every other view follows.
// Axes can be reordered (drag a name in the bar under the chart, or its ‹ › buttons from the
// keyboard); the order lives in the sweep state, so it survives redraws. ECharts' parallel series
// has no axis dragging of its own: the order is the order of `parallelAxis` and the data columns.

import { BASE, chart, markPainted } from '../charts.js';
import { fill, fmt, h } from '../dom.js';
import { axisValue, categoryLabel, describeParams, flatOf } from '../params.js';
import { goalOf, moveAxis, orderedAxes } from '../sweep-state.js';
import { throttle } from '../view.js';

export async function mountParallel(el, state) {
  const note = h('p', { class: 'muted hint' }, 'Drag along an axis to select runs; every view follows. Drag an empty part of an axis to clear it.');
  const box = h('div', { class: 'chart tall parallel', role: 'img', 'aria-label': 'Parallel coordinates of the runs' });
  const bar = h('div', { class: 'axis-order', role: 'group', 'aria-label': 'Axis order' });
  const reset = h('button', { type: 'button', class: 'link', hidden: true, onclick: () => state.clearBrush?.() }, 'Clear the brush');
  el.replaceChildren(note, box, h('div', { class: 'axis-bar' }, bar, reset));
  const c = await chart(box);
  if (!c) return;
  let runs = [];
  let intervals = new Map();

  const draw = () => {
    const metric = state.sweep.metric?.name ?? 'metric';
    runs = [...state.runs.values()].filter((r) => r.value !== null && Number.isFinite(r.value));
    const { varying } = describeParams(state.sweep.spec, runs);
    if (runs.length === 0 || varying.length === 0) {
      bar.replaceChildren();
      c.setOption({ ...BASE, title: { text: runs.length === 0 ? `No run has a ${metric} yet.` : 'No parameter varies yet.', left: 'center', top: 'middle', textStyle: { fontSize: 13, fontWeight: 'normal', color: '#888' } } }, { notMerge: true });
      return;
    }
    const values = runs.map((r) => r.value);
    const goal = goalOf(state);
    const axes = [
      ...varying.map((p) => ({
        id: `param:${p.name}`,
        name: p.name,
        type: p.kind,
        value: (r) => axisValue(p, flatOf(r)),
        ...(p.kind === 'category' ? { data: p.categories, axisLabel: { formatter: categoryLabel } } : { scale: true, axisLabel: { formatter: (v) => fmt(v, 3) } }),
      })),
      { id: 'metric', name: metric, type: 'value', scale: true, inverse: goal === 'maximize', value: (r) => r.value, axisLabel: { formatter: (v) => fmt(v, 3) } },
    ];
    const order = orderedAxes(state.axisOrder, axes.map((a) => a.id));
    const ordered = order.map((id) => axes.find((a) => a.id === id));
    const metricDim = order.indexOf('metric');
    const data = runs.map((r) => ordered.map((a) => a.value(r)));
    drawBar(ordered);
    c.setOption(
      {
        ...BASE,
        parallel: { left: 48, right: 72, top: 36, bottom: 24 },
        parallelAxis: ordered.map(({ value: _value, ...axis }, dim) => ({ ...axis, dim })),
        visualMap: {
          type: 'continuous',
          dimension: metricDim,
          min: Math.min(...values),
          max: Math.max(...values),
          inRange: { color: goal === 'maximize' ? ['#4575b4', '#fee090', '#d73027'] : ['#d73027', '#fee090', '#4575b4'] },
          right: 0,
          top: 'middle',
          itemHeight: 120,
          calculable: false,
          textStyle: { fontSize: 10 },
        },
        series: [{ type: 'parallel', lineStyle: { width: 1, opacity: runs.length > 2000 ? 0.15 : 0.5 }, inactiveOpacity: 0.03, activeOpacity: 1, progressive: 0, data }],
      },
      { notMerge: true },
    );
    // setOption with notMerge drops the brush: put the user's ranges back.
    for (const [axisId, iv] of intervals) c.dispatchAction({ type: 'axisAreaSelect', parallelAxisId: axisId, intervals: iv });
    if (intervals.size > 0) readSelection();
  };

  const move = (id, delta) => {
    state.axisOrder = moveAxis(orderedAxes(state.axisOrder, currentIds), id, delta);
    state.emit('axes');
  };
  let currentIds = [];
  let dragged = null;
  /** The names of the axes in order, each draggable and with keyboard buttons to move it. */
  const drawBar = (ordered) => {
    currentIds = ordered.map((a) => a.id);
    const focused = document.activeElement?.closest?.('.axis-order') ? document.activeElement.dataset.move : null;
    fill(
      bar,
      h('span', { class: 'muted small' }, 'Axes:'),
      ordered.map((a, i) =>
        h(
          'span',
          {
            class: 'axis-chip',
            draggable: 'true',
            'data-axis': a.id,
            ondragstart: (e) => {
              dragged = a.id;
              e.dataTransfer.effectAllowed = 'move';
              e.dataTransfer.setData('text/plain', a.id);
            },
            ondragover: (e) => e.preventDefault(),
            ondrop: (e) => {
              e.preventDefault();
              if (dragged && dragged !== a.id) move(dragged, i - currentIds.indexOf(dragged));
              dragged = null;
            },
          },
          h('button', { type: 'button', class: 'mover', 'aria-label': `Move ${a.name} left`, title: 'Move left', 'data-move': `${a.id}:-1`, disabled: i === 0, onclick: () => move(a.id, -1) }, '‹'),
          h('span', { class: 'mono' }, a.name),
          h('button', { type: 'button', class: 'mover', 'aria-label': `Move ${a.name} right`, title: 'Move right', 'data-move': `${a.id}:1`, disabled: i === ordered.length - 1, onclick: () => move(a.id, 1) }, '›'),
        ),
      ),
    );
    // Keep the keyboard where it was: pressing "move right" again moves the same axis again.
    if (focused) {
      const buttons = [...bar.querySelectorAll('button')];
      const same = buttons.find((b) => b.dataset.move === focused);
      // At the end of the row that button is disabled: stay on the axis, on its other button.
      (same && !same.disabled ? same : same?.parentElement.querySelector('button:not(:disabled)'))?.focus();
    }
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
  state.on('axes', draw);
  state.on('selection', () => (reset.hidden = intervals.size === 0));
  markPainted('parallel', c);
  draw();
}
