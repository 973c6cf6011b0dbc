/**
 * A sweep's share of agents that serve several sweeps (`harrow agent --sweeps A,B` or `--all`):
 * its priority and slot cap, changed live. Postgres holds them; Redis mirrors them for the agents
 * (written here at once, and again by the reconciler after a Redis flush).
 */
import { getSweep, setSweepShare } from '../db/sweeps.js';
import { HarrowError } from '../protocol/errors.js';
import type { SweepShareResponse } from '../protocol/api.js';
import type { ControllerContext } from './context.js';

export async function changeSweepShare(ctx: ControllerContext, id: string, share: { priority?: number; maxSlots?: number | null }): Promise<SweepShareResponse> {
  const row = await setSweepShare(ctx.db, id, share);
  if (!row) {
    const exists = await getSweep(ctx.db, id);
    if (!exists) throw new HarrowError('SWEEP_NOT_FOUND', `sweep ${id} not found; list sweeps with harrow status`);
  }
  const priority = row!.priority;
  const maxSlots = row!.max_slots;
  try {
    await ctx.link.setSweepShare(id, { priority, maxSlots });
  } catch (err) {
    ctx.log.warn({ sweepId: id, err: (err as Error).message }, 'could not mirror the sweep share to Redis; the reconciler will');
  }
  ctx.log.info({ sweepId: id, priority, maxSlots }, 'sweep share changed');
  return { sweepId: id, priority, maxSlots };
}
