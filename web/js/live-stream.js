// An event stream that comes back by itself and says so in the header: "reconnecting…" from the
// moment it drops, "reconnected" for a few seconds once it is back (then `onReconnect` runs, to
// catch up on what happened meanwhile), then "live".

import { onLeave } from './view.js';

/** How long the header says "reconnected" before it says "live" again. */
const RECONNECTED_SHOWN_MS = 5000;
/** Our own retries, when the browser gave up on an event stream: doubling up to the max. */
const RECONNECT_MIN_MS = 1000;
const RECONNECT_MAX_MS = 15000;

/** `url` is a string or an async function giving one for each new connection (a fresh ticket). */
/**
 * `onFirstOpen` (optional) runs once the stream first opens: what changed between the page's
 * first load and this moment came with no event.
 */
export function liveStream(url, listeners, onReconnect, setLive, onFirstOpen) {
  let opened = false;
  let source = null;
  let dropped = false;
  let retryMs = RECONNECT_MIN_MS;
  let retryTimer = null;
  let calmTimer = null;
  let closed = false;
  const connect = async () => {
    retryTimer = null;
    let href;
    try {
      href = typeof url === 'function' ? await url() : url;
    } catch {
      if (closed) return;
      setLive('off', 'connection lost · reconnecting…');
      retryTimer = setTimeout(connect, retryMs);
      retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
      return;
    }
    if (closed) return;
    source = new EventSource(href);
    for (const [name, fn] of Object.entries(listeners)) source.addEventListener(name, fn);
    source.addEventListener('open', () => {
      retryMs = RECONNECT_MIN_MS;
      if (!opened) {
        opened = true;
        onFirstOpen?.();
      }
      if (!dropped) {
        setLive('on', 'live');
        return;
      }
      dropped = false;
      setLive('on', 'reconnected');
      clearTimeout(calmTimer);
      calmTimer = setTimeout(() => setLive('on', 'live'), RECONNECTED_SHOWN_MS);
      onReconnect();
    });
    source.addEventListener('error', () => {
      if (closed) return;
      dropped = true;
      clearTimeout(calmTimer);
      setLive('off', 'connection lost · reconnecting…');
      // After a dropped connection the browser retries by itself (readyState CONNECTING, after
      // the server's `retry:` delay); after an HTTP error or an aborted request it gives up for
      // good (CLOSED), as when a proxy answers 502 while the server restarts: retry ourselves.
      if (source.readyState === EventSource.CLOSED) {
        source.close();
        retryTimer = setTimeout(connect, retryMs);
        retryMs = Math.min(retryMs * 2, RECONNECT_MAX_MS);
      }
    });
  };
  setLive('', 'connecting');
  void connect();
  onLeave(() => {
    closed = true;
    clearTimeout(retryTimer);
    clearTimeout(calmTimer);
    source?.close();
  });
}

/** For views that poll: "reconnecting…" while refreshes fail, "reconnected" once one works again. */
export function pollStatus(setLive) {
  let lost = false;
  let calmTimer = null;
  onLeave(() => clearTimeout(calmTimer));
  return {
    failed() {
      lost = true;
      clearTimeout(calmTimer);
      setLive('off', 'connection lost · reconnecting…');
    },
    ok() {
      if (!lost) return;
      lost = false;
      setLive('on', 'reconnected');
      calmTimer = setTimeout(() => setLive(null), RECONNECTED_SHOWN_MS);
    },
  };
}
