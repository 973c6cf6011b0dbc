// The list of sweeps: state (never green for a sweep whose runs all fail), progress, failures and
// the best value, refreshed every few seconds.

import { api } from './api.js';
import { fmt, h } from './dom.js';
import { since } from './clocks.js';
import { sweepBadgeState, sweepHealth } from './health.js';
import { every, viewFlag } from './view.js';
import { pollStatus } from './live-stream.js';

const REFRESH_MS = 5000;

export function limitText(s) {
  const limits = [s.runCap, s.expectedRuns].filter((n) => n !== null && n !== undefined);
  return limits.length > 0 ? `${s.counts.total} / ${Math.min(...limits)}` : String(s.counts.total);
}

/** A sweep's state, never green when its runs failed (the API's `health`, protocol/run-states.ts). */
export function sweepBadge(s) {
  const health = sweepHealth(s);
  if (health === 'failing') return h('span', { class: 'state state-failed', title: 'every run that ended failed or crashed' }, `${s.state} · all runs failed`);
  const failures = (s.counts.failed ?? 0) + (s.counts.crashed ?? 0);
  if (health === 'degraded') return h('span', {}, h('span', { class: `state state-${sweepBadgeState(s)}`, title: s.stateReason ?? '' }, s.state), h('span', { class: 'state-failed' }, ` · ${failures} failed`));
  return h('span', { class: `state state-${sweepBadgeState(s)}`, title: s.stateReason ?? '' }, s.state);
}

export async function showList(ui) {
  ui.crumbs.replaceChildren();
  ui.setLive(null);
  document.title = 'Harrow';
  const view = viewFlag();
  const status = pollStatus(ui.setLive);
  let drawn = false;
  const draw = async () => {
    let sweeps;
    try {
      ({ sweeps } = await api('sweeps'));
    } catch (err) {
      if (view.left) return;
      // Once the list is on screen, a failed refresh (the server restarting) keeps it there and
      // says so; the next refresh brings it back.
      if (!drawn) ui.fail(err);
      else status.failed();
      return;
    }
    if (view.left) return;
    drawn = true;
    status.ok();
    if (sweeps.length === 0) {
      ui.main.replaceChildren(h('div', { class: 'card' }, h('p', {}, 'No sweeps yet. Create one with ', h('code', {}, 'harrow create sweep.yaml'), '.')));
      return;
    }
    const head = ['Sweep', 'State', 'Method', 'Metric', 'Runs', 'Running', 'Failed', 'Best', 'Created'];
    const rows = sweeps.map((s) => {
      const failed = s.counts.failed + s.counts.crashed;
      return h(
        'tr',
        {},
        h('td', {}, h('a', { href: `#/sweeps/${encodeURIComponent(s.id)}` }, s.name ?? s.id), s.name ? h('div', { class: 'muted mono' }, s.id) : null),
        h('td', {}, sweepBadge(s)),
        h('td', {}, s.method),
        h('td', {}, s.metric ? `${s.metric.goal} ${s.metric.name}` : '–'),
        h('td', { class: 'num' }, limitText(s)),
        h('td', { class: 'num' }, s.counts.running),
        h('td', { class: `num ${failed > 0 ? 'error' : ''}` }, failed),
        h('td', { class: 'num' }, s.best ? fmt(s.best.value) : '–'),
        h('td', {}, since(s.createdAt)),
      );
    });
    ui.main.replaceChildren(
      h(
        'div',
        { class: 'card scroll-x' },
        h('table', { class: 'sweeps' }, h('thead', {}, h('tr', {}, head.map((t, i) => h('th', { class: i >= 4 && i <= 7 ? 'num' : '' }, t)))), h('tbody', {}, rows)),
      ),
    );
  };
  await draw();
  every(REFRESH_MS, () => void draw());
}
