/**
 * The audit trail: who did what, when, from where, with what outcome. This module only appends
 * and reads; there is deliberately no update or delete here, and a trigger (migration 0006)
 * refuses both, so a bug or a hand-written query cannot rewrite history either.
 */
import type { Queryable } from './database.js';

export const AUDIT_OUTCOMES = ['ok', 'refused', 'error'] as const;
export type AuditOutcome = (typeof AUDIT_OUTCOMES)[number];

export interface AuditRow {
  id: number;
  at: Date;
  actor: string;
  role: string | null;
  address: string | null;
  action: string;
  sweep_id: string | null;
  target: string | null;
  details: unknown;
  outcome: AuditOutcome;
  error: string | null;
}

export interface NewAuditEntry {
  actor: string;
  role: string | null;
  address: string | null;
  action: string;
  sweepId: string | null;
  target: string | null;
  details?: unknown;
  outcome: AuditOutcome;
  error?: string | null;
}

export async function appendAudit(q: Queryable, e: NewAuditEntry): Promise<AuditRow> {
  const { rows } = await q.query<AuditRow>(
    `INSERT INTO audit_log (actor, role, address, action, sweep_id, target, details, outcome, error)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *`,
    [e.actor, e.role, e.address, e.action, e.sweepId, e.target, e.details === undefined ? null : JSON.stringify(e.details), e.outcome, e.error ?? null],
  );
  return rows[0]!;
}

export interface AuditFilter {
  sweepId?: string | undefined;
  actor?: string | undefined;
  action?: string | undefined;
  outcome?: AuditOutcome | undefined;
  since?: Date | undefined;
  /** Only entries of these sweeps (a project-scoped reader); undefined: no restriction. */
  sweepIds?: readonly string[] | undefined;
  limit?: number | undefined;
}

/** Newest first. */
export async function listAudit(q: Queryable, f: AuditFilter = {}): Promise<AuditRow[]> {
  const { rows } = await q.query<AuditRow>(
    `SELECT * FROM audit_log
     WHERE ($1::text IS NULL OR sweep_id = $1)
       AND ($2::text IS NULL OR actor = $2)
       AND ($3::text IS NULL OR action = $3)
       AND ($4::text IS NULL OR outcome = $4)
       AND ($5::timestamptz IS NULL OR at >= $5)
       AND ($6::text[] IS NULL OR sweep_id = ANY($6::text[]))
     ORDER BY id DESC LIMIT $7`,
    [f.sweepId ?? null, f.actor ?? null, f.action ?? null, f.outcome ?? null, f.since ?? null, f.sweepIds ?? null, f.limit ?? 100],
  );
  return rows;
}
