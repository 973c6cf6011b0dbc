// The Harrow dashboard: routes to the list of sweeps, one sweep, or one run. Plain DOM and ES
// modules, no build step; the same files render a self-contained report (`harrow report`).

import { h } from './js/dom.js';
import { tickClocks } from './js/clocks.js';
import { showList } from './js/sweep-list.js';
import { showSweep } from './js/sweep-page.js';
import { showRun } from './js/run-page.js';
import { leaveView } from './js/view.js';
import { whoami } from './js/api.js';

const main = document.getElementById('main');
const live = document.getElementById('live');
const who = document.getElementById('who');

/** "Signed in as alice (member)": refreshed on each view, since a token may have been given since. */
async function showWho() {
  // A report file (harrow report) has its own page, without this element, and no server to ask.
  if (!who) return;
  const identity = await whoami();
  who.hidden = identity === null;
  if (!identity) return;
  const how = identity.via === 'token' ? 'token' : identity.via === 'proxy' ? 'single sign-on' : 'OIDC';
  who.textContent = `Signed in as ${identity.name} (${identity.role}, ${how})`;
  who.title = [identity.email, identity.groups.length ? `groups: ${identity.groups.join(', ')}` : ''].filter(Boolean).join('\n');
}

const ui = {
  main,
  crumbs: document.getElementById('crumbs'),
  setLive(state, text) {
    live.hidden = state === null;
    live.className = `live ${state ?? ''}`;
    live.textContent = text ?? '';
  },
  fail(err) {
    main.replaceChildren(h('p', { class: 'error' }, `Could not load: ${err.message}`));
  },
};

function route() {
  leaveView();
  const hash = window.location.hash;
  const sweep = /^#\/sweeps\/([^/]+)$/.exec(hash);
  const run = /^#\/runs\/([^/]+)$/.exec(hash);
  if (sweep) void showSweep(ui, decodeURIComponent(sweep[1]));
  else if (run) void showRun(ui, decodeURIComponent(run[1]));
  else if (globalThis.HARROW_REPORT?.sweepId) window.location.hash = `#/sweeps/${encodeURIComponent(globalThis.HARROW_REPORT.sweepId)}`;
  else void showList(ui);
  void showWho();
}

window.addEventListener('hashchange', route);
setInterval(() => tickClocks(), 1000);
route();
