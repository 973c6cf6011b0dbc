/**
 * The controller's Prometheus metrics, through prom-client: process and Node.js runtime metrics
 * (CPU, memory, file descriptors, GC, event-loop lag and its percentiles), HTTP request latency
 * per route, and Harrow's own gauges and counters read on each scrape. Each controller has its own
 * registry, so several in one process (tests, `harrow demo`) do not mix their series.
 */
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import { listSweeps, runCountsMany } from '../db/sweeps.js';
import type { ControllerContext } from './context.js';
import type { Ingestor } from './ingestor.js';

/** Seconds: from a cached read (~1 ms) to the 2 s no request may exceed. */
const LATENCY_BUCKETS = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2, 5];

export class ControllerMetrics {
  readonly registry = new Registry();
  private readonly requestDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly databaseUp: Gauge;
  private readonly runs: Gauge<'sweep' | 'state'>;
  private readonly activeSweeps: Gauge;
  private readonly ingested: { ingestor: Ingestor; points: Counter; batches: Counter } | undefined;

  constructor(
    private readonly ctx: ControllerContext,
    ingestor?: Ingestor,
  ) {
    const registers = [this.registry];
    // Event-loop lag is sampled every 10 ms (prom-client's default precision).
    collectDefaultMetrics({ register: this.registry });
    this.requestDuration = new Histogram({
      name: 'harrow_http_request_duration_seconds',
      help: 'HTTP request latency by route and status.',
      labelNames: ['method', 'route', 'status_code'],
      buckets: LATENCY_BUCKETS,
      registers,
    });

    this.databaseUp = new Gauge({ name: 'harrow_metrics_database_up', help: 'Whether the last scrape could read the database (1) or not (0).', registers });
    this.runs = new Gauge({ name: 'harrow_runs', help: 'Runs of active sweeps by state.', labelNames: ['sweep', 'state'], registers });
    this.activeSweeps = new Gauge({ name: 'harrow_active_sweeps', help: 'Sweeps running or paused.', registers });
    if (ingestor) {
      this.ingested = { ingestor, points: new Counter({ name: 'harrow_ingested_points_total', help: 'Metric points stored.', registers }), batches: new Counter({ name: 'harrow_report_batches_total', help: 'Report batches committed.', registers }) };
    }
  }

  /**
   * Reads Harrow's own figures into their series before a scrape. A database that is down leaves
   * the run gauges empty and says so in harrow_metrics_database_up, instead of failing the scrape:
   * the process metrics matter most exactly then.
   */
  private async refresh(): Promise<void> {
    this.runs.reset();
    try {
      const sweeps = await listSweeps(this.ctx.db, { states: ['running', 'paused'] });
      const counts = await runCountsMany(this.ctx.db, sweeps.map((s) => s.id));
      for (const s of sweeps) {
        for (const [state, n] of Object.entries(counts.get(s.id) ?? {})) if (state !== 'total') this.runs.set({ sweep: s.id, state }, n);
      }
      this.activeSweeps.set(sweeps.length);
      this.databaseUp.set(1);
    } catch (err) {
      this.activeSweeps.reset();
      this.databaseUp.set(0);
      this.ctx.log.warn({ err: (err as Error).message }, 'metrics: cannot read the database');
    }
    if (this.ingested) {
      // The ingestor counts in plain numbers; a counter takes the difference since the last scrape.
      const { ingestor, points, batches } = this.ingested;
      points.inc(ingestor.points - ((await points.get()).values[0]?.value ?? 0));
      batches.inc(ingestor.batches - ((await batches.get()).values[0]?.value ?? 0));
    }
  }

  /** Records one answered request; `route` is the route pattern, never the raw URL (ids would explode the label set). */
  observeRequest(method: string, route: string | undefined, statusCode: number, ms: number): void {
    this.requestDuration.observe({ method, route: route ?? 'unmatched', status_code: String(statusCode) }, ms / 1000);
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  async render(): Promise<string> {
    await this.refresh();
    return this.registry.metrics();
  }
}
