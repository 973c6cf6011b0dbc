// A sweep's health at a glance, from its run counts: a sweep whose runs all fail must never look
// like a success, whatever its state says.

/** 'failing' when runs ended and none of them has a result; 'degraded' when some failed; else 'ok'. */
export function sweepHealth(sweep) {
  if (sweep.health) return sweep.health; // The server's word when it gives one.
  const c = sweep.counts;
  const bad = c.failed + c.crashed;
  const good = c.finished + c.stopped;
  if (bad > 0 && good === 0) return 'failing';
  if (bad > 0) return 'degraded';
  return 'ok';
}

/** The badge class of a sweep: its state's colour, unless its runs say otherwise. */
export function sweepBadgeState(sweep) {
  const health = sweepHealth(sweep);
  if (health === 'failing') return 'failed';
  return sweep.state;
}
