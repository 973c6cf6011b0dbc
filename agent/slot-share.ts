/**
 * How one agent serving several sweeps (`harrow agent --sweeps A,B` or `--all`) shares its slots
 * (its GPUs with --gpus, its concurrency otherwise). A free slot goes to a sweep that has a queued
 * run, its cap (`max_slots`) not reached and its run's size fitting in what is free:
 * 1. the highest `priority` first;
 * 2. within a priority, the sweep holding the fewest slots (so equal sweeps hold equal shares);
 * 3. ties in turn (the one granted longest ago).
 * A run too big for what is free does not hold back a smaller one that fits: no slot idles while
 * a queued run could use it (a big run then waits for enough slots to free at once).
 *
 * `allocate` is pure; `SlotShare` keeps the members and applies the allowances to their workers.
 */

export interface ShareInput {
  sweepId: string;
  /** Slots one of its runs takes: its `gpus_per_run` with GPUs, 1 without. */
  cost: number;
  /** Runs running (or being claimed) on this agent. */
  running: number;
  /** Runs waiting in its queue. */
  waiting: number;
  priority: number;
  /** Most slots it may hold here; null: no cap. */
  maxSlots: number | null;
  /** When it was last granted a slot (larger: later); for turns between equals. */
  lastGrant: number;
}

/** How many runs each sweep may hold now: its running ones plus the free slots granted to it. */
export function allocate(slots: number, members: readonly ShareInput[]): Map<string, number> {
  const allowed = new Map(members.map((m) => [m.sweepId, m.running]));
  const lastGrant = new Map(members.map((m) => [m.sweepId, m.lastGrant]));
  let free = slots - members.reduce((n, m) => n + m.running * m.cost, 0);
  let turn = Math.max(0, ...members.map((m) => m.lastGrant));
  for (;;) {
    const candidates = members.filter((m) => {
      const runs = allowed.get(m.sweepId)!;
      return m.cost <= free && runs - m.running < m.waiting && (m.maxSlots === null || (runs + 1) * m.cost <= m.maxSlots);
    });
    if (candidates.length === 0) return allowed;
    candidates.sort(
      (a, b) =>
        b.priority - a.priority ||
        allowed.get(a.sweepId)! * a.cost - allowed.get(b.sweepId)! * b.cost ||
        lastGrant.get(a.sweepId)! - lastGrant.get(b.sweepId)! ||
        a.sweepId.localeCompare(b.sweepId),
    );
    const pick = candidates[0]!;
    allowed.set(pick.sweepId, allowed.get(pick.sweepId)! + 1);
    lastGrant.set(pick.sweepId, ++turn);
    free -= pick.cost;
  }
}

export interface ShareMember {
  readonly sweepId: string;
  /** Applies the runs it may hold now (its job-queue worker's concurrency; 0 pauses it). */
  apply(allowed: number): void;
}

interface MemberState {
  member: ShareMember;
  cost: number;
  running: number;
  waiting: number;
  priority: number;
  maxSlots: number | null;
  lastGrant: number;
  allowed: number;
}

export class SlotShare {
  private readonly members = new Map<string, MemberState>();
  private grants = 0;

  constructor(readonly slots: number) {}

  add(member: ShareMember): void {
    this.members.set(member.sweepId, { member, cost: 1, running: 0, waiting: 0, priority: 0, maxSlots: null, lastGrant: 0, allowed: 0 });
  }

  remove(sweepId: string): void {
    this.members.delete(sweepId);
    this.rebalance();
  }

  has(sweepId: string): boolean {
    return this.members.has(sweepId);
  }

  /** What the queues and the controller say: runs waiting, the sweep's priority and cap. */
  update(sweepId: string, u: { waiting?: number; priority?: number; maxSlots?: number | null; cost?: number }): void {
    const m = this.members.get(sweepId);
    if (!m) return;
    if (u.waiting !== undefined) m.waiting = u.waiting;
    if (u.priority !== undefined) m.priority = u.priority;
    if (u.maxSlots !== undefined) m.maxSlots = u.maxSlots;
    if (u.cost !== undefined) m.cost = u.cost;
  }

  /** Whether the sweep may start one more run now (called with a fetched job in hand). */
  mayStart(sweepId: string): boolean {
    const m = this.members.get(sweepId);
    return m !== undefined && m.running < m.allowed;
  }

  started(sweepId: string): void {
    const m = this.members.get(sweepId);
    if (!m) return;
    m.running++;
    // The job it fetched left the queue.
    m.waiting = Math.max(0, m.waiting - 1);
  }

  ended(sweepId: string): void {
    const m = this.members.get(sweepId);
    if (m) m.running = Math.max(0, m.running - 1);
    this.rebalance();
  }

  /** Slots each sweep holds now (for logs and tests). */
  held(): Map<string, number> {
    return new Map([...this.members.values()].map((m) => [m.member.sweepId, m.running * m.cost]));
  }

  rebalance(): void {
    const states = [...this.members.values()];
    const allowed = allocate(
      this.slots,
      states.map((m) => ({ sweepId: m.member.sweepId, cost: m.cost, running: m.running, waiting: m.waiting, priority: m.priority, maxSlots: m.maxSlots, lastGrant: m.lastGrant })),
    );
    // Turns advance only for sweeps granted a new slot.
    for (const m of states) {
      const a = allowed.get(m.member.sweepId) ?? m.running;
      if (a > m.running && a > m.allowed) m.lastGrant = ++this.grants;
      m.allowed = a;
      m.member.apply(a);
    }
  }
}
