/**
 * Reads sweep files for the API without holding the event loop. The YAML parser costs a few
 * microseconds per character, so a file near the size limit (256 KB) takes up to a second of pure
 * CPU: inline, that would stall heartbeats, report ingestion and /healthz for everyone. Files as
 * small as real ones (a few KB) are read inline, where a thread hop would cost more than it
 * saves; bigger ones go to one worker thread, one at a time, with a deadline.
 *
 * Both paths run the same `validateSweepConfig` as `harrow validate`, so the API and the CLI
 * agree on every file.
 */
import { Worker } from 'node:worker_threads';
import { SweepConfigError, parseSweepConfig, type ValidationResult } from '../strategies/index.js';
import type { SweepSpec } from '../strategies/types.js';
import { HarrowError } from '../protocol/errors.js';
import { SECOND } from '../protocol/time.js';

/** Text up to this many characters is read inline: about 10 ms at the parser's measured speed. */
export const INLINE_MAX_CHARS = 8 * 1024;
/** A read that takes longer is abandoned (the worker is replaced): no real file comes close. */
export const READ_DEADLINE_MS = 10 * SECOND;
/** Reads waiting for the worker beyond this are refused with 503 instead of queueing without end. */
export const MAX_WAITING = 16;
/** An idle worker is ended after this long; the next big file starts a new one. */
const IDLE_MS = 30 * SECOND;

export interface ReaderRequest {
  id: number;
  input: ReaderInput;
}
export type ReaderInput = { text: string } | { json: string };
export interface ReaderResponse {
  id: number;
  result: ValidationResult;
}

interface Job {
  input: ReaderInput;
  resolve: (r: ValidationResult) => void;
  reject: (e: Error) => void;
}

export class SweepConfigReader {
  private worker: Worker | null = null;
  private readonly waiting: Job[] = [];
  private current: { id: number; job: Job; timer: NodeJS.Timeout } | null = null;
  private nextId = 1;
  private idle: NodeJS.Timeout | null = null;

  constructor(private readonly entry = new URL('./sweep-config-reader-entry.js', import.meta.url)) {}

  /** The normalized spec, or throws `SweepConfigError` (mapped to 400 INVALID_SWEEP_CONFIG). */
  async parse(config: string | Record<string, unknown>): Promise<SweepSpec> {
    const json = typeof config === 'string' ? undefined : jsonText(config);
    if ((json ?? (config as string)).length <= INLINE_MAX_CHARS) return parseSweepConfig(config);
    // An object crosses as its JSON text: copying one string is far cheaper for this thread than
    // a structured clone of a large object (it came from JSON, so nothing is lost).
    const result = await this.inWorker(json === undefined ? { text: config as string } : { json });
    if (!result.valid || !result.spec) throw new SweepConfigError(result.errors, result.warnings);
    return result.spec;
  }

  private inWorker(input: ReaderInput): Promise<ValidationResult> {
    if (this.waiting.length >= MAX_WAITING) {
      return Promise.reject(new HarrowError('SERVICE_UNAVAILABLE', `too many large sweep files are being read at once (${MAX_WAITING} waiting); try again`));
    }
    return new Promise((resolve, reject) => {
      this.waiting.push({ input, resolve, reject });
      this.pump();
    });
  }

  private pump(): void {
    if (this.current || this.waiting.length === 0) return;
    const job = this.waiting.shift()!;
    const worker = this.ensureWorker();
    const id = this.nextId++;
    const timer = setTimeout(() => {
      // A file that takes this long is an attack or a parser bug: refuse it, and drop the busy thread.
      this.finish(id, () =>
        job.reject(new SweepConfigError([{ path: '', message: `the sweep file took more than ${READ_DEADLINE_MS / SECOND} s to read; simplify it` }])),
      );
      void this.discardWorker();
    }, READ_DEADLINE_MS);
    this.current = { id, job, timer };
    worker.postMessage({ id, input: job.input } satisfies ReaderRequest);
  }

  private finish(id: number, settle: () => void): void {
    if (!this.current || this.current.id !== id) return;
    clearTimeout(this.current.timer);
    this.current = null;
    settle();
    this.pump();
    if (!this.current) this.armIdle();
  }

  private ensureWorker(): Worker {
    if (this.idle) clearTimeout(this.idle);
    this.idle = null;
    if (this.worker) return this.worker;
    const worker = new Worker(this.entry);
    worker.on('message', (msg: ReaderResponse) => {
      const current = this.current;
      if (current && current.id === msg.id) this.finish(msg.id, () => current.job.resolve(msg.result));
    });
    const lost = (err: Error) => {
      if (this.worker !== worker) return;
      this.worker = null;
      const current = this.current;
      if (current) this.finish(current.id, () => current.job.reject(new HarrowError('INTERNAL', `the sweep file reader stopped: ${err.message}`, { cause: err })));
    };
    worker.on('error', lost);
    worker.on('exit', (code) => lost(new Error(`worker exited with code ${code}`)));
    // Never keeps the process alive: a server that is closing does not wait for a parse. After the
    // listeners: adding a 'message' listener refs the worker's port again, and a server that had
    // read one big file then held on after its close until the 10 s backstop (exit 1).
    worker.unref();
    this.worker = worker;
    return worker;
  }

  private armIdle(): void {
    if (this.idle || !this.worker) return;
    this.idle = setTimeout(() => {
      this.idle = null;
      if (!this.current && this.waiting.length === 0) void this.discardWorker();
    }, IDLE_MS);
    this.idle.unref();
  }

  private async discardWorker(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    await worker?.terminate();
  }

  async close(): Promise<void> {
    if (this.idle) clearTimeout(this.idle);
    for (const job of this.waiting.splice(0)) job.reject(new HarrowError('SERVICE_UNAVAILABLE', 'the server is shutting down'));
    if (this.current) {
      const { job } = this.current;
      this.finish(this.current.id, () => job.reject(new HarrowError('SERVICE_UNAVAILABLE', 'the server is shutting down')));
    }
    await this.discardWorker();
  }
}

/** An object as JSON text, the measure the inline bound is in; '' when it has none (a cycle). */
function jsonText(value: object): string {
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    // A cycle or a BigInt: read inline, where the reader refuses it with its reason.
    return '';
  }
}

/** One reader per process: the API's create route shares it whatever the number of controllers. */
export const sweepConfigReader = new SweepConfigReader();
