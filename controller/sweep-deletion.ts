/**
 * `harrow delete SWEEP` (DELETE /api/sweeps/:id): removes a sweep and everything of it, in
 * Postgres (`db/sweep-deletion.ts`) and in Redis. The Redis keys of a sweep are every key the
 * controller and agents write for it (`protocol/wire.ts`, `redisKeys`):
 *
 * - `<prefix>:sweep:<id>:state` (controller) and `<prefix>:sweep:<id>:agents` (agents' presence);
 * - `<prefix>:run:<run id>:control` for each run (controller; 24 h TTL otherwise);
 * - the BullMQ queue `<prefix>:bull:runs-<id>:*` (jobs, ids, meta, events...);
 * - entries of the shared reports stream `<prefix>:reports` whose report names the sweep, and
 *   their pending entries in the controller's consumer group.
 *
 * Claim answers (`<prefix>:run:<run id>:claim:<token>`) and live events (`<prefix>:events:<id>`)
 * are pub/sub channels: nothing is stored under them.
 *
 * A sweep that is running or paused, or that still has running runs, is refused unless `force`:
 * then it is canceled first (its agents kill the runs) and the deletion waits until every run has
 * ended, so that no training process goes on with nobody to stop it. Postgres goes first: once
 * the rows are gone, nothing (scheduler, reconciler) writes the sweep's keys again.
 */
import { HarrowError } from '../protocol/errors.js';
import { LIVE_RUN_STATES, LIVE_SWEEP_STATES } from '../protocol/run-states.js';
import { REPORT_FIELD } from '../protocol/wire.js';
import { SECOND } from '../protocol/time.js';
import { getSweep } from '../db/sweeps.js';
import { runsInStates } from '../db/runs.js';
import { deleteSweepRows, runIdsOfSweep, type DeletedRows } from '../db/sweep-deletion.js';
import type { ControllerContext } from './context.js';
import type { Ingestor } from './ingestor.js';
import { finishOrMoveSweep } from './sweep-service.js';

/** How long agents get to confirm their runs were killed, beyond the kill grace period. */
const KILL_CONFIRM_MS = 15 * SECOND;
const POLL_MS = 200;
/** Stream entries read per XRANGE while looking for the sweep's reports. */
const STREAM_PAGE = 1000;

export interface DeleteResult {
  id: string;
  /** The sweep was running or paused and was canceled first (`force`). */
  canceled: boolean;
  rows: DeletedRows;
  redisKeys: number;
  reports: number;
}

export async function deleteSweep(ctx: ControllerContext, id: string, o: { force: boolean; ingestor?: Ingestor | undefined }): Promise<DeleteResult> {
  const sweep = await getSweep(ctx.db, id);
  if (!sweep) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; \`harrow status\` lists the sweeps`);
  let canceled = false;
  if (LIVE_SWEEP_STATES.includes(sweep.state)) {
    if (!o.force) {
      throw new HarrowError('INVALID_STATE_TRANSITION', `sweep ${id} is ${sweep.state}: cancel it first (\`harrow cancel ${id}\`), or delete with --force (API: ?force=true), which cancels it and kills its running runs`);
    }
    // Another request may have ended it meanwhile: either way it is ended now.
    canceled = await finishOrMoveSweep(ctx, id, 'canceled', 'canceled by user to delete it');
  }
  let live = await runsInStates(ctx.db, id, LIVE_RUN_STATES);
  if (live.length > 0 && !o.force) {
    throw new HarrowError('INVALID_STATE_TRANSITION', `sweep ${id} still has ${live.length} running run${live.length === 1 ? '' : 's'} (${live.map((r) => r.id).slice(0, 5).join(', ')}): wait for them to end, or delete with --force (API: ?force=true) to kill them first`);
  }
  if (live.length > 0) {
    // A sweep that ended by `stop` lets its runs finish: kill them too.
    for (const run of live) await ctx.link.sendControl(run.id, { action: 'cancel', reason: 'sweep deleted', at: Date.now() });
    const deadline = Date.now() + ctx.config.HARROW_KILL_GRACE_MS + KILL_CONFIRM_MS;
    while (live.length > 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, POLL_MS));
      live = await runsInStates(ctx.db, id, LIVE_RUN_STATES);
    }
    if (live.length > 0) {
      throw new HarrowError(
        'INVALID_STATE_TRANSITION',
        `sweep ${id} is canceled, but ${live.length} run${live.length === 1 ? ' has' : 's have'} not confirmed being killed yet (${live.map((r) => r.id).slice(0, 5).join(', ')}); nothing was deleted. ` +
          'Try again shortly: a run whose agent is gone is marked crashed after HARROW_CRASH_TIMEOUT_MS without a heartbeat',
      );
    }
  }

  // Both stores or neither: with Redis away, the rows would go and the keys stay, with nothing
  // left to say they were the sweep's. (Redis failing between the two steps is still possible;
  // the error then says so, and the keys are the ones listed in this file's header.)
  if (!(await ctx.link.ping())) throw new HarrowError('REDIS_UNAVAILABLE', `Redis is unreachable: sweep ${id} was not deleted; try again once it is back`);
  const { runIds, rows } = await ctx.db.transaction(async (tx) => {
    const now = await getSweep(tx, id, { forUpdate: true });
    if (!now) throw new HarrowError('SWEEP_NOT_FOUND', `sweep '${id}' not found; it was deleted meanwhile`);
    if (LIVE_SWEEP_STATES.includes(now.state)) throw new HarrowError('INVALID_STATE_TRANSITION', `sweep ${id} is ${now.state} again (resumed or extended meanwhile); nothing was deleted`);
    const ids = await runIdsOfSweep(tx, id);
    return { runIds: ids, rows: await deleteSweepRows(tx, id) };
  });
  ctx.log.info({ sweepId: id, rows }, 'sweep deleted from the database');
  // In-memory state of this replica; other replicas' caches of it are keyed by an id never reused.
  o.ingestor?.forget(id);
  ctx.proposer.forget(id);
  ctx.specs.forget(id);
  let redis: { redisKeys: number; reports: number };
  try {
    redis = await deleteRedisData(ctx, id, runIds);
  } catch (err) {
    // A 503's message does not reach the client: the log says what is left to remove.
    const p = ctx.config.HARROW_PREFIX;
    ctx.log.error(
      { sweepId: id, err: (err as Error).message, left: [`${p}:sweep:${id}:*`, `${p}:run:${id}-*:control`, `${p}:bull:runs-${id}:*`] },
      'sweep deleted from the database, but Redis failed while its keys were removed; remove the keys left once Redis is back',
    );
    throw new HarrowError('REDIS_UNAVAILABLE', `sweep ${id} was deleted from the database, but Redis failed while its keys were removed`, { cause: err });
  }
  return { id, canceled, rows, ...redis };
}

/** Removes the sweep's keys and report entries from Redis; returns how many of each went. */
export async function deleteRedisData(ctx: ControllerContext, id: string, runIds: readonly string[]): Promise<{ redisKeys: number; reports: number }> {
  const { redis } = ctx.link;
  const { keys } = ctx;
  await ctx.queue.obliterate(id);
  let removed = 0;
  const named = [keys.sweepState(id), keys.sweepShare(id), keys.agents(id), ...runIds.map((r) => keys.control(r))];
  for (let i = 0; i < named.length; i += 500) removed += await redis.del(...named.slice(i, i + 500));
  // BullMQ's obliterate leaves nothing it knows of; sweep up anything under the queue's prefix
  // that a concurrent writer may have added meanwhile.
  let cursor = '0';
  do {
    const [next, found] = await redis.scan(cursor, 'MATCH', `${keys.bullPrefix}:${keys.queueName(id)}:*`, 'COUNT', 1000);
    cursor = next;
    if (found.length > 0) removed += await redis.del(...found);
  } while (cursor !== '0');
  return { redisKeys: removed, reports: await deleteReports(ctx, id) };
}

/** Deletes (and acknowledges) the entries of the reports stream that belong to the sweep. */
async function deleteReports(ctx: ControllerContext, id: string): Promise<number> {
  const { redis } = ctx.link;
  const stream = ctx.keys.reports;
  let start = '-';
  let deleted = 0;
  for (;;) {
    const page = await redis.xrange(stream, start, '+', 'COUNT', STREAM_PAGE);
    const mine: string[] = [];
    for (const [entryId, fields] of page) {
      const at = fields.indexOf(REPORT_FIELD);
      const raw = at >= 0 ? fields[at + 1] : undefined;
      if (raw !== undefined && sweepOfReport(raw) === id) mine.push(entryId);
    }
    if (mine.length > 0) {
      // Acknowledged first so no consumer's pending list keeps ids whose entries are gone.
      await redis.xack(stream, ctx.keys.reportsGroup, ...mine).catch(() => 0);
      deleted += await redis.xdel(stream, ...mine);
    }
    if (page.length < STREAM_PAGE) return deleted;
    start = `(${page[page.length - 1]![0]}`;
  }
}

function sweepOfReport(raw: string): string | undefined {
  try {
    const parsed = JSON.parse(raw) as { sweepId?: unknown };
    return typeof parsed.sweepId === 'string' ? parsed.sweepId : undefined;
  } catch {
    return undefined;
  }
}
