// Times on the page that move by themselves: "12s ago", a running run's wall time, and the
// "no heartbeat for N s" warning — one timer for the whole page, so nothing freezes between events.

import { ago, duration, h } from './dom.js';

/** "… ago" that keeps counting. */
export function since(iso) {
  return h('span', { 'data-since': iso ?? '' }, ago(iso));
}

/** A run's wall time, growing while it runs. */
export function runClock(run) {
  return h('span', { 'data-start': run.startedAt ?? '', 'data-end': run.endedAt ?? '' }, clockText(run.startedAt, run.endedAt));
}

function clockText(start, end) {
  if (!start) return '–';
  return duration((end ? Date.parse(end) : Date.now()) - Date.parse(start));
}

export function tickClocks(root = document) {
  for (const el of root.querySelectorAll('[data-since]')) el.textContent = ago(el.dataset.since || null);
  for (const el of root.querySelectorAll('[data-start]')) el.textContent = clockText(el.dataset.start || null, el.dataset.end || null);
  for (const el of root.querySelectorAll('[data-heartbeat]')) {
    const quiet = Date.now() - Date.parse(el.dataset.heartbeat);
    const limit = Number(el.dataset.quietAfter);
    el.hidden = !(quiet > limit);
    el.textContent = `no heartbeat for ${duration(quiet)}: the agent may be gone (the run is declared crashed after the server's crash timeout)`;
  }
}
