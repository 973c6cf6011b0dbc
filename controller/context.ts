/** What every controller component shares: one of each connection, the config and the logger. */
import type { Database, Queryable } from '../db/database.js';
import type { RedisKeys } from '../protocol/wire.js';
import type { ControllerConfig } from './config.js';
import type { Logger } from './logger.js';
import type { Proposer } from './proposer.js';
import type { RedisLink } from './redis-link.js';
import type { RunQueue } from './run-queue.js';
import type { SweepSpec } from '../strategies/types.js';
import { getSweep } from '../db/sweeps.js';
import { HarrowError } from '../protocol/errors.js';

export interface ControllerContext {
  config: ControllerConfig;
  db: Database;
  link: RedisLink;
  queue: RunQueue;
  proposer: Proposer;
  keys: RedisKeys;
  log: Logger;
  specs: SpecCache;
  /** Asks the scheduler to top up a sweep's queue soon (after a run ended, a sweep resumed...). */
  poke(sweepId: string): void;
}

/**
 * Specs never change after creation, so each is read from Postgres once. The cache holds no
 * database handle: a miss reads through the one the caller passes, so code inside a transaction
 * passes its `tx` (on the embedded database, a read on the shared handle from there would wait
 * for the transaction forever) and code outside passes `ctx.db`.
 */
export class SpecCache {
  private readonly specs = new Map<string, SweepSpec>();

  async get(q: Queryable, sweepId: string): Promise<SweepSpec> {
    const cached = this.specs.get(sweepId);
    if (cached) return cached;
    const row = await getSweep(q, sweepId);
    if (!row) throw new HarrowError('SWEEP_NOT_FOUND', `sweep ${sweepId} not found`);
    const spec = row.spec as SweepSpec;
    this.specs.set(sweepId, spec);
    return spec;
  }

  set(sweepId: string, spec: SweepSpec): void {
    this.specs.set(sweepId, spec);
  }

  /** The sweep was deleted. */
  forget(sweepId: string): void {
    this.specs.delete(sweepId);
  }
}
