// The page's only way to the server: GET and POST under api/, with the token the user gave once
// for this browser session. In a report file (harrow report) the same calls read the data the
// file carries, so every view renders offline.

import { h } from './dom.js';
import { TOKEN_KEY, headers } from './token.js';

/** The data of a self-contained report, keyed by API path; undefined on a live page. */
export const report = globalThis.HARROW_REPORT;

export class ApiError extends Error {
  constructor(message, status, code) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

export async function api(path) {
  if (report) return fromReport(path);
  const res = await fetch(`api/${path}`, { headers: headers() });
  if (res.status === 401) {
    await askToken(tokenRefused() ? 'The token was refused; give another.' : 'This server needs a token to read.');
    return api(path);
  }
  return answer(res, path);
}

/**
 * The API as a report file answers it: the same shapes the server sends, from the data the file
 * carries (see controller/sweep-report.ts).
 */
function fromReport(path) {
  const [route, query = ''] = path.split('?');
  const q = new URLSearchParams(query);
  const parts = route.split('/').map(decodeURIComponent);
  const missing = (what) => new ApiError(`this report does not include ${what}`, 404, 'NOT_IN_REPORT');
  if (parts[0] === 'sweeps' && parts.length === 1) return { sweeps: [report.sweep] };
  if (parts[0] === 'sweeps' && parts[1] !== report.sweepId) throw missing(`sweep ${parts[1]}`);
  if (parts[0] === 'sweeps' && parts.length === 2) return report.sweep;
  if (parts[0] === 'sweeps' && parts[2] === 'best') return report.best;
  if (parts[0] === 'sweeps' && parts[2] === 'importance') return report.importance;
  if (parts[0] === 'sweeps' && parts[2] === 'runs') {
    // The report's cursor is the offset of the next page (cursors are opaque to the page).
    const offset = Number(q.get('cursor') ?? q.get('offset') ?? 0);
    const limit = Number(q.get('limit') ?? 50);
    const next = offset + limit < report.runs.length ? String(offset + limit) : null;
    return { runs: report.runs.slice(offset, offset + limit), total: report.runs.length, nextCursor: next };
  }
  if (parts[0] === 'sweeps' && parts[2] === 'curves') {
    const byRun = report.curves[q.get('name')] ?? {};
    return { name: q.get('name'), curves: (q.get('runs') ?? '').split(',').map((id) => byRun[decodeURIComponent(id)]).filter(Boolean) };
  }
  if (parts[0] === 'runs' && parts.length === 2) {
    const run = report.runDetails[parts[1]];
    if (!run) throw missing(`the details of this run (the report keeps those of the best and the failed runs)`);
    return run;
  }
  throw missing(path);
}

/** A mutating call (JSON body); asks for the token once if the server wants one. */
export async function post(path, body = {}) {
  if (report) throw new ApiError('a report is read-only', 405, 'READ_ONLY');
  const res = await fetch(`api/${path}`, { method: 'POST', headers: headers({ 'content-type': 'application/json' }), body: JSON.stringify(body) });
  if (res.status === 401) {
    await askToken(tokenRefused() ? 'The token was refused; give another.' : 'This action needs a token.');
    return post(path, body);
  }
  return answer(res, path);
}

/**
 * The URL of a sweep's event stream. EventSource cannot send the token in a header, so the page
 * trades it (in a header) for a one-minute ticket that opens this one stream (see
 * controller/security/stream-ticket.ts); each reconnect asks for a fresh one.
 */
export async function streamUrl(sweepId) {
  const { ticket } = await post('stream-tickets', { sweep: sweepId });
  return `api/sweeps/${encodeURIComponent(sweepId)}/events?ticket=${encodeURIComponent(ticket)}`;
}

/**
 * Who the server takes this page for (a token's name, or the user a single-sign-on proxy signed
 * in), or null when nobody is signed in or this is a report. Never asks for a token.
 */
export async function whoami() {
  if (report) return null;
  const res = await fetch('api/whoami', { headers: headers() }).catch(() => null);
  const body = res?.ok ? await res.json().catch(() => null) : null;
  const who = body?.identity;
  return who && who.via !== 'anonymous' ? who : null;
}

/** Downloads what the server answers at `path` (a file such as the sweep report), token included. */
export async function download(path, fallbackName) {
  const res = await fetch(`api/${path}`, { headers: headers({ accept: '*/*' }) });
  if (res.status === 401) {
    await askToken(tokenRefused() ? 'The token was refused; give another.' : 'This server needs a token to read.');
    return download(path, fallbackName);
  }
  if (!res.ok) return answer(res, path);
  const name = /filename="([^"]+)"/.exec(res.headers.get('content-disposition') ?? '')?.[1] ?? fallbackName;
  const url = URL.createObjectURL(await res.blob());
  const a = h('a', { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}

async function answer(res, path) {
  const body = await res.json().catch(() => null);
  if (!res.ok) throw new ApiError(body?.message ?? `HTTP ${res.status} for /api/${path}`, res.status, body?.code);
  return body;
}

/** After a 401: drops the token that was sent (if any) and says whether there was one. */
function tokenRefused() {
  const had = sessionStorage.getItem(TOKEN_KEY) !== null;
  sessionStorage.removeItem(TOKEN_KEY);
  return had;
}

let asking = null;

/**
 * Asks for the API token in a dialog (once, however many calls wanted it) and keeps it in
 * sessionStorage: it lives as long as the tab, never in a cookie the browser would send by itself.
 */
export function askToken(why) {
  asking ??= new Promise((resolve, reject) => {
    const input = h('input', { type: 'password', id: 'token-input', autocomplete: 'off', 'aria-label': 'API token', placeholder: 'HARROW_TOKEN' });
    const dialog = h(
      'dialog',
      { class: 'token-dialog', 'aria-labelledby': 'token-title' },
      h(
        'form',
        { method: 'dialog' },
        h('h2', { id: 'token-title' }, 'Token needed'),
        h('p', {}, why, ' It is kept for this browser tab only.'),
        input,
        h('div', { class: 'actions' }, h('button', { type: 'submit', value: 'ok' }, 'Use token'), h('button', { type: 'submit', value: 'cancel', class: 'secondary' }, 'Cancel')),
      ),
    );
    dialog.addEventListener('close', () => {
      dialog.remove();
      asking = null;
      if (dialog.returnValue === 'ok' && input.value.trim()) {
        sessionStorage.setItem(TOKEN_KEY, input.value.trim());
        resolve();
      } else reject(new ApiError('no token given', 401, 'UNAUTHORIZED'));
    });
    document.body.append(dialog);
    dialog.showModal();
    input.focus();
  });
  return asking;
}

export function forgetToken() {
  sessionStorage.removeItem(TOKEN_KEY);
}

export function hasToken() {
  return sessionStorage.getItem(TOKEN_KEY) !== null;
}
