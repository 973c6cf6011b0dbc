/**
 * The audit trail's one entry point for routes: `audited(ctx, req, { action, sweepId, target }, fn)`
 * runs the action and records who did it, when, from where, what and the outcome, whether it
 * succeeded or failed. A new mutating route adds one line. Refusals by the auth check are recorded
 * by the auth plugin itself (`recordAudit`), before any route runs.
 *
 * The entry is written after the action, in its own statement: if the database fails in between,
 * the action stands unrecorded and the server logs an error saying so (README, Security).
 */
import type { FastifyRequest } from 'fastify';
import { appendAudit, type AuditOutcome } from '../db/audit.js';
import { HarrowError } from '../protocol/errors.js';
import type { ControllerContext } from './context.js';
import { identityOf, type SsoIdentity } from './security/auth.js';
import { clientAddress } from './security/proxy-identity.js';

export interface AuditWhat {
  /** A short verb: `create`, `pause`, `stop-run`, `token.create`... */
  action: string;
  sweepId?: string | null;
  /** What it acted on when that is not the sweep itself (a run id, a token name). */
  target?: string | null;
  details?: unknown;
}

/**
 * A single-sign-on user is recorded under their user name (`actor`), with what vouched for them
 * (proxy address or issuer), their email and groups in `details.sso`: a token and a person can
 * share a name, and an auditor must be able to tell them apart.
 */
function withSso(details: unknown, sso: SsoIdentity | undefined): unknown {
  if (!sso) return details;
  const base = details === undefined || details === null ? {} : typeof details === 'object' && !Array.isArray(details) ? details : { value: details };
  return { ...base, sso };
}

/** Appends one entry; never throws (a failed write is logged as an error). */
export async function recordAudit(ctx: ControllerContext, req: FastifyRequest, what: AuditWhat, outcome: AuditOutcome, error?: string): Promise<void> {
  const who = identityOf(req);
  try {
    await appendAudit(ctx.db, {
      actor: who?.name ?? 'unauthenticated',
      role: who?.role ?? null,
      // Behind the single-sign-on proxy, the client it serves (the proxy's own address is in details.sso).
      address: ctx.config.HARROW_AUTH === 'proxy' ? clientAddress(req, ctx.config.HARROW_TRUSTED_PROXIES) : req.ip,
      action: what.action,
      sweepId: what.sweepId ?? null,
      target: what.target ?? null,
      details: withSso(what.details, who?.sso),
      outcome,
      error: error ?? null,
    });
  } catch (err) {
    ctx.log.error({ err: (err as Error).message, action: what.action, sweepId: what.sweepId, actor: who?.name, outcome }, 'audit entry could not be written');
  }
}

/**
 * Runs a mutating action and records it with its outcome; the action's result or error passes
 * through. `known` adds what only the result tells (the id of a sweep just created).
 */
export async function audited<T>(ctx: ControllerContext, req: FastifyRequest, what: AuditWhat, fn: () => Promise<T>, known?: (result: T) => Partial<AuditWhat>): Promise<T> {
  let result: T;
  try {
    result = await fn();
  } catch (err) {
    const status = err instanceof HarrowError ? err.status : 500;
    const outcome: AuditOutcome = status === 401 || status === 403 ? 'refused' : 'error';
    const message = err instanceof HarrowError && status < 500 ? `${err.code}: ${err.message}` : 'internal error';
    await recordAudit(ctx, req, what, outcome, message);
    throw err;
  }
  await recordAudit(ctx, req, known ? { ...what, ...known(result) } : what, 'ok');
  return result;
}
