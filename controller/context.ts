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
import { specIfChanged } from '../db/warm-start.js';
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
 * Each sweep's spec, read from Postgres once and again only when it changed: an edit (`harrow
 * edit`, controller/spec-edit.ts) bumps `sweeps.spec_version`, and every `get` compares the cached
 * version with the row's (one indexed read of an integer), so every replica sees an edit at its
 * next read, not at its restart. `onChange` lets the holder drop what it built from the old spec
 * (the strategy). The cache holds no database handle: a miss reads through the one the caller
 * passes, so code inside a transaction passes its `tx` (on the embedded database, a read on the
 * shared handle from there would wait for the transaction forever) and code outside passes `ctx.db`.
 */
export class SpecCache {
  private readonly specs = new Map<string, { version: number; spec: SweepSpec }>();

  constructor(private readonly onChange: (sweepId: string) => void = () => undefined) {}

  async get(q: Queryable, sweepId: string): Promise<SweepSpec> {
    return (await this.versioned(q, sweepId)).spec;
  }

  /**
   * The spec with the version it is, read together: `version()` after `get()` may already name a
   * newer version that a concurrent `get` stored meanwhile (a run proposed from version 1 was then
   * recorded as proposed by version 2).
   */
  async versioned(q: Queryable, sweepId: string): Promise<{ version: number; spec: SweepSpec }> {
    const cached = this.specs.get(sweepId);
    if (cached) {
      const now = await specIfChanged(q, sweepId, cached.version);
      if (!now) throw new HarrowError('SWEEP_NOT_FOUND', `sweep ${sweepId} not found`);
      if (now.spec === null) return cached;
      this.store(sweepId, now.version, now.spec as SweepSpec);
      return { version: now.version, spec: now.spec as SweepSpec };
    }
    const row = await getSweep(q, sweepId);
    if (!row) throw new HarrowError('SWEEP_NOT_FOUND', `sweep ${sweepId} not found`);
    const entry = { version: row.spec_version, spec: row.spec as SweepSpec };
    this.specs.set(sweepId, entry);
    return entry;
  }

  /**
   * A getter for one unit of work (an ingested batch): each sweep's spec is read (or its version
   * checked) once however many points, runs or decisions of the batch ask for it. The batch's
   * transaction sees one version anyway; a check per point cost one query per metric point.
   */
  forBatch(q: Queryable): (sweepId: string) => Promise<SweepSpec> {
    const seen = new Map<string, Promise<SweepSpec>>();
    return (sweepId) => {
      let spec = seen.get(sweepId);
      if (!spec) seen.set(sweepId, (spec = this.get(q, sweepId)));
      return spec;
    };
  }

  set(sweepId: string, spec: SweepSpec, version = 1): void {
    this.store(sweepId, version, spec);
  }

  private store(sweepId: string, version: number, spec: SweepSpec): void {
    const before = this.specs.get(sweepId);
    this.specs.set(sweepId, { version, spec });
    if (before && before.version !== version) this.onChange(sweepId);
  }

  /** The sweep was deleted. */
  forget(sweepId: string): void {
    this.specs.delete(sweepId);
  }
}
