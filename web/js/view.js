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

/** Coalesces bursts (a run event per second per agent) into one call per `ms`. */
export function throttle(fn, ms) {
  let timer = null;
  const wrapped = () => {
    if (timer !== null) return;
    timer = setTimeout(() => {
      timer = null;
      fn();
    }, ms);
  };
  onLeave(() => clearTimeout(timer));
  return wrapped;
}

/** setInterval that ends with the view. */
export function every(ms, fn) {
  const timer = setInterval(fn, ms);
  onLeave(() => clearInterval(timer));
}
