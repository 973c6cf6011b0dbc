// A sweep page's data (the sweep, its best so far and its runs), asked for as soon as the page
// starts. index.html loads this module on its own (`async`) and ahead of the others, and it
// imports only token.js, which imports nothing, so it runs as soon as those two files arrive: on
// a sweep's URL the requests go out while the rest of the page's modules are still on their way,
// instead of after the whole module graph has loaded and run. The sweep page takes the answers
// (`sweepData`), and asks again through `api` (which asks for a token on a 401) when these failed.

import { headers } from './token.js';

export const PAGE_SIZE = 1000;
/** Runs held by the page; a larger sweep shows its latest ones (the API pages through the rest). */
const MAX_LOADED = 20_000;

/**
 * Every page at once, by offset, read with `get` (the page's `api`, or the early reader below): at
 * most MAX_LOADED / PAGE_SIZE requests in parallel, where the cursor (`nextCursor`) would chain
 * them one after another; an offset under 20,000 costs the server a few ms. `harrow runs` and the
 * report follow the cursor. The sweep's run counts (`sweep`, asked at the same time) say how many
 * pages there are, so the rest go out as soon as it answers rather than after the first page, the
 * slowest answer of the three; pages the counts did not foresee (runs made meanwhile) follow the
 * first page's total.
 */
export async function loadRuns(get, id, sweep) {
  // A page that fails while another is awaited is still reported once, by the await below, not
  // also as an unhandled rejection.
  const page = (i) => {
    const p = get(`sweeps/${encodeURIComponent(id)}/runs?limit=${PAGE_SIZE}&offset=${i * PAGE_SIZE}&sort=-number`);
    p.catch(() => undefined);
    return p;
  };
  const pagesOf = (total) => Math.ceil(Math.min(total, MAX_LOADED) / PAGE_SIZE);
  const first = page(0);
  const counted = await sweep.then(
    (s) => s.counts.total,
    () => 0,
  );
  const early = Array.from({ length: Math.max(0, pagesOf(counted) - 1) }, (_, i) => page(i + 1));
  const head = await first;
  const late = Array.from({ length: Math.max(0, pagesOf(head.total) - 1 - early.length) }, (_, i) => page(early.length + i + 1));
  const rest = await Promise.all([...early, ...late]);
  return { total: head.total, runs: [head, ...rest].flatMap((p) => p.runs) };
}

/** The sweep, its best so far and its runs, read together with `get`. */
function load(get, id) {
  const path = `sweeps/${encodeURIComponent(id)}`;
  const sweep = get(path);
  sweep.catch(() => undefined);
  const all = Promise.all([sweep, get(`${path}/best`), loadRuns(get, id, sweep)]).then(([s, best, runs]) => ({ sweep: s, best, runs }));
  all.catch(() => undefined);
  return all;
}

/**
 * The early reader: a GET with the token the page keeps, and no more. Anything but a 2xx (a 401
 * before a token was given, a server error) fails it, and the page then asks again through `api`,
 * which knows what to do with each.
 */
async function earlyGet(path) {
  const res = await fetch(`api/${path}`, { headers: headers() });
  if (!res.ok) throw new Error(`HTTP ${res.status}`);
  return res.json();
}

/** What this module asked for on its own when the page opened on a sweep, taken once. */
let asked = null;
const opening = /^#\/sweeps\/([^/]+)$/.exec(window.location.hash);
// A report file (`harrow report`) carries its data and has no server to ask.
if (opening && !globalThis.HARROW_REPORT) {
  const id = decodeURIComponent(opening[1]);
  asked = { id, data: load(earlyGet, id) };
}

/**
 * The data of sweep `id`, `{ sweep, best, runs: { total, runs } }`: the answers asked for when the
 * page opened, if they were for this sweep and arrived (the first call only: a later visit reads
 * afresh), otherwise a new read with `get`.
 */
export async function sweepData(get, id) {
  const early = asked?.id === id ? asked.data : null;
  asked = null;
  if (early) {
    try {
      return await early;
    } catch {
      // Read again, the usual way.
    }
  }
  return load(get, id);
}
