import type { MetricPoint } from '../protocol/wire.js';
import type { ParsedMetrics } from './metric-line.js';

/** Points wait at most this long before they are sent... */
export const METRICS_FLUSH_MS = 250;
/** ...or until this many have gathered (a ~40 KB stream entry). */
export const METRICS_MAX_BATCH = 500;
/**
 * Sent points kept per attempt until the controller answers its end report, to send again those
 * it never got (Redis lost them): the most recent 100,000, about 10 MB (a point is ~100 bytes in
 * memory). A longer run keeps its last 100,000; a gap older than that is recorded as data loss.
 */
export const RESEND_KEEP_POINTS = 100_000;

export interface RunMetricsOptions {
  /** Sends one batch; batches are sent one at a time, in order. */
  send: (points: MetricPoint[]) => Promise<void>;
  /** A batch that could not be sent (the points are lost; the run goes on). */
  onError?: (err: unknown) => void;
  flushMs?: number;
  maxBatch?: number;
  /** How many sent points are kept for sending again (RESEND_KEEP_POINTS). */
  keep?: number;
  now?: () => number;
}

/**
 * The metric points of one attempt, from stdout and the metrics file alike: gives each point its
 * step (a line without one gets the step after the last one seen) and its `seq` (1, 2, 3, ... —
 * the controller's idempotency key), and sends them in batches.
 */
export class RunMetrics {
  private lastStep = -1;
  private seq = 0;
  private sentSeq = 0;
  private buffer: MetricPoint[] = [];
  private timer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private discarded = false;
  /** Batches given to `send`, oldest first, while they total at most `keep` points. */
  private kept: MetricPoint[][] = [];
  private keptCount = 0;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly keep: number;
  private readonly now: () => number;

  constructor(private readonly options: RunMetricsOptions) {
    this.flushMs = options.flushMs ?? METRICS_FLUSH_MS;
    this.maxBatch = options.maxBatch ?? METRICS_MAX_BATCH;
    this.keep = options.keep ?? RESEND_KEEP_POINTS;
    this.now = options.now ?? Date.now;
  }

  /** Highest `seq` whose batch was sent. */
  get lastSeq(): number {
    return this.sentSeq;
  }

  /** Number of points taken so far (sent or waiting). */
  get count(): number {
    return this.seq;
  }

  add(parsed: ParsedMetrics): void {
    if (this.discarded) return;
    const step = parsed.step ?? this.lastStep + 1;
    this.lastStep = step;
    const t = this.now();
    for (const { name, value } of parsed.values) {
      this.buffer.push({ seq: ++this.seq, step, name, value: toWire(value), t });
      if (this.buffer.length >= this.maxBatch) void this.flush();
    }
    if (this.buffer.length > 0 && this.timer === null) {
      this.timer = setTimeout(() => void this.flush(), this.flushMs);
    }
  }

  /** Sends what is waiting; resolves when it (and every earlier batch) has been sent. */
  flush(): Promise<void> {
    if (this.timer !== null) {
      clearTimeout(this.timer);
      this.timer = null;
    }
    if (this.buffer.length > 0 && !this.discarded) {
      const batch = this.buffer;
      this.buffer = [];
      this.remember(batch);
      const last = batch[batch.length - 1]!.seq;
      this.chain = this.chain
        .then(() => this.options.send(batch))
        .then(() => {
          this.sentSeq = Math.max(this.sentSeq, last);
        })
        .catch((err: unknown) => this.options.onError?.(err));
    }
    return this.chain;
  }

  /**
   * The kept points whose seq is in one of `ranges` (inclusive), in seq order, and how many of
   * the seqs asked for are no longer kept (or were never numbered).
   */
  pointsIn(ranges: ReadonlyArray<readonly [number, number]>): { points: MetricPoint[]; unavailable: number } {
    const points: MetricPoint[] = [];
    let asked = 0;
    for (const [first, last] of ranges) {
      if (last < first) continue;
      asked += last - first + 1;
      for (const batch of this.kept) {
        if (batch[batch.length - 1]!.seq < first || batch[0]!.seq > last) continue;
        for (const p of batch) if (p.seq >= first && p.seq <= last) points.push(p);
      }
    }
    return { points, unavailable: asked - points.length };
  }

  /** The controller answered the end report: the kept points are no longer needed. */
  forget(): void {
    this.kept = [];
    this.keptCount = 0;
  }

  private remember(batch: MetricPoint[]): void {
    this.kept.push(batch);
    this.keptCount += batch.length;
    while (this.kept.length > 0 && this.keptCount > this.keep) {
      const oldest = this.kept[0]!;
      if (this.keptCount - oldest.length >= this.keep) {
        this.kept.shift();
        this.keptCount -= oldest.length;
      } else {
        // Drop only the part of the oldest batch over the bound.
        const over = this.keptCount - this.keep;
        this.kept[0] = oldest.slice(over);
        this.keptCount -= over;
      }
    }
  }

  /** The attempt was aborted: nothing more is sent. */
  discard(): void {
    this.discarded = true;
    this.forget();
    this.buffer = [];
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}

/** JSON has no NaN or ±Infinity: the wire carries them as strings. */
function toWire(value: number): MetricPoint['value'] {
  if (Number.isFinite(value)) return value;
  if (Number.isNaN(value)) return 'nan';
  return value > 0 ? 'inf' : '-inf';
}
