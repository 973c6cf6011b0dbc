// The life of the view on screen: what must be undone when the route changes (streams, timers,
// charts), and a flag that tells late responses not to draw over the next view.

let teardown = [];

/** Registers an undo step for the current view. */
export function onLeave(fn) {
  teardown.push(fn);
}

/** Leaves the current view: runs every undo step once. */
export function leaveView() {
  const steps = teardown;
  teardown = [];
  for (const fn of steps) fn();
}

/** A flag set when the current view is torn down: responses that arrive later must not draw. */
export function viewFlag() {
  const view = { left: false };
  onLeave(() => (view.left = true));
  return view;
}

/**
 * Resolves once `el` is in the viewport, or once `after` (the first screen drawn) has resolved,
 * whichever comes first: a view below the first screen is drawn after the first screen's, and
 * still before anyone scrolls to it. (Also when the view is left, so nothing waits forever.)
 */
export function whenNear(el, after) {
  return new Promise((resolve) => {
    let io = null;
    const go = () => {
      io?.disconnect();
      resolve();
    };
    if (typeof globalThis.IntersectionObserver === 'function') {
      io = new globalThis.IntersectionObserver((entries) => entries.some((e) => e.isIntersecting) && go());
      io.observe(el);
    }
    void after.then(go, go);
    onLeave(go);
  });
}

/**
 * Coalesces bursts (a run event per second per agent) into at most one call per `ms`: a call after
 * a quiet spell runs at once; calls during the window run once, at its end.
 */
export function throttle(fn, ms) {
  let timer = null;
  let last = -Infinity;
  const run = () => {
    timer = null;
    last = Date.now();
    fn();
  };
  const wrapped = () => {
    if (timer !== null) return;
    const wait = last + ms - Date.now();
    if (wait <= 0) run();
    else timer = setTimeout(run, wait);
  };
  onLeave(() => clearTimeout(timer));
  return wrapped;
}

/** setInterval that ends with the view. */
export function every(ms, fn) {
  const timer = setInterval(fn, ms);
  onLeave(() => clearInterval(timer));
}
