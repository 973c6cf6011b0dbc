/**
 * Ingests agent reports from the Redis stream into Postgres, in batches, through a consumer group:
 * an entry is acknowledged only after its batch is committed, so a controller killed mid-batch
 * re-reads it on restart, and every write is idempotent (claims by token, metric points by
 * (run, attempt, seq), ends by token), so re-reading stores nothing twice.
 *
 * Per batch: claims, then metrics (with summaries, early-termination decisions and metric.target),
 * then heartbeats, then ends (with the retry policy). A database outage makes the batch wait and
 * retry with backoff, without acking: nothing is lost.
 */
import { hostname } from 'node:os';
import { setImmediate as nextTurn } from 'node:timers/promises';
import type { Redis } from 'ioredis';
import type { CurveRuleSpec, SweepSpec } from '../strategies/types.js';
import { isCurveRule } from '../strategies/early-terminate/index.js';
import { isBetter, reachesTarget } from '../strategies/objective.js';
import {
  AgentReportSchema,
  parseMetricPoint,
  REPORT_FIELD,
  type AgentReport,
  MAX_RESEND_RANGES,
  type ClaimAnswer,
  type ClaimReport,
  type EndAnswer,
  type EndReport,
  type HeartbeatReport,
  type MetricsReport,
} from '../protocol/wire.js';
import { SECOND } from '../protocol/time.js';
import { claimRun, getRun, getRunsForUpdate, setStopInfo, touchHeartbeats, type MetricSummary, type RunRow } from '../db/runs.js';
import { attemptPoints, insertPoints, lockCurveVersions, updateSummaries, type PointRow, type SummaryUpdate } from '../db/metrics.js';
import { EarlyStopper } from './early-stopper.js';
import { ModelStopper, modelStopDue } from './model-stopper.js';
import { checkPointsComplete, missingPoints, missingRanges, recordRefusedPoints, type RefusedPointRow } from '../db/run-warnings.js';
import { getSweep } from '../db/sweeps.js';
import type { Queryable, Transaction } from '../db/database.js';
import type { ControllerContext } from './context.js';
import { afterRunEnd, endAttempt, type RunEnd } from './run-lifecycle.js';
import { finishOrMoveSweep, requestStop } from './sweep-service.js';
import { bestRunOf, runSummary } from './serialize.js';
import { bestRun } from '../db/runs.js';

const BATCH = 1000;
/**
 * The ingestor gives the event loop a turn after this many metric points (or stream entries of
 * up to 500 points) checked in one go: a full batch of big reports is up to 500,000 points, and
 * checking them without a break held /healthz and heartbeats for a second (bench:event-loop).
 */
const POINTS_PER_TURN = 10_000;
const ENTRIES_PER_TURN = 20;
/**
 * Entries another consumer read but never acked for this long belong to a dead replica. While an
 * end report waits for its points, entries idle an eighth of the crash timeout are taken over at
 * every turn: a replica that died holding a run's last points must not hold them past the end's
 * wait (seen in test/e2e/multi-host.test.ts with a replica SIGKILLed: 3 runs ended 5-6 points
 * short each). Taking over entries a slow live replica still holds is harmless: points are stored
 * once by (run, attempt, seq), claims are answered like the first, an attempt ends once.
 */
const ORPHAN_IDLE_MS = 30 * SECOND;
/**
 * How long an end report whose points are not all stored waits for them without progress. With
 * several replicas, one may read a run's last metrics and commit them after another committed the
 * run's end report (read later, committed sooner): ended first, the run would refuse its own points
 * and record them as lost. Seen with two replicas behind PgBouncer (test/e2e/pgbouncer.test.ts),
 * about one run in 16. Points lost for real (Redis flushed) are asked of the agent, which keeps
 * what it sent until its end is answered; each batch that brings some of them starts the wait
 * again. Bounded (a quarter of the crash timeout at most) because an agent that is gone never
 * answers: then the gap is recorded as data loss.
 */
const END_WAIT_MS = 5 * SECOND;
/** A deferred end report asks its agent for the missing points again this often (the ask is published, never stored). */
const RESEND_ASK_MS = 2 * SECOND;

type Entry = { id: string; report: AgentReport | null };

interface BatchEffects {
  changedRuns: RunRow[];
  /** Claims to answer once the batch is committed (the agent starts nothing before). */
  claimAnswers: Array<{ claim: ClaimReport; answer: ClaimAnswer }>;
  /** Answers to end reports (resend these points / ended), published once the batch is committed. */
  endAnswers: Array<{ runId: string; token: string; answer: EndAnswer }>;
  /** `recorded`: the stop info was written by the batch's transaction (first reason for this run). */
  stops: Array<{ sweepId: string; runId: string; info: Record<string, unknown> & { message: string }; recorded: boolean }>;
  /** `harrow.early_terminate: {type: model}`: runs that crossed a checkpoint, judged after commit (off the transaction). */
  modelDue: Array<{ sweepId: string; runId: string }>;
  targetReached: Array<{ sweepId: string; runId: string; value: number }>;
  /** Ended attempts: their retries and pauses are announced after commit. */
  ends: RunEnd[];
  /** End reports held back, their points not all stored yet: not acked, applied again later. */
  deferred: Set<AgentReport>;
  sweepsTouched: Set<string>;
  bestMaybeChanged: Set<string>;
}

export class Ingestor {
  private readonly redis: Redis;
  private readonly consumer: string;
  private stopped = false;
  private loop: Promise<void> | undefined;
  /** Early termination, with its per-sweep cache kept equal to storage. */
  readonly stopper = new EarlyStopper();
  /** Model-based stopping: judged after the commit, in the strategy worker. */
  readonly models: ModelStopper;
  private lastOrphanCheck = 0;
  /** End reports waiting for their points (still pending in the stream), and since when. */
  private deferred: Entry[] = [];
  private entryIds = new Map<AgentReport, string>();
  /** Per attempt (`run/token`) whose end waits for points: since when without progress, how many missing, when last asked. */
  private readonly endWaits = new Map<string, { since: number; missing: number; askedAt: number }>();
  private readonly lastBest = new Map<string, string>();
  /**
   * When ingestion last became healthy (start, or recovery from a database or Redis outage). The
   * reaper waits a crash timeout after it: heartbeats held up by an outage are not evidence of death.
   */
  healthySince = Date.now();
  /** True while ingestion keeps failing (database or Redis away). */
  failing = false;
  /** Batches committed, for tests and /metrics. */
  batches = 0;
  points = 0;

  constructor(private readonly ctx: ControllerContext) {
    // A dedicated connection: XREADGROUP BLOCK must not hold up other commands.
    this.redis = ctx.link.redis.duplicate();
    this.redis.on('error', () => undefined);
    this.consumer = `${hostname()}:${ctx.config.HARROW_PORT}`;
    this.models = new ModelStopper(ctx);
  }

  start(): void {
    this.loop = this.run();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.loop;
    await this.models.close();
    this.redis.disconnect();
  }

  private async ensureGroup(): Promise<void> {
    try {
      await this.redis.xgroup('CREATE', this.ctx.keys.reports, this.ctx.keys.reportsGroup, '0', 'MKSTREAM');
    } catch (err) {
      if (!String((err as Error).message).includes('BUSYGROUP')) throw err;
    }
  }

  private async run(): Promise<void> {
    let backoff = 100;
    let groupReady = false;
    // First our own unacked entries (a restart after a crash), then new ones.
    let cursor = '0';
    // The next batch, read and parsed while the current one is stored (see `prefetch`).
    let next: Promise<Entry[]> | null = null;
    while (!this.stopped) {
      try {
        if (!groupReady) {
          await this.ensureGroup();
          groupReady = true;
        }
        const prefetched: Promise<Entry[]> | null = next;
        next = null;
        const read: Entry[] = prefetched ? await prefetched : cursor === '0' ? await this.read('0', 0) : await this.readNewOrOrphans();
        if (cursor === '0' && read.length === 0) {
          cursor = '>';
          continue;
        }
        // Held-back end reports go after what was read since: the points they wait for.
        const ids = new Set(read.map((e) => e.id));
        const entries = [...read, ...this.deferred.filter((e) => !ids.has(e.id))];
        this.deferred = [];
        if (entries.length > 0) {
          next = cursor === '>' ? this.prefetch(entries) : null;
          // A failed prefetch is read again by the next turn's error handling, not left unhandled.
          next?.catch(() => undefined);
          await this.handle(entries);
        }
        backoff = 100;
        this.recovered();
      } catch (err) {
        const message = (err as Error).message ?? String(err);
        if (message.includes('NOGROUP')) {
          // Redis lost its data (flush or restart without persistence): recreate and go on.
          this.ctx.log.warn('reports stream or group missing (Redis lost its data?); recreating it');
          groupReady = false;
          cursor = '0';
          continue;
        }
        if (this.stopped) break;
        this.failing = true;
        this.ctx.log.warn({ err: message, retryInMs: backoff }, 'ingesting reports failed; retrying');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5 * SECOND);
      }
    }
  }

  /**
   * While a batch is being stored, the entries already waiting behind it are read and parsed:
   * under load the stream holds the next batch by the time this one commits, and the parsing then
   * costs the database no idle time. Only when nothing else is due: the batch holds no end report
   * (one that must wait for its points makes the next turn read with a short block and look for
   * orphans) and no orphan check is due. The read does not block: an empty answer leaves the next
   * turn to the usual blocking read. Entries read here are in this consumer's pending list like any
   * other, so a failure before they are handled loses nothing (they are read again from '0' after
   * a restart, or taken over).
   */
  private prefetch(batch: readonly Entry[]): Promise<Entry[]> | null {
    if (batch.some((e) => e.report?.type === 'end') || Date.now() - this.lastOrphanCheck > ORPHAN_IDLE_MS / 3) return null;
    return this.read('>', 0);
  }

  private async readNewOrOrphans(): Promise<Entry[]> {
    // An end report waiting for its points looks at every turn, for entries idle an eighth of the
    // crash timeout: its points may be with a replica that died.
    const waiting = this.deferred.length > 0;
    const orphanIdleMs = waiting ? Math.min(ORPHAN_IDLE_MS, this.ctx.config.HARROW_CRASH_TIMEOUT_MS / 8) : ORPHAN_IDLE_MS;
    if (waiting || Date.now() - this.lastOrphanCheck > ORPHAN_IDLE_MS / 3) {
      if (!waiting) this.lastOrphanCheck = Date.now();
      const claimed = (await this.redis.xautoclaim(
        this.ctx.keys.reports,
        this.ctx.keys.reportsGroup,
        this.consumer,
        Math.round(orphanIdleMs),
        '0',
        'COUNT',
        BATCH,
      )) as [string, Array<[string, string[]]>, string[]?];
      const entries = await parseEntries(claimed[1] ?? []);
      if (entries.length > 0) {
        this.ctx.log.info({ entries: entries.length }, 'took over reports left unacknowledged by another controller');
        return entries;
      }
    }
    // Not a whole second while an end report waits for its points: the orphans above may bring them.
    return this.read('>', this.deferred.length > 0 ? 100 : SECOND);
  }

  private async read(cursor: string, blockMs: number): Promise<Entry[]> {
    const args: Array<string | number> = ['GROUP', this.ctx.keys.reportsGroup, this.consumer, 'COUNT', BATCH];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    args.push('STREAMS', this.ctx.keys.reports, cursor);
    const res = (await (this.redis.xreadgroup as (...a: Array<string | number>) => Promise<unknown>)(...args)) as
      | Array<[string, Array<[string, string[] | null]>]>
      | null;
    if (!res || res.length === 0) return [];
    return await parseEntries(res[0]![1]);
  }

  /** Commits a batch (retrying while the database is away), then acks and trims it. */
  private async handle(entries: Entry[]): Promise<void> {
    const reports = entries.map((e) => e.report).filter((r): r is AgentReport => r !== null);
    this.entryIds = new Map(entries.flatMap((e) => (e.report ? [[e.report, e.id] as const] : [])));
    let backoff = 200;
    let effects: BatchEffects;
    for (;;) {
      try {
        effects = await this.ctx.db.transaction((tx) => this.apply(tx, reports));
        this.stopper.committed();
        break;
      } catch (err) {
        // The stopper absorbed points inside the rolled-back transaction: drop what it touched.
        this.stopper.rolledBack();
        if (this.stopped) throw err;
        // A bad report must not wedge the stream: if the database answers, apply one at a time.
        if (await this.databaseAnswers()) {
          this.ctx.log.error({ err: (err as Error).message }, 'batch failed; applying reports one by one');
          effects = await this.applyOneByOne(reports);
          break;
        }
        this.failing = true;
        this.ctx.log.warn({ retryInMs: backoff }, 'database unreachable; holding reports until it is back');
        await sleep(backoff);
        backoff = Math.min(backoff * 2, 5 * SECOND);
      }
    }
    // Claims are answered first, right after the commit: agents wait for this to start their runs.
    // Only now: an answer sent before the commit could be followed by a rollback, and a second
    // claimant would then be accepted too. An answer lost here is asked for again by the agent.
    await this.ctx.link.answerClaims(effects.claimAnswers.map(({ claim, answer }) => ({ runId: claim.runId, token: claim.token, answer })));
    // Likewise an end's `ended` (the agent then forgets the attempt's points) and asks to resend.
    await this.ctx.link.answerEnds(effects.endAnswers);
    const done = entries.filter((e) => e.report === null || !effects.deferred.has(e.report));
    this.deferred = entries.filter((e) => e.report !== null && effects.deferred.has(e.report));
    for (const e of done) if (e.report?.type === 'end') this.endWaits.delete(`${e.report.runId}/${e.report.token}`);
    const ids = done.map((e) => e.id);
    if (ids.length > 0) {
      await this.redis.xack(this.ctx.keys.reports, this.ctx.keys.reportsGroup, ...ids);
      await this.redis.xdel(this.ctx.keys.reports, ...ids);
    }
    this.batches++;
    this.recovered();
    await this.afterCommit(effects);
  }

  private recovered(): void {
    if (!this.failing) return;
    this.failing = false;
    this.healthySince = Date.now();
    this.ctx.log.info('report ingestion recovered');
  }

  private async databaseAnswers(): Promise<boolean> {
    try {
      await this.ctx.db.query('SELECT 1');
      return true;
    } catch {
      return false;
    }
  }

  private async applyOneByOne(reports: AgentReport[]): Promise<BatchEffects> {
    const all = emptyEffects();
    for (const r of reports) {
      try {
        const e = await this.ctx.db.transaction((tx) => this.apply(tx, [r]));
        this.stopper.committed();
        mergeEffects(all, e);
      } catch (err) {
        this.stopper.rolledBack();
        this.ctx.log.error({ err: (err as Error).message, report: { type: r.type, sweepId: r.sweepId } }, 'report dropped: it cannot be applied');
      }
    }
    return all;
  }

  private async apply(tx: Transaction, reports: AgentReport[]): Promise<BatchEffects> {
    const fx = emptyEffects();
    const claims = reports.filter((r): r is ClaimReport => r.type === 'claim');
    const metrics = reports.filter((r): r is MetricsReport => r.type === 'metrics');
    const heartbeats = reports.filter((r): r is HeartbeatReport => r.type === 'heartbeat');
    const ends = reports.filter((r): r is EndReport => r.type === 'end');

    // One query tells which runs exist: claims and ends for runs that do not (forged, or from
    // another installation sharing the prefix) are refused without a statement each, so a flood
    // of them costs the database one lookup per batch.
    const named = [...new Set([...claims, ...ends].map((r) => r.runId))];
    const existing = named.length > 0 ? await getRunsForUpdate(tx, named) : new Map<string, RunRow>();
    for (const c of claims) {
      if (!existing.has(c.runId)) {
        this.ctx.log.debug({ sweepId: c.sweepId, runId: c.runId, agentId: c.agentId }, 'claim refused: no such run');
        fx.claimAnswers.push({ claim: c, answer: { verdict: 'refused', reason: 'claim refused: no such run' } });
        continue;
      }
      const result = await claimRun(tx, { runId: c.runId, token: c.token, agentId: c.agentId, host: c.host, gpu: c.gpu });
      if (result.status === 'accepted') {
        fx.changedRuns.push(result.run);
        fx.sweepsTouched.add(c.sweepId);
        fx.claimAnswers.push({ claim: c, answer: { verdict: 'accepted', attempt: result.run.attempt } });
      } else if (result.status === 'duplicate') {
        // The same claim again: re-delivered after a restart, or re-sent by an agent that missed
        // the answer. It still owns the run only while the attempt it opened is running.
        const owns = result.run.state === 'running';
        fx.claimAnswers.push({
          claim: c,
          answer: owns
            ? { verdict: 'accepted', attempt: result.run.attempt }
            : { verdict: 'refused', reason: `the attempt of this claim is already ${result.run.state}` },
        });
      } else {
        this.ctx.log.warn({ sweepId: c.sweepId, runId: c.runId, agentId: c.agentId, why: result.why }, 'claim refused');
        fx.claimAnswers.push({ claim: c, answer: { verdict: 'refused', reason: `claim refused: ${result.why}` } });
      }
    }
    if (metrics.length > 0) await this.applyMetrics(tx, metrics, fx);
    const pairs = heartbeats.flatMap((h) => h.runs);
    await touchHeartbeats(tx, pairs);
    for (const e of ends) {
      const ended = (missing: number): void => void fx.endAnswers.push({ runId: e.runId, token: e.token, answer: { kind: 'ended', missing } });
      if (!existing.has(e.runId)) {
        this.ctx.log.debug({ sweepId: e.sweepId, runId: e.runId, agentId: e.agentId }, 'end report refused: no such run');
        ended(0);
        continue;
      }
      if (await this.waitForPoints(tx, existing.get(e.runId)!, e, fx)) {
        fx.deferred.add(e);
        continue;
      }
      const result = await endAttempt(this.ctx, tx, e);
      if (result.status === 'refused') {
        this.ctx.log.warn({ sweepId: e.sweepId, runId: e.runId, agentId: e.agentId, why: result.why }, 'end report refused (stale attempt)');
        ended(0);
        continue;
      }
      if (result.status === 'duplicate') {
        // The same end again (the agent re-sends it until answered): its gap, if any, is recorded already.
        const run = existing.get(e.runId)!;
        ended(run.token === e.token ? await missingPoints(tx, run.id, run.attempt, e.lastSeq) : 0);
        continue;
      }
      // Every point up to the last the agent sent must be here (stored or refused); what is not was
      // lost on the way, and the run says so.
      const endedRun = result.end.run;
      const missing = await checkPointsComplete(tx, endedRun.id, endedRun.attempt, e.lastSeq);
      if (missing > 0) {
        this.ctx.log.warn({ sweepId: e.sweepId, runId: e.runId, attempt: endedRun.attempt, missing, lastSeq: e.lastSeq }, 'metric points lost before they reached the controller (the agent could not send them again)');
        const updated = await getRun(tx, endedRun.id);
        if (updated) endedRun.warnings = updated.warnings;
      }
      ended(missing);
      fx.changedRuns.push(endedRun);
      fx.sweepsTouched.add(e.sweepId);
      if (result.end.bestImproved) fx.bestMaybeChanged.add(e.sweepId);
      fx.ends.push(result.end);
    }
    return fx;
  }

  /**
   * Whether an end report waits for points of its attempt that are not stored yet: until they are
   * all here, or END_WAIT_MS passed without any of them arriving. While it waits, the agent is
   * asked (every RESEND_ASK_MS) to send the missing ones again.
   */
  private async waitForPoints(tx: Queryable, run: RunRow, e: EndReport, fx: BatchEffects): Promise<boolean> {
    if (run.state !== 'running' || run.token !== e.token) return false;
    if (!this.entryIds.has(e)) return false;
    const missing = await missingPoints(tx, run.id, run.attempt, e.lastSeq);
    if (missing === 0) return false;
    const key = `${run.id}/${e.token}`;
    const now = Date.now();
    const wait = this.endWaits.get(key) ?? { since: now, missing, askedAt: 0 };
    if (missing < wait.missing) {
      // Progress: the agent is sending them (or a slower replica committed them).
      wait.since = now;
      wait.missing = missing;
    }
    if (now - wait.since >= Math.min(END_WAIT_MS, this.ctx.config.HARROW_CRASH_TIMEOUT_MS / 4)) return false;
    if (now - wait.askedAt >= RESEND_ASK_MS) {
      const ranges = await missingRanges(tx, run.id, run.attempt, e.lastSeq, MAX_RESEND_RANGES);
      if (ranges.length > 0) fx.endAnswers.push({ runId: run.id, token: e.token, answer: { kind: 'resend', ranges } });
      if (wait.askedAt === 0) {
        this.ctx.log.info({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt, missing, lastSeq: e.lastSeq }, 'metric points missing at the end of the run; asking the agent to send them again');
      }
      wait.askedAt = now;
    }
    this.endWaits.set(key, wait);
    return true;
  }

  private async applyMetrics(tx: Transaction, reports: MetricsReport[], fx: BatchEffects): Promise<void> {
    const runs = await getRunsForUpdate(tx, [...new Set(reports.map((r) => r.runId))]);
    const specOf = this.ctx.specs.forBatch(tx);
    const points: PointRow[] = [];
    const refused: RefusedPointRow[] = [];
    let sinceTurn = 0;
    for (const r of reports) {
      const run = runs.get(r.runId);
      if (!run || run.token !== r.token || run.state !== 'running') {
        this.ctx.log.debug({ runId: r.runId, agentId: r.agentId }, 'metrics from a stale attempt refused');
        continue;
      }
      sinceTurn += r.points.length;
      if (sinceTurn >= POINTS_PER_TURN) {
        sinceTurn = 0;
        await nextTurn();
      }
      for (const raw of r.points) {
        // Each point alone: one that cannot be stored must not cost the good ones of its batch.
        const checked = parseMetricPoint(raw);
        if (!checked.ok) {
          refused.push({ runId: r.runId, attempt: run.attempt, ...checked.refused });
          continue;
        }
        const p = checked.point;
        points.push({ runId: r.runId, attempt: run.attempt, seq: p.seq, step: p.step, name: p.name, value: decodeValue(p.value), time: new Date(p.t) });
      }
    }
    if (refused.length > 0) {
      await recordRefusedPoints(tx, refused);
      for (const [runId, n] of countBy(refused.map((x) => x.runId))) {
        const run = runs.get(runId)!;
        this.ctx.log.warn(
          { sweepId: run.sweep_id, runId, attempt: run.attempt, refused: n, first: refused.find((x) => x.runId === runId)!.reason },
          'metric points refused (the others of the report were kept)',
        );
      }
    }
    // Early termination judges on the stored curves: lock them (the sweeps' rows) before inserting,
    // so the version read here is the one this batch's points are added to.
    const stopping = new Set<string>();
    for (const sweepId of new Set(points.map((p) => runs.get(p.runId)!.sweep_id))) {
      const et = (await specOf(sweepId)).earlyTerminate;
      if (et !== undefined && isCurveRule(et)) stopping.add(sweepId);
    }
    const versions = await lockCurveVersions(tx, [...stopping]);
    const stored = await insertPoints(tx, points);
    this.points += stored;
    // The common case: every point is new, and summaries extend what they had. After a
    // re-delivery, the touched runs are rebuilt from what is stored instead (rare and exact).
    // Points sent again on request may be older than ones already stored: their runs are rebuilt too.
    const resent = new Set(reports.filter((r) => r.resent).map((r) => r.runId));
    const redelivered = stored < points.length;
    const rebuilt = new Map(points.filter((p) => redelivered || resent.has(p.runId)).map((p) => [p.runId, { runId: p.runId, attempt: p.attempt }]));
    const source = [
      ...(rebuilt.size > 0 ? await attemptPoints(tx, [...rebuilt.values()]) : []),
      ...points.filter((p) => !rebuilt.has(p.runId)),
    ].sort((a, b) => (a.runId < b.runId ? -1 : a.runId > b.runId ? 1 : a.seq - b.seq));
    const byRun = new Map<string, PointRow[]>();
    for (const p of source) {
      let list = byRun.get(p.runId);
      if (!list) byRun.set(p.runId, (list = []));
      list.push(p);
    }
    const updates: SummaryUpdate[] = [];
    for (const [id, pts] of byRun) {
      const run = runs.get(id)!;
      const spec = await specOf(run.sweep_id);
      const base = rebuilt.has(id) ? { ...run, summary: {}, objective: null, objective_step: null, latest_value: null, metric_count: 0 } : run;
      const update = summarize(base, pts, spec);
      updates.push(update);
      // Before: what was stored (a rebuilt run re-counts from 0, but only crossing a new checkpoint makes it due).
      if (spec.earlyTerminate?.type === 'model' && modelStopDue(spec.earlyTerminate, run.metric_count, update.metricCount)) {
        fx.modelDue.push({ sweepId: run.sweep_id, runId: id });
      }
      const metric = spec.metric;
      if (!metric || metric.target === undefined) continue;
      const hit = pts.find((p) => p.name === metric.name && reachesTarget(metric.goal, p.value, metric.target!));
      if (hit !== undefined) fx.targetReached.push({ sweepId: run.sweep_id, runId: id, value: hit.value });
    }
    await updateSummaries(tx, updates);
    for (const sweepId of stopping) await this.judgeStops(tx, await specOf(sweepId), sweepId, versions.get(sweepId)!, points, runs, fx);
  }

  /**
   * Early termination of one sweep after its points of this batch were stored: judges the runs
   * that reported its metric, and records each stop in this transaction (so a decision is never
   * lost to a crash between commit and telling the agent; the first recorded reason wins).
   */
  private async judgeStops(
    tx: Queryable,
    spec: SweepSpec,
    sweepId: string,
    versionBefore: string,
    points: readonly PointRow[],
    runs: Map<string, RunRow>,
    fx: BatchEffects,
  ): Promise<void> {
    const metric = spec.metric!;
    const given = points.filter((p) => runs.get(p.runId)!.sweep_id === sweepId);
    const reported = new Set(given.filter((p) => p.name === metric.name).map((p) => p.runId));
    const candidates = [...reported].map((id) => {
      const run = runs.get(id)!;
      return { id, attempt: run.attempt, state: run.state };
    });
    const decisions = await this.stopper.decide(tx, { sweepId, spec: spec.earlyTerminate as CurveRuleSpec, metric, versionBefore, given, candidates });
    for (const d of decisions) {
      // decidedAt lets users (and tests) see how long the stop took to take effect.
      const info = { ...d, decidedAt: new Date().toISOString() };
      const recorded = await setStopInfo(tx, d.runId, info);
      fx.stops.push({ sweepId, runId: d.runId, info, recorded });
    }
  }

  private async afterCommit(fx: BatchEffects): Promise<void> {
    const { link, log } = this.ctx;
    for (const run of fx.changedRuns) {
      log.info({ sweepId: run.sweep_id, runId: run.id, attempt: run.attempt, agentId: run.agent_id, state: run.state, reason: run.reason }, `run ${run.state}`);
      await link.publish(run.sweep_id, 'run', runSummary(run));
    }
    for (const end of fx.ends) await afterRunEnd(this.ctx, end);
    for (const s of fx.stops) await requestStop(this.ctx, s.sweepId, s.runId, s.info, { recorded: s.recorded });
    const due = new Map<string, string[]>();
    for (const m of fx.modelDue) due.set(m.sweepId, [...(due.get(m.sweepId) ?? []), m.runId]);
    for (const [sweepId, runIds] of due) this.models.schedule(sweepId, runIds);
    for (const t of fx.targetReached) {
      const sweep = await getSweep(this.ctx.db, t.sweepId);
      if (sweep && (sweep.state === 'running' || sweep.state === 'paused')) {
        await finishOrMoveSweep(this.ctx, t.sweepId, 'finished', `metric target reached by run ${t.runId} (value ${t.value})`);
      }
    }
    for (const sweepId of fx.bestMaybeChanged) {
      const sweep = await getSweep(this.ctx.db, sweepId);
      if (sweep?.goal) {
        const best = bestRunOf(await bestRun(this.ctx.db, sweepId, sweep.goal));
        // Announce only an improvement (or the first best this controller has seen).
        const key = best ? `${best.runId}:${best.value}` : undefined;
        if (best && this.lastBest.get(sweepId) !== key) {
          this.lastBest.set(sweepId, key!);
          await link.publish(sweepId, 'best', best);
        }
      }
    }
    for (const sweepId of fx.sweepsTouched) this.ctx.poke(sweepId);
  }

  /** Forget a sweep's cached curves (it ended). */
  forget(sweepId: string): void {
    this.stopper.forget(sweepId);
    this.models.forget(sweepId);
    this.lastBest.delete(sweepId);
  }
}

function emptyEffects(): BatchEffects {
  return {
    changedRuns: [],
    claimAnswers: [],
    endAnswers: [],
    stops: [],
    modelDue: [],
    targetReached: [],
    ends: [],
    deferred: new Set(),
    sweepsTouched: new Set(),
    bestMaybeChanged: new Set(),
  };
}

function mergeEffects(into: BatchEffects, from: BatchEffects): void {
  into.changedRuns.push(...from.changedRuns);
  into.claimAnswers.push(...from.claimAnswers);
  into.endAnswers.push(...from.endAnswers);
  into.stops.push(...from.stops);
  into.modelDue.push(...from.modelDue);
  into.targetReached.push(...from.targetReached);
  into.ends.push(...from.ends);
  for (const r of from.deferred) into.deferred.add(r);
  for (const s of from.sweepsTouched) into.sweepsTouched.add(s);
  for (const s of from.bestMaybeChanged) into.bestMaybeChanged.add(s);
}

/** The stream's entries as reports (null when not one), a turn of the event loop every ENTRIES_PER_TURN. */
async function parseEntries(raw: Array<[string, string[] | null]>): Promise<Entry[]> {
  const entries: Entry[] = [];
  for (let i = 0; i < raw.length; i += ENTRIES_PER_TURN) {
    if (i > 0) await nextTurn();
    entries.push(...parseSome(raw.slice(i, i + ENTRIES_PER_TURN)));
  }
  return entries;
}

function parseSome(raw: Array<[string, string[] | null]>): Entry[] {
  return raw.map(([id, fields]) => {
    const i = fields ? fields.indexOf(REPORT_FIELD) : -1;
    if (!fields || i < 0 || i + 1 >= fields.length) return { id, report: null };
    try {
      const parsed = AgentReportSchema.safeParse(JSON.parse(fields[i + 1]!));
      return { id, report: parsed.success ? parsed.data : null };
    } catch {
      return { id, report: null };
    }
  });
}

function decodeValue(v: number | 'nan' | 'inf' | '-inf'): number {
  if (typeof v === 'number') return v;
  return v === 'nan' ? Number.NaN : v === 'inf' ? Number.POSITIVE_INFINITY : Number.NEGATIVE_INFINITY;
}

/**
 * Folds newly stored points (ordered by seq) into the run's summary. Only finite values count:
 * a NaN loss is kept in the time series but never becomes anyone's best.
 */
export function summarize(run: RunRow, points: readonly PointRow[], spec: SweepSpec): SummaryUpdate {
  const summary: Record<string, MetricSummary> = { ...run.summary };
  let objective = run.objective;
  let objectiveStep = run.objective_step;
  let latest = run.latest_value;
  let count = run.metric_count;
  const metric = spec.metric;
  for (const p of points) {
    if (!Number.isFinite(p.value)) continue;
    const s = summary[p.name];
    summary[p.name] = s
      ? { last: p.value, min: Math.min(s.min, p.value), max: Math.max(s.max, p.value), count: s.count + 1, step: p.step }
      : { last: p.value, min: p.value, max: p.value, count: 1, step: p.step };
    if (metric && p.name === metric.name) {
      count++;
      latest = p.value;
      if (isBetter(metric.goal, p.value, objective)) {
        objective = p.value;
        objectiveStep = p.step;
      }
    }
  }
  return { runId: run.id, summary, objective, objectiveStep, latestValue: latest, metricCount: count };
}

function countBy(keys: readonly string[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const k of keys) out.set(k, (out.get(k) ?? 0) + 1);
  return out;
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
