/**
 * Tokens and the audit trail in storage, on Postgres and on PGlite: a revoked name can be issued
 * again but two live tokens cannot share one; the audit log only grows (UPDATE, DELETE and
 * TRUNCATE are refused by the database itself, whoever asks).
 */
import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, needServices } from '../../helpers/services.js';
import type { Database } from '../../../db/database.js';
import { anyLiveToken, getToken, insertToken, listTokens, revokeToken } from '../../../db/tokens.js';
import { appendAudit, listAudit } from '../../../db/audit.js';
import { insertSweep, getSweep } from '../../../db/sweeps.js';

const opts = await needServices();

for (const backend of BACKENDS) {
  describe(`tokens and audit on ${backend.name}`, opts, () => {
    let db: Database;
    let drop: () => Promise<void>;
    before(async () => {
      ({ db, drop } = await backend.open());
    });
    after(async () => {
      await drop();
    });

    test('a live name is unique; revoking frees it; expired and revoked tokens do not count as live', async () => {
      assert.equal(await anyLiveToken(db), false);
      const base = { role: 'member' as const, projects: null, secretHash: 'h', createdBy: 'HARROW_TOKEN', expiresAt: null };
      assert.ok(await insertToken(db, { ...base, id: 'a1', name: 'alice' }));
      assert.equal(await insertToken(db, { ...base, id: 'a2', name: 'alice' }), null, 'a second live alice');
      assert.equal(await anyLiveToken(db), true);
      const revoked = await revokeToken(db, 'alice', 'root');
      assert.equal(revoked?.revoked_by, 'root');
      assert.equal(await revokeToken(db, 'alice', 'root'), null, 'already revoked');
      assert.equal(await anyLiveToken(db), false);
      assert.ok(await insertToken(db, { ...base, id: 'a3', name: 'alice', projects: ['vision', 'acme/nlp'], expiresAt: new Date(Date.now() - 1000) }));
      assert.equal(await anyLiveToken(db), false, 'an expired token is not live');
      assert.deepEqual((await getToken(db, 'a3'))?.projects, ['vision', 'acme/nlp']);
      assert.deepEqual((await listTokens(db)).map((t) => t.id), ['a3']);
      assert.deepEqual((await listTokens(db, { includeRevoked: true })).map((t) => t.id).sort(), ['a1', 'a3']);
    });

    test('the audit log is append-only: UPDATE, DELETE and TRUNCATE raise; filters work', async () => {
      const e = await appendAudit(db, { actor: 'alice', role: 'member', address: '127.0.0.1', action: 'pause', sweepId: 's1', target: null, outcome: 'ok' });
      await appendAudit(db, { actor: 'bob', role: 'viewer', address: '10.0.0.2', action: 'POST /api/sweeps/:id/cancel', sweepId: null, target: null, outcome: 'refused', error: 'FORBIDDEN' });
      await appendAudit(db, { actor: 'alice', role: 'member', address: '127.0.0.1', action: 'resume', sweepId: 's1', target: null, details: { why: 'x' }, outcome: 'ok' });
      for (const sql of [`UPDATE audit_log SET actor = 'mallory' WHERE id = ${e.id}`, `DELETE FROM audit_log WHERE id = ${e.id}`, 'DELETE FROM audit_log', 'TRUNCATE audit_log']) {
        await assert.rejects(db.query(sql), /append-only/, sql);
      }
      const all = await listAudit(db);
      assert.deepEqual(all.map((r) => r.action), ['resume', 'POST /api/sweeps/:id/cancel', 'pause'], 'newest first, nothing changed');
      assert.equal(all[2]!.actor, 'alice');
      assert.deepEqual(all[0]!.details, { why: 'x' });
      assert.deepEqual((await listAudit(db, { sweepId: 's1' })).map((r) => r.action), ['resume', 'pause']);
      assert.deepEqual((await listAudit(db, { actor: 'bob' })).map((r) => r.outcome), ['refused']);
      assert.deepEqual((await listAudit(db, { action: 'pause' })).length, 1);
      assert.deepEqual((await listAudit(db, { since: new Date(Date.now() + 60_000) })).length, 0);
      assert.deepEqual((await listAudit(db, { sweepIds: [] })).length, 0);
      assert.deepEqual((await listAudit(db, { limit: 1 })).map((r) => r.action), ['resume']);
    });

    test('a sweep records its creator', async () => {
      await insertSweep(db, { id: 'sw-c', name: null, method: 'random', spec: {}, configText: '', seed: 1, metricName: null, goal: null, runCap: null, expectedRuns: null, createdBy: 'alice' });
      assert.equal((await getSweep(db, 'sw-c'))?.created_by, 'alice');
    });
  });
}
