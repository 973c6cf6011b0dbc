/**
 * `harrow watch SWEEP`: a live view of a sweep through its server-sent events — runs by state,
 * the best so far, recent run transitions. On a terminal it redraws in place; piped, it appends
 * one line per change, so a log file reads as a history. It exits 0 when the sweep has ended
 * (finished or canceled) and no run is active, 130 on Ctrl-C (the sweep goes on).
 */
import type { BestResponse, BestRun, RunSummary, SweepSummary } from '../../protocol/api.js';
import type { HarrowClient, SweepStreamEvent } from '../client.js';
import {
  bestSoFarSeries,
  clockTime,
  fitLine,
  formatBest,
  formatCounts,
  formatMetric,
  formatNumber,
  formatParams,
  formatProgress,
  paint,
  runNote,
  sparkline,
  stateColor,
  sweepStateCell,
} from '../format.js';
import { defineApiVerb, parseCliArgs, positionalArgs, SWEEP_HINT, type VerbContext } from './api-verb.js';

const USAGE = `Usage: harrow watch SWEEP [--json]

Follows a sweep live: runs by state, the best so far and recent run transitions. Redraws in
place on a terminal; when piped, prints one line per change. Exits when the sweep is finished
or canceled and no run is active, or on Ctrl-C (the sweep carries on). A dropped connection is
retried with backoff.

Options:
  --json   one JSON object per line instead: each event as { at, type, data } (type sweep, run,
           best, connected or disconnected), then { at, type: "end", data: the sweep }

Environment: HARROW_URL (default http://127.0.0.1:8080), HARROW_TOKEN.`;

/** Run events may come in bursts; counts and the curve are re-read at most this often. */
const REFRESH_DEBOUNCE_MS = 300;
/** Terminal redraws at most this often. */
const RENDER_INTERVAL_MS = 100;
const RECENT_KEPT = 200;

export const watchCommand = defineApiVerb({
  name: 'watch',
  usage: USAGE,
  interruptible: true,
  async run(argv, ctx) {
    const { values, positionals } = parseCliArgs(argv, { json: { type: 'boolean' } });
    const [id] = positionalArgs(positionals, ['SWEEP'], SWEEP_HINT);
    const client = ctx.client();
    const stop = new AbortController();
    const signal = ctx.signal ? AbortSignal.any([ctx.signal, stop.signal]) : stop.signal;
    const emit = values.json ? (event: object) => ctx.out.write(`${JSON.stringify({ at: new Date(ctx.now()).toISOString(), ...event })}\n`) : undefined;
    const session = new WatchSession(ctx, client, id, signal, () => stop.abort(), emit);
    try {
      for await (const event of client.events(id, { signal })) {
        session.handle(event);
        if (session.ended) break;
      }
    } finally {
      stop.abort();
      await session.close();
    }
    if (session.ended) return 0;
    // Ctrl-C: the sweep goes on without us.
    if (emit) return 130;
    if (ctx.out.isTTY) ctx.out.line('Stopped watching; the sweep carries on.');
    else session.log('stopped watching; the sweep carries on');
    return 130;
  },
});

interface Transition {
  at: number;
  run: RunSummary;
}

class WatchSession {
  ended = false;
  private sweep: SweepSummary | undefined;
  private best: BestRun | null = null;
  private curve: BestResponse | undefined;
  private readonly recent: Transition[] = [];
  /** The last state shown per run, so a repeated event (a reconnect, a metric-only update) is not. */
  private readonly shown = new Map<string, string>();
  private status = 'connecting…';
  private frameLines = 0;
  private renderTimer: NodeJS.Timeout | undefined;
  private refreshTimer: NodeJS.Timeout | undefined;
  private refreshing: Promise<void> | undefined;
  private refreshAgain = false;

  constructor(
    private readonly ctx: VerbContext,
    private readonly client: HarrowClient,
    private readonly id: string,
    private readonly signal: AbortSignal,
    private readonly onEnd: () => void,
    /** With --json: every event goes out as one JSON line, and nothing else is printed. */
    private readonly emit?: (event: object) => void,
  ) {}

  private get isTTY(): boolean {
    return this.ctx.out.isTTY && this.emit === undefined;
  }

  handle(event: SweepStreamEvent): void {
    this.emit?.(event);
    switch (event.type) {
      case 'connected':
        this.status = 'live';
        if (event.reconnect) this.log('reconnected');
        this.scheduleRefresh();
        break;
      case 'disconnected':
        this.status = `connection lost (${event.error}); retrying in ${formatNumber(event.retryInMs / 1000, 2)} s`;
        this.log(this.status);
        break;
      case 'sweep':
        this.updateSweep(event.data);
        break;
      case 'run':
        this.updateRun(event.data);
        this.scheduleRefresh();
        break;
      case 'best':
        this.updateBest(event.data);
        this.scheduleRefresh();
        break;
    }
    this.checkEnded();
    this.scheduleRender();
  }

  /** Appends a timestamped line (off a terminal only: on one, the frame shows everything). */
  log(line: string): void {
    if (!this.isTTY && !this.emit) this.ctx.out.line(`${clockTime(this.ctx.now())}  ${line}`);
  }

  async close(): Promise<void> {
    clearTimeout(this.refreshTimer);
    clearTimeout(this.renderTimer);
    await this.refreshing;
    if (this.isTTY) this.render();
    if (this.ended && this.emit && this.sweep) this.emit({ type: 'end', data: this.sweep });
    else if (this.ended) this.printSummary();
  }

  private updateSweep(s: SweepSummary): void {
    const previous = this.sweep;
    this.sweep = s;
    if (!previous) {
      this.log(`sweep ${s.id}${s.name ? ` '${s.name}'` : ''} is ${this.paintState(s.state)} (${s.method}, ${formatMetric(s.metric)}): ${formatProgress(s)}; ${formatCounts(s.counts, this.ctx.out.style)}`);
    } else if (previous.state !== s.state) {
      this.log(`sweep is now ${this.paintState(s.state)}${s.stateReason ? ` (${s.stateReason})` : ''}`);
    }
    if (s.best) this.updateBest(s.best, !previous);
  }

  private updateRun(run: RunSummary): void {
    const key = `${run.state}/${run.attempt}/${run.stopInfo ? 'stopping' : ''}`;
    if (this.shown.get(run.id) === key) return;
    this.shown.set(run.id, key);
    this.recent.push({ at: this.ctx.now(), run });
    if (this.recent.length > RECENT_KEPT) this.recent.shift();
    this.log(this.transitionText(run));
  }

  private updateBest(best: BestRun, quiet = false): void {
    if (this.best && this.best.runId === best.runId && this.best.value === best.value) return;
    this.best = best;
    if (!quiet) this.log(`new best: ${formatBest(best, this.sweep?.metric ?? null)} ${formatParams(best.params, 100)}`);
  }

  private transitionText(run: RunSummary): string {
    const metric = this.sweep?.metric?.name ?? 'value';
    const value = run.value !== null && run.state !== 'queued' ? ` ${metric}=${formatNumber(run.value)}` : '';
    const note = runNote(run);
    const attempt = run.attempt > 1 && run.state !== 'queued' ? ` (attempt ${run.attempt})` : '';
    return `run #${run.number} ${this.paintState(run.state)}${attempt}${value}${note ? `  ${note}` : ''}`;
  }

  private checkEnded(): void {
    const s = this.sweep;
    if (this.ended || !s) return;
    if ((s.state === 'finished' || s.state === 'canceled') && s.counts.running + s.counts.queued === 0) {
      this.ended = true;
      this.onEnd();
    }
  }

  /** Counts and the best-so-far curve come from the API: run events alone cannot give them. */
  private scheduleRefresh(): void {
    if (this.refreshTimer || this.ended) return;
    this.refreshTimer = setTimeout(() => {
      this.refreshTimer = undefined;
      if (this.refreshing) {
        this.refreshAgain = true;
        return;
      }
      this.refreshing = this.refresh().finally(() => {
        this.refreshing = undefined;
        if (this.refreshAgain) {
          this.refreshAgain = false;
          this.scheduleRefresh();
        }
      });
    }, REFRESH_DEBOUNCE_MS);
  }

  private async refresh(): Promise<void> {
    try {
      const [sweep, curve] = await Promise.all([this.client.getSweep(this.id, this.signal), this.client.best(this.id, this.signal)]);
      if (this.signal.aborted) return;
      // Counts change without a sweep event; a script following --json sees them too.
      this.emit?.({ type: 'sweep', data: sweep });
      this.curve = curve;
      this.updateSweep(sweep);
      if (curve.best) this.updateBest(curve.best);
      this.checkEnded();
      this.scheduleRender();
    } catch {
      // A failed refresh shows up as a dropped stream too; the next event refreshes again.
    }
  }

  private paintState(state: SweepSummary['state'] | RunSummary['state']): string {
    return paint(this.ctx.out.style, stateColor(state), state);
  }

  private scheduleRender(): void {
    if (!this.isTTY || this.renderTimer) return;
    this.renderTimer = setTimeout(() => {
      this.renderTimer = undefined;
      this.render();
    }, RENDER_INTERVAL_MS);
  }

  /** Redraws the frame in place: back to its first line, clear below, write it again. */
  private render(): void {
    const { out } = this.ctx;
    const width = Math.max(20, (out.columns ?? 80) - 1);
    const lines = this.frame(Math.max(8, (out.rows ?? 24) - 1)).map((l) => fitLine(l, width));
    const up = this.frameLines > 0 ? `\x1b[${this.frameLines}F\x1b[J` : '';
    out.write(`${up}${lines.join('\n')}\n`);
    this.frameLines = lines.length;
  }

  private frame(maxLines: number): string[] {
    const { style } = this.ctx.out;
    const b = (t: string): string => paint(style, 'bold', t);
    const s = this.sweep;
    if (!s) return [`${b('Sweep')}   ${this.id}`, this.status];
    const lines = [
      `${b('Sweep')}   ${s.id}${s.name ? ` '${s.name}'` : ''}  ${paint(style, sweepStateCell(s).color, sweepStateCell(s).text)}  ${s.method}, ${formatMetric(s.metric)}`,
      `${b('Runs')}    ${formatProgress(s)}`,
      `        ${formatCounts(s.counts, style, { all: true })}`,
      `${b('Best')}    ${formatBest(this.best, s.metric)}`,
    ];
    if (this.best) lines.push(`        ${formatParams(this.best.params)}`);
    if (this.curve && this.curve.curve.length > 0) {
      const series = bestSoFarSeries(this.curve);
      const values = series.filter((v): v is number => v !== null);
      lines.push(`        ${sparkline(series, 50)}  ${formatNumber(values[0])} → ${formatNumber(values.at(-1))} over ${this.curve.counted} finished or stopped runs`);
    }
    const footer = `${paint(style, 'dim', `${this.status} · ${clockTime(this.ctx.now())} · Ctrl-C to stop watching`)}`;
    const room = maxLines - lines.length - 2;
    if (room > 0 && this.recent.length > 0) {
      lines.push(b('Recent'));
      for (const t of this.recent.slice(-room).reverse()) lines.push(`  ${clockTime(t.at)}  ${this.transitionText(t.run)}`);
    }
    lines.push(footer);
    return lines;
  }

  private printSummary(): void {
    const s = this.sweep;
    if (!s) return;
    const { out } = this.ctx;
    const best = this.best ? `; best ${formatBest(this.best, s.metric)} ${formatParams(this.best.params, 100)}` : '';
    const line = `Sweep ${s.id} ${sweepStateCell(s).text}${s.stateReason ? ` (${s.stateReason})` : ''}: ${formatProgress(s)}; ${formatCounts(s.counts, out.style)}${best}`;
    if (out.isTTY) out.line(line);
    else this.log(line);
  }
}
