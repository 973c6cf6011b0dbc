// A sweep's health at a glance. The server decides it (protocol/run-states.ts: a sweep whose runs
// all fail is 'failing', whatever its state says); the page only turns it into colours.

export function sweepHealth(sweep) {
  return sweep.health ?? 'ok';
}

/** The badge colour of a sweep: its state's, unless its runs all fail. */
export function sweepBadgeState(sweep) {
  return sweepHealth(sweep) === 'failing' ? 'failed' : sweep.state;
}
