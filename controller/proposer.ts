/**
 * Asks a sweep's strategy for configurations. Random and grid are cheap and run inline; the
 * Bayesian strategy (a GP fit can take a second at large n) runs in a worker thread so heartbeats
 * and the API stay responsive (DESIGN decision 9).
 */
import { createStrategy } from '../strategies/index.js';
import type { Observation, ProposeInput, Proposal, Strategy, SweepSpec } from '../strategies/types.js';
import type { RunningCurve, StopDecision } from '../strategies/early-terminate/index.js';
import { StrategyWorker } from './strategy-worker.js';

export interface Proposer {
  propose(sweepId: string, spec: SweepSpec, seed: number, input: ProposeInput): Promise<Proposal[]>;
  /** `harrow.early_terminate: {type: model}`: which running runs to stop (a GP prediction each, off the event loop). */
  judgeModelStops(sweepId: string, spec: SweepSpec, observations: Observation[], running: RunningCurve[]): Promise<StopDecision[]>;
  forget(sweepId: string): void;
  close(): Promise<void>;
}

export class DefaultProposer implements Proposer {
  private readonly inline = new Map<string, Strategy>();
  private worker: StrategyWorker | undefined;

  async propose(sweepId: string, spec: SweepSpec, seed: number, input: ProposeInput): Promise<Proposal[]> {
    if (spec.method === 'bayes') {
      this.worker ??= new StrategyWorker();
      return this.worker.propose(sweepId, spec, seed, input);
    }
    let strategy = this.inline.get(sweepId);
    if (!strategy) {
      strategy = createStrategy(spec, { seed });
      this.inline.set(sweepId, strategy);
    }
    return strategy.propose(input);
  }

  judgeModelStops(sweepId: string, spec: SweepSpec, observations: Observation[], running: RunningCurve[]): Promise<StopDecision[]> {
    this.worker ??= new StrategyWorker();
    return this.worker.modelStop(sweepId, spec, observations, running);
  }

  /** Grid size (or null) without proposing anything. */
  size(spec: SweepSpec, seed: number): number | null {
    return createStrategy(spec, { seed }).size;
  }

  forget(sweepId: string): void {
    this.inline.delete(sweepId);
    this.worker?.forget(sweepId);
  }

  async close(): Promise<void> {
    this.inline.clear();
    await this.worker?.close();
  }
}
