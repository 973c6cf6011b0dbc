/**
 * The orphan guard's program (see orphan-guard.ts). It reads `add <pgid> <graceMs>`,
 * `del <pgid>`, `dir+ <path>` and `dir- <path>` lines (paths URI-encoded) from the agent on stdin.
 * When stdin ends — the agent exited, however it died, SIGKILL included — every group still listed
 * gets SIGTERM, then SIGKILL after its grace, and once they are gone every directory still listed
 * (a run's params and metrics files) is removed.
 *
 * `alive <ms>` lines are the agent's pulse. An agent frozen (SIGSTOP, a suspended VM) is presumed
 * dead by the controller, which retries its runs elsewhere; its runs, in their own groups, would
 * go on training unsupervised beside the retry. So when the pulse is missing for longer than
 * `<ms>`, the groups are frozen too (SIGSTOP), and continued (SIGCONT) at the next pulse, which the
 * agent sends only after it has read its controls again: an attempt aborted meanwhile gets its
 * SIGTERM before it runs another instruction.
 */
import { rm } from 'node:fs/promises';
import { isAbsolute } from 'node:path';
import { groupAlive, signalGroup } from './process-group.js';

const POLL_MS = 100;
const groups = new Map<number, number>();
const dirs = new Set<string>();
let lastPulse = Date.now();
let pulseLimitMs = 0;
let frozen = false;

setInterval(() => {
  if (frozen || reaping || pulseLimitMs === 0 || groups.size === 0) return;
  if (Date.now() - lastPulse <= pulseLimitMs) return;
  frozen = true;
  for (const pgid of groups.keys()) signalGroup(pgid, 'SIGSTOP');
}, POLL_MS);

function thaw(): void {
  if (!frozen) return;
  frozen = false;
  for (const pgid of groups.keys()) signalGroup(pgid, 'SIGCONT');
}

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
    if (verb === 'alive') {
      lastPulse = Date.now();
      pulseLimitMs = Math.max(0, Number(pgid) || 0);
      thaw();
      continue;
    }
    if (verb === 'dir+' || verb === 'dir-') {
      const path = decodePath(pgid);
      if (path === null) continue;
      if (verb === 'dir+') dirs.add(path);
      else dirs.delete(path);
      continue;
    }
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
  // A frozen group must run to handle its SIGTERM.
  if (frozen) for (const pgid of groups.keys()) signalGroup(pgid, 'SIGCONT');
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
  // Only now: a program still running could write into its directory after it was removed.
  await Promise.all([...dirs].map((dir) => rm(dir, { recursive: true, force: true }).catch(() => undefined)));
  process.exit(0);
}

function decodePath(encoded: string | undefined): string | null {
  if (encoded === undefined) return null;
  try {
    const path = decodeURIComponent(encoded);
    return isAbsolute(path) && path !== '/' ? path : null;
  } catch {
    return null;
  }
}
