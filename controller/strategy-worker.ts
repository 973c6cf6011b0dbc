/**
 * Runs strategies off the event loop. A GP fit at a few hundred observations takes a second of
 * pure CPU; run inline it would stall agent heartbeats and the API (DESIGN decision 9). One
 * worker thread holds one strategy instance per sweep, so the GP's warm start survives between
 * proposals; requests for the same sweep are serialized, and a crashed worker rejects what it
 * had in flight with a clear error and is replaced on the next call.
 */
import { Worker } from 'node:worker_threads';
import { HarrowError } from '../protocol/errors.js';
import type { Observation, ProposeInput, Proposal, SweepSpec } from '../strategies/types.js';
import type { Recommendation } from '../strategies/bayes/recommend.js';
import type { ImportanceResult, ImportanceRun } from '../strategies/analysis/parameter-importance.js';
import type { RunningCurve, StopDecision } from '../strategies/early-terminate/index.js';

export interface StrategyWorkerOptions {
  /** The worker script; defaults to the compiled `strategy-worker-entry.js` beside this file. */
  entry?: URL;
  /** V8 heap limits for the worker thread. */
  resourceLimits?: { maxOldGenerationSizeMb?: number; maxYoungGenerationSizeMb?: number };
}

/** The CPU-heavy calls the worker answers, each with the type of its answer. */
export type WorkerCall =
  | { type: 'propose'; spec: SweepSpec; seed: number; input: ProposeInput }
  | { type: 'importance'; spec: SweepSpec; seed: number; runs: ImportanceRun[] }
  | { type: 'recommend'; spec: SweepSpec; observations: Observation[] }
  | { type: 'modelStop'; spec: SweepSpec; observations: Observation[]; running: RunningCurve[] };
interface WorkerAnswers {
  propose: Proposal[];
  importance: ImportanceResult;
  recommend: Recommendation;
  modelStop: StopDecision[];
}

/** Main thread → worker. */
export type WorkerRequest = (WorkerCall & { id: number; sweepId: string }) | { type: 'forget'; sweepId: string };

/** A thrown error as it crosses the thread boundary (`issues` kept for sweep-config errors). */
export interface SerializedError {
  name: string;
  message: string;
  issues?: Array<{ path: string; message: string }>;
}

/** Worker → main thread. */
export type WorkerResponse = { type: 'result'; id: number; value: unknown } | { type: 'error'; id: number; error: SerializedError };

interface InFlight {
  resolve: (value: unknown) => void;
  reject: (e: Error) => void;
  sweepId: string;
}

/** An error from inside the worker, rebuilt with its name (and issues) so `toHarrowError` maps it. */
class WorkerSideError extends Error {
  readonly issues?: Array<{ path: string; message: string }>;
  constructor(e: SerializedError) {
    super(e.message);
    this.name = e.name;
    if (e.issues) this.issues = e.issues;
  }
}

export class StrategyWorker {
  private readonly entry: URL;
  private readonly resourceLimits: StrategyWorkerOptions['resourceLimits'];
  private worker: Worker | null = null;
  private nextId = 1;
  private readonly inFlight = new Map<number, InFlight>();
  private readonly queues = new Map<string, Promise<unknown>>();
  private closed = false;

  constructor(opts: StrategyWorkerOptions = {}) {
    this.entry = opts.entry ?? new URL('./strategy-worker-entry.js', import.meta.url);
    this.resourceLimits = opts.resourceLimits;
  }

  /** Proposals for one sweep, computed in the worker; calls for the same sweep run in order. */
  propose(sweepId: string, spec: SweepSpec, seed: number, input: ProposeInput): Promise<Proposal[]> {
    return this.call(sweepId, { type: 'propose', spec, seed, input });
  }

  /** Parameter importance of a sweep's runs (a random forest: too heavy for the event loop at 10k runs). */
  importance(sweepId: string, spec: SweepSpec, seed: number, runs: ImportanceRun[]): Promise<ImportanceResult> {
    return this.call(sweepId, { type: 'importance', spec, seed, runs });
  }

  /** The configuration to use (best posterior mean) beside the best observed: a GP fit of up to a second. */
  recommend(sweepId: string, spec: SweepSpec, observations: Observation[]): Promise<Recommendation> {
    return this.call(sweepId, { type: 'recommend', spec, observations });
  }

  /**
   * `harrow.early_terminate: {type: model}`: which of `running` to stop, judged by the sweep's
   * `ModelStopRule` (kept in the worker, so its curve model is refit only when runs have ended).
   */
  modelStop(sweepId: string, spec: SweepSpec, observations: Observation[], running: RunningCurve[]): Promise<StopDecision[]> {
    return this.call(sweepId, { type: 'modelStop', spec, observations, running });
  }

  private call<C extends WorkerCall>(sweepId: string, call: C): Promise<WorkerAnswers[C['type']]> {
    if (this.closed) return Promise.reject(new HarrowError('SERVICE_UNAVAILABLE', 'the strategy worker is closed'));
    const previous = this.queues.get(sweepId) ?? Promise.resolve();
    const result = previous.then(
      () => this.send(sweepId, call),
      () => this.send(sweepId, call),
    ) as Promise<WorkerAnswers[C['type']]>;
    const tail = result.then(
      () => undefined,
      () => undefined,
    );
    this.queues.set(sweepId, tail);
    void tail.then(() => {
      if (this.queues.get(sweepId) === tail) this.queues.delete(sweepId);
    });
    return result;
  }

  /** Drops the sweep's strategy instance (its warm start) in the worker. */
  forget(sweepId: string): void {
    this.worker?.postMessage({ type: 'forget', sweepId } satisfies WorkerRequest);
  }

  /** Stops the worker; proposals still in flight are rejected. */
  async close(): Promise<void> {
    this.closed = true;
    const w = this.worker;
    this.worker = null;
    this.rejectAll(new HarrowError('SERVICE_UNAVAILABLE', 'the strategy worker was closed before the proposal was made'));
    if (w) await w.terminate();
  }

  private send(sweepId: string, call: WorkerCall): Promise<unknown> {
    if (this.closed) return Promise.reject(new HarrowError('SERVICE_UNAVAILABLE', 'the strategy worker is closed'));
    const worker = this.ensureWorker();
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      this.inFlight.set(id, { resolve, reject, sweepId });
      worker.ref();
      try {
        worker.postMessage({ ...call, id, sweepId } satisfies WorkerRequest);
      } catch (err) {
        this.inFlight.delete(id);
        reject(new HarrowError('INTERNAL', `could not send the ${call.type} request to the strategy worker: ${String(err)}`, { cause: err }));
      }
    });
  }

  private ensureWorker(): Worker {
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry, this.resourceLimits ? { resourceLimits: this.resourceLimits } : {});
    worker.on('message', (msg: WorkerResponse) => this.onMessage(worker, msg));
    worker.on('error', (err: Error) => this.onCrash(worker, `it threw ${err.name}: ${err.message}`));
    worker.on('exit', (code: number) => this.onCrash(worker, `it exited with code ${code}`));
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private onMessage(worker: Worker, msg: WorkerResponse): void {
    const call = this.inFlight.get(msg.id);
    if (!call) return;
    this.inFlight.delete(msg.id);
    // An idle worker must not keep the process alive (CLI commands, tests).
    if (this.inFlight.size === 0 && worker === this.worker) worker.unref();
    if (msg.type === 'result') call.resolve(msg.value);
    else call.reject(new WorkerSideError(msg.error));
  }

  private onCrash(worker: Worker, how: string): void {
    if (worker !== this.worker) return;
    this.worker = null;
    this.rejectAll(
      new HarrowError(
        'INTERNAL',
        `the strategy worker thread died (${how}); the proposal was not made and the next one starts a new worker`,
      ),
    );
  }

  private rejectAll(err: Error): void {
    const calls = [...this.inFlight.values()];
    this.inFlight.clear();
    for (const c of calls) c.reject(err);
  }
}
