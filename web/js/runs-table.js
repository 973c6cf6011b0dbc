// The runs table: one column per varying parameter (constants shown once above), the sweep's
// metric and every other logged metric, sortable on any column from the keyboard, filtered by
// state and metric range (and by the parallel-coordinates brush), paginated, with a column
// chooser, CSV export of what is shown, and ticks to compare runs.

import { runColour } from './charts.js';
import { runClock, since } from './clocks.js';
import { badge, fill, fmt, h, runNote, runTime, valueText, warningNote } from './dom.js';
import { describeParams, flatOf } from './params.js';
import { RUN_STATES, byValue, metricNames, selectionActive, visibleRuns } from './sweep-state.js';
import { throttle } from './view.js';

const PAGE = 100;

function columnsOf(state) {
  const metric = state.sweep.metric?.name ?? 'value';
  const { varying, constants } = describeParams(state.sweep.spec, [...state.runs.values()]);
  const others = metricNames(state).filter((n) => n !== metric);
  const cols = [
    { key: 'number', label: '#', num: true, get: (r) => r.number, cell: (r) => h('a', { href: `#/runs/${encodeURIComponent(r.id)}` }, `#${r.number}`), csv: (r) => r.number },
    { key: 'state', label: 'State', get: (r) => RUN_STATES.indexOf(r.state), cell: (r) => [badge(r.state), r.attempt > 1 ? h('span', { class: 'muted' }, ` ×${r.attempt}`) : null], csv: (r) => r.state },
    { key: 'value', label: metric, num: true, get: (r) => r.value, cell: (r) => fmt(r.value), csv: (r) => r.value ?? '' },
    { key: 'step', label: 'Step', num: true, get: (r) => r.valueStep, cell: (r) => r.valueStep ?? '–', csv: (r) => r.valueStep ?? '' },
    ...others.map((m) => ({
      key: `metric:${m}`,
      label: m,
      num: true,
      get: (r) => r.summary?.[m]?.last ?? null,
      cell: (r) => fmt(r.summary?.[m]?.last ?? null),
      csv: (r) => r.summary?.[m]?.last ?? '',
      optional: true,
    })),
    ...varying.map((p) => ({
      key: `param:${p.name}`,
      label: p.name,
      num: p.kind !== 'category',
      get: (r) => {
        const v = flatOf(r)[p.name];
        return typeof v === 'number' ? v : v === undefined ? null : JSON.stringify(v);
      },
      cell: (r) => valueText(flatOf(r)[p.name]),
      csv: (r) => valueText(flatOf(r)[p.name]) ?? '',
      param: true,
    })),
    { key: 'time', label: 'Time', num: true, get: (r) => runTime(r), cell: (r) => runClock(r), csv: (r) => (runTime(r) ?? 0) / 1000 },
    { key: 'started', label: 'Started', get: (r) => (r.startedAt ? Date.parse(r.startedAt) : null), cell: (r) => (r.startedAt ? since(r.startedAt) : '–'), csv: (r) => r.startedAt ?? '' },
    { key: 'note', label: 'Note', cell: (r) => noteCell(r), csv: (r) => noteText(r) },
  ];
  return { cols, constants };
}

function noteText(r) {
  return [r.errorLine && (r.state === 'failed' || r.state === 'crashed') ? r.errorLine : runNote(r), warningNote(r)].filter(Boolean).join(' · ');
}

function noteCell(r) {
  const text = noteText(r);
  return h('span', { class: r.state === 'failed' || r.state === 'crashed' ? 'error' : '', title: text }, text);
}

export function mountRunsTable(el, state) {
  const t = { sort: { key: 'number', asc: false }, page: 0, hidden: new Set() };
  const draw = () => {
    const { cols, constants } = columnsOf(state);
    // Many metrics: show the first few unless the user asked for more.
    const optional = cols.filter((c) => c.optional);
    if (!t.seenOptional) {
      t.seenOptional = true;
      optional.slice(3).forEach((c) => t.hidden.add(c.key));
    }
    const shown = cols.filter((c) => !t.hidden.has(c.key));
    const col = shown.find((c) => c.key === t.sort.key) ?? shown[0];
    const runs = visibleRuns(state);
    const ordered = sortRuns(state, runs, col, t.sort.asc);
    const pages = Math.max(1, Math.ceil(ordered.length / PAGE));
    t.page = Math.min(t.page, pages - 1);
    const pageRuns = ordered.slice(t.page * PAGE, (t.page + 1) * PAGE);

    const header = shown.map((c) => {
      const sorted = c.key === col.key;
      const th = h('th', { class: c.num ? 'num' : '', 'aria-sort': sorted ? (t.sort.asc ? 'ascending' : 'descending') : 'none' });
      if (c.get) {
        th.append(
          h(
            'button',
            {
              type: 'button',
              class: `sort ${sorted ? 'sorted' : ''} ${sorted && t.sort.asc ? 'asc' : ''}`,
              onclick: () => {
                // The metric starts best-first; the others start newest/largest first.
                t.sort = { key: c.key, asc: t.sort.key === c.key ? !t.sort.asc : c.key === 'value' };
                draw();
              },
            },
            c.label,
          ),
        );
      } else th.append(c.label);
      return th;
    });
    const rows = pageRuns.map((r) =>
      h(
        'tr',
        { 'data-run': r.id, class: state.checked.has(r.id) ? 'checked' : '' },
        h(
          'td',
          { class: 'pick' },
          h('input', {
            type: 'checkbox',
            'aria-label': `compare run #${r.number}`,
            checked: state.checked.has(r.id),
            onchange: (e) => {
              if (e.target.checked) state.checked.add(r.id);
              else state.checked.delete(r.id);
              state.emit('checked');
            },
          }),
          h('span', { class: 'swatch', style: `background:${runColour(r.number)}`, title: `run #${r.number}'s colour in the charts` }),
        ),
        shown.map((c) => h('td', { class: `${c.num ? 'num' : ''} ${c.param ? 'mono' : ''} ${c.key === 'note' ? 'note' : ''}` }, c.cell(r))),
      ),
    );
    const constantsText = Object.entries(constants)
      .sort(([a], [b]) => (a < b ? -1 : 1))
      .map(([k, v]) => `${k}=${valueText(v)}`)
      .join('  ');
    fill(
      el,
      h('div', { class: 'card-head' }, h('h2', {}, 'Runs'), toolbar(state, t, cols, ordered, shown, draw)),
      filters(state),
      constantsText ? h('p', { class: 'muted mono constants' }, 'Same in every run: ', constantsText) : null,
      rows.length
        ? h('div', { class: 'scroll-x' }, h('table', { class: 'runs' }, h('thead', {}, h('tr', {}, h('th', { class: 'pick' }, ''), header)), h('tbody', {}, rows)))
        : h('p', { class: 'muted' }, state.runs.size === 0 ? 'No runs yet.' : 'No run matches the selection.'),
      footer(state, t, ordered.length, pages, draw),
    );
  };
  const later = throttle(draw, 250);
  state.on('runs', later);
  state.on('selection', draw);
  state.on('checked', draw);
  draw();
  performance.mark('harrow:drawn:table');
  return { csv: () => toCsv(state, t) };
}

function sortRuns(state, runs, col, asc) {
  if (col.key === 'value') {
    const cmp = byValue(state);
    return [...runs].sort((a, b) => (asc ? cmp(a, b) : a.value === null || b.value === null ? cmp(a, b) : -cmp(a, b)));
  }
  return [...runs].sort((a, b) => {
    const x = col.get(a);
    const y = col.get(b);
    // Missing values sort last both ways.
    if (x === null && y === null) return b.number - a.number;
    if (x === null) return 1;
    if (y === null) return -1;
    const d = typeof x === 'string' || typeof y === 'string' ? String(x).localeCompare(String(y)) : x - y;
    return (asc ? d : -d) || b.number - a.number;
  });
}

function toolbar(state, t, cols, ordered, shown, redraw) {
  const chooser = h(
    'details',
    { class: 'chooser', open: t.chooserOpen, ontoggle: (e) => (t.chooserOpen = e.target.open) },
    h('summary', {}, 'Columns'),
    h(
      'div',
      { class: 'chooser-list' },
      cols.map((c) =>
        h(
          'label',
          {},
          h('input', {
            type: 'checkbox',
            checked: !t.hidden.has(c.key),
            disabled: c.key === 'number',
            onchange: (e) => {
              if (e.target.checked) t.hidden.delete(c.key);
              else t.hidden.add(c.key);
              redraw();
            },
          }),
          ' ',
          c.label,
        ),
      ),
    ),
  );
  const download = h(
    'button',
    {
      type: 'button',
      onclick: () => {
        const blob = new Blob([csvOf(ordered, shown)], { type: 'text/csv;charset=utf-8' });
        const a = h('a', { href: URL.createObjectURL(blob), download: `${state.sweep.name ?? state.id}-runs.csv` });
        document.body.append(a);
        a.click();
        a.remove();
        setTimeout(() => URL.revokeObjectURL(a.href), 1000);
      },
    },
    'Export CSV',
  );
  return h('div', { class: 'toolbar' }, chooser, download);
}

/** CSV (RFC 4180) of the rows and columns on screen. */
export function csvOf(runs, cols) {
  const quote = (v) => {
    const s = String(v ?? '');
    return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
  };
  const lines = [cols.map((c) => quote(c.label)).join(',')];
  for (const r of runs) lines.push(cols.map((c) => quote(c.csv(r))).join(','));
  return `${lines.join('\r\n')}\r\n`;
}

function toCsv(state, t) {
  const { cols } = columnsOf(state);
  return csvOf(visibleRuns(state), cols.filter((c) => !t.hidden.has(c.key)));
}

function filters(state) {
  const f = state.filter;
  const num = (v) => (v === '' ? null : Number(v));
  return h(
    'div',
    { class: 'filters' },
    h(
      'fieldset',
      { class: 'states' },
      h('legend', {}, 'States'),
      RUN_STATES.map((s) =>
        h(
          'label',
          { class: `state-${s}` },
          h('input', {
            type: 'checkbox',
            checked: f.states.has(s),
            onchange: (e) => {
              if (e.target.checked) f.states.add(s);
              else f.states.delete(s);
              state.emit('selection');
            },
          }),
          ` ${s} `,
          h('b', {}, state.sweep.counts?.[s] ?? 0),
        ),
      ),
    ),
    h(
      'fieldset',
      { class: 'range' },
      h('legend', {}, state.sweep.metric?.name ?? 'value'),
      h('input', { type: 'number', step: 'any', placeholder: 'min', 'aria-label': 'minimum value', value: f.min ?? '', onchange: (e) => ((f.min = num(e.target.value)), state.emit('selection')) }),
      ' – ',
      h('input', { type: 'number', step: 'any', placeholder: 'max', 'aria-label': 'maximum value', value: f.max ?? '', onchange: (e) => ((f.max = num(e.target.value)), state.emit('selection')) }),
    ),
    selectionActive(state)
      ? h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              f.states = new Set(RUN_STATES);
              f.min = f.max = null;
              if (state.clearBrush) state.clearBrush();
              else {
                state.brushed = null;
                state.emit('selection');
              }
            },
          },
          'Clear the selection',
        )
      : null,
  );
}

function footer(state, t, shownCount, pages, redraw) {
  const parts = [];
  const brush = state.brushed ? ` (${state.brushed.size} in the parallel-coordinates brush)` : '';
  parts.push(`${shownCount} of ${state.total} runs${brush}`);
  if (state.runs.size < state.total) parts.push(`; the page holds the latest ${state.runs.size}`);
  return h(
    'div',
    { class: 'table-foot' },
    h('span', { class: 'muted' }, parts.join('')),
    pages > 1
      ? h(
          'span',
          { class: 'pager' },
          h('button', { type: 'button', disabled: t.page === 0, onclick: () => ((t.page -= 1), redraw()) }, '‹ Previous'),
          ` page ${t.page + 1} of ${pages} `,
          h('button', { type: 'button', disabled: t.page >= pages - 1, onclick: () => ((t.page += 1), redraw()) }, 'Next ›'),
        )
      : null,
  );
}
