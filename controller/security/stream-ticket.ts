/**
 * Short-lived, signed tickets for the dashboard's event streams. A browser's EventSource cannot
 * send an Authorization header, so the page first asks `POST /api/stream-tickets` (with its token
 * in the header) for a ticket naming one sweep, then opens `events?ticket=...`.
 *
 * Why not a cookie: a cookie is sent by the browser on its own, so every route would have to be
 * defended against cross-site use again, and it would outlive the tab. A ticket is only good for
 * reading one sweep's stream, for one minute, as the token that asked for it; a ticket leaked
 * through a proxy's access log or the browser history is worth little and soon nothing.
 *
 * The HMAC key is the credential's own stored hash (or the hash of HARROW_TOKEN), so every
 * replica can verify a ticket another issued, and revoking the token voids its tickets at once.
 */
import { HarrowError } from '../../protocol/errors.js';
import { SECOND } from '../../protocol/time.js';
import { hmac, sameSecret } from './auth-token.js';

export const STREAM_TICKET_TTL_MS = 60 * SECOND;

export interface TicketClaims {
  ref: string;
  sweepId: string;
  expiresAt: number;
}

export function issueTicket(key: string, ref: string, sweepId: string, now: number): { ticket: string; expiresAt: number } {
  const expiresAt = now + STREAM_TICKET_TTL_MS;
  const payload = Buffer.from(JSON.stringify({ r: ref, s: sweepId, e: expiresAt })).toString('base64url');
  return { ticket: `${payload}.${hmac(key, payload)}`, expiresAt };
}

/** The claims a ticket makes, unverified: the caller fetches the key of `ref`, then calls `verifyTicket`. */
export function readTicket(ticket: string): (TicketClaims & { payload: string; mac: string }) | null {
  const [payload, mac, extra] = ticket.split('.');
  if (!payload || !mac || extra !== undefined) return null;
  try {
    const c = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as { r?: unknown; s?: unknown; e?: unknown };
    if (typeof c.r !== 'string' || typeof c.s !== 'string' || typeof c.e !== 'number') return null;
    return { ref: c.r, sweepId: c.s, expiresAt: c.e, payload, mac };
  } catch {
    return null;
  }
}

/** Throws UNAUTHORIZED unless the ticket is signed with `key`, unexpired and for this sweep. */
export function verifyTicket(claims: NonNullable<ReturnType<typeof readTicket>>, key: string, sweepId: string, now: number): void {
  if (!sameSecret(hmac(key, claims.payload), claims.mac)) throw new HarrowError('UNAUTHORIZED', 'this stream ticket is not valid; the page asks for a new one');
  if (claims.expiresAt <= now) throw new HarrowError('UNAUTHORIZED', 'this stream ticket has expired; the page asks for a new one');
  if (claims.sweepId !== sweepId) throw new HarrowError('UNAUTHORIZED', 'this stream ticket is for another sweep');
}
