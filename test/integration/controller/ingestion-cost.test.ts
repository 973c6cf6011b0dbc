/**
 * What one ingested batch costs the database: statements per batch, not per metric point. The
 * spec cache checks a sweep's spec version with one query; the ingestor once did that for every
 * point of a batch, so 200,000 points cost 200,000 extra round trips and ingestion fell to a
 * tenth of a raw insert (`npm run bench` §2). Postgres and PGlite.
 */
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { Transaction } from '../../../db/database.js';
import { MetricsResponseSchema } from '../../../protocol/api.js';
import { needServices } from '../../helpers/services.js';
import { waitFor } from '../../helpers/processes.js';
import { claimedRun, expectOk, http, startTestController, type TestController } from './controller-harness.js';

const opts = await needServices();

const SWEEPS = {
  plain: ['method: random', 'program: train.py', 'metric: {name: loss, goal: minimize}', 'parameters:', '  x: {min: 0.0, max: 1.0}', ''].join('\n'),
  'early termination': [
    'method: random',
    'program: train.py',
    'metric: {name: loss, goal: minimize}',
    'early_terminate: {type: hyperband, min_iter: 3}',
    'parameters:',
    '  x: {min: 0.0, max: 1.0}',
    '',
  ].join('\n'),
};

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`one ingested batch costs statements per batch, not per point (${backend})`, { ...opts, timeout: 60_000 }, () => {
    let c: TestController;
    /** Statements the controller's transactions ran, by their text. */
    const statements: string[] = [];
    before(async () => {
      c = await startTestController({ backend });
      const db = c.handle.ctx.db;
      const transaction = db.transaction.bind(db);
      db.transaction = <T>(fn: (tx: Transaction) => Promise<T>): Promise<T> =>
        transaction((tx) =>
          fn({
            query: (text: string, params?: readonly unknown[]) => {
              statements.push(text);
              return tx.query(text, params);
            },
            exec: (sql: string) => tx.exec(sql),
          }),
        );
    });
    after(async () => {
      await c?.close();
    });

    for (const [kind, yaml] of Object.entries(SWEEPS)) {
      test(`a report of 500 points (${kind} sweep) checks the sweep's spec once`, async () => {
        const { agent, runId, token } = await claimedRun(c, yaml);
        statements.length = 0;
        await agent.metrics(
          runId,
          token,
          Array.from({ length: 500 }, (_, i): [number, string, number] => [i, i % 2 === 0 ? 'loss' : 'acc', 1 / (i + 1)]),
        );
        await waitFor(
          'the 250 loss points stored',
          async () => (await expectOk(MetricsResponseSchema, http(c.url, `/api/runs/${runId}/metrics?name=loss`))).points.length === 250,
          20_000,
        );
        const specReads = statements.filter((q) => /\bspec_version\b/.test(q) && /^\s*SELECT/i.test(q));
        assert.ok(specReads.length <= 1, `the batch read the sweep's spec version ${specReads.length} times (once per point before the fix)`);
        assert.ok(statements.length < 40, `one batch of 500 points ran ${statements.length} statements`);
      });
    }
  });
}
