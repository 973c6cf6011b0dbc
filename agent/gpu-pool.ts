/**
 * The GPUs of one agent and which runs hold them. A run takes `n` GPUs at once and gives them back
 * when it ends; no GPU is ever held by two runs. The pool never waits: `take` answers at once, so
 * the agent decides what to do with a run that does not fit (hand it back, or fetch a smaller one).
 */
export class GpuPool {
  private readonly free: string[];
  private readonly held = new Set<string>();

  constructor(readonly ids: readonly string[]) {
    this.free = [...ids];
  }

  /** All the GPUs of the agent. */
  get size(): number {
    return this.ids.length;
  }

  get freeCount(): number {
    return this.free.length;
  }

  /**
   * `n` free GPUs for one run, or null when fewer are free. Lowest listed first, so a run of 2 on
   * `--gpus 0,1,2,3` gets `0,1` (GPUs listed next to each other are usually NVLink neighbours).
   */
  take(n: number): string[] | null {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`a run takes a whole number of GPUs ≥ 1 (got ${n})`);
    if (n > this.free.length) return null;
    this.free.sort((a, b) => this.ids.indexOf(a) - this.ids.indexOf(b));
    const taken = this.free.splice(0, n);
    for (const id of taken) this.held.add(id);
    return taken;
  }

  release(ids: readonly string[]): void {
    for (const id of ids) {
      if (!this.held.delete(id)) throw new Error(`GPU ${id} released but not held (a bookkeeping bug)`);
      this.free.push(id);
    }
  }
}

/**
 * Why an agent leaves a sweep whose runs need more GPUs than it has (the same words over Redis and
 * HTTP): what the runs need, what the agent has, and what to do.
 */
export function tooFewGpus(sweepId: string, gpusPerRun: number, pool: GpuPool): string {
  return (
    `sweep ${sweepId} needs ${gpusPerRun} GPUs per run (harrow.gpus_per_run: ${gpusPerRun}) and this agent has ${pool.size} ` +
    `(--gpus ${pool.ids.join(',')}); start an agent with at least ${gpusPerRun} GPUs for it`
  );
}
