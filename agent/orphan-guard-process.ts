/**
 * The orphan guard's program (see orphan-guard.ts). It reads `add <pgid> <graceMs>` and
 * `del <pgid>` lines from the agent on stdin. When stdin ends — the agent exited, however it
 * died, SIGKILL included — every group still listed gets SIGTERM, then SIGKILL after its grace.
 */
import { groupAlive, signalGroup } from './process-group.js';

const POLL_MS = 100;
const groups = new Map<number, number>();

// Ctrl-C reaches the whole foreground group, this process included: the agent decides what a
// Ctrl-C means for its runs, and this guard only acts once the agent is gone.
for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) process.on(signal, () => {});

let pending = '';
let reaping = false;
process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  let nl: number;
  while ((nl = pending.indexOf('\n')) !== -1) {
    const [verb, pgid, grace] = pending.slice(0, nl).trim().split(/\s+/);
    pending = pending.slice(nl + 1);
    const id = Number(pgid);
    if (!Number.isSafeInteger(id) || id <= 1) continue;
    if (verb === 'add') groups.set(id, Math.max(0, Number(grace) || 0));
    else if (verb === 'del') groups.delete(id);
  }
});
process.stdin.on('end', () => void reap());
process.stdin.on('error', () => void reap());

async function reap(): Promise<void> {
  if (reaping) return;
  reaping = true;
  const deadlines = new Map<number, number>();
  for (const [pgid, grace] of groups) {
    if (signalGroup(pgid, 'SIGTERM')) deadlines.set(pgid, Date.now() + grace);
  }
  while (deadlines.size > 0) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    for (const [pgid, deadline] of deadlines) {
      if (!groupAlive(pgid)) deadlines.delete(pgid);
      else if (Date.now() >= deadline) {
        signalGroup(pgid, 'SIGKILL');
        deadlines.delete(pgid);
      }
    }
  }
  process.exit(0);
}
