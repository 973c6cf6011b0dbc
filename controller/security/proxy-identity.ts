/**
 * Identities from the team's single-sign-on proxy (HARROW_AUTH=proxy). The proxy authenticates the
 * user and sets identity headers (user, email, groups); Harrow believes them only when the TCP
 * connection itself comes from one of HARROW_TRUSTED_PROXIES. The socket's address is the only
 * thing a client cannot choose: X-Forwarded-For and friends are never consulted, since any client
 * can write them.
 *
 * The outcomes for one request:
 * - from a trusted proxy, with a user header: that user, with the role of their groups;
 * - from a trusted proxy, without one: no identity here (a bearer token may still identify it);
 * - from any other peer, with any identity header: refused (403), even with a good token, since
 *   someone is trying to pass as a user and an operator should see it in the audit trail;
 * - from any other peer, without them: no identity here (bearer tokens work from anywhere).
 */
import type { FastifyRequest } from 'fastify';
import { HarrowError } from '../../protocol/errors.js';
import type { Identity } from './auth.js';
import { plainAddress, roleOfGroups, type RoleMap, type TrustedProxies } from './sso-config.js';

export interface ProxySettings {
  trusted: TrustedProxies;
  /** Lower-case header names. */
  userHeader: string;
  emailHeader: string;
  groupsHeader: string;
  roles: RoleMap;
}

/** A single header value: the first when a client repeated it (a proxy that clears it sends one). */
function headerValue(req: FastifyRequest, name: string): string | undefined {
  const v = req.headers[name];
  const first = Array.isArray(v) ? v[0] : v;
  const trimmed = first?.trim();
  return trimmed ? trimmed : undefined;
}

/**
 * The client's address for the audit trail: behind a trusted proxy, the last X-Forwarded-For entry
 * (the one that proxy wrote: entries before it were written by whoever sent them); otherwise, and
 * for anything else, the connection's own address.
 */
export function clientAddress(req: FastifyRequest, trusted: TrustedProxies | undefined): string {
  const peer = plainAddress(req.raw.socket.remoteAddress ?? req.ip);
  if (!trusted?.has(peer)) return peer;
  const forwarded = headerValue(req, 'x-forwarded-for')?.split(',').pop()?.trim();
  return forwarded ? plainAddress(forwarded) : peer;
}

export class ProxyIdentity {
  constructor(private readonly s: ProxySettings) {}

  /** The address of the connection's other end (never a header). */
  peerOf(req: FastifyRequest): string {
    return plainAddress(req.raw.socket.remoteAddress ?? 'unknown');
  }

  /**
   * The identity the proxy vouches for, or undefined when this request carries none (see the
   * file comment); throws FORBIDDEN for forged headers and for a user whose groups map to no role.
   */
  read(req: FastifyRequest): Identity | undefined {
    const peer = this.peerOf(req);
    const { userHeader, emailHeader, groupsHeader } = this.s;
    if (!this.s.trusted.has(peer)) {
      const sent = [userHeader, emailHeader, groupsHeader].filter((h) => req.headers[h] !== undefined);
      if (sent.length > 0) {
        throw new HarrowError(
          'FORBIDDEN',
          `identity headers (${sent.join(', ')}) are only believed from the single-sign-on proxy (HARROW_TRUSTED_PROXIES), and this request came from ${peer}; sign in through the proxy, or send Authorization: Bearer <token> without those headers`,
        );
      }
      return undefined;
    }
    const user = headerValue(req, userHeader);
    if (user === undefined) return undefined;
    const groups = (headerValue(req, groupsHeader) ?? '')
      .split(',')
      .map((g) => g.trim())
      .filter((g) => g !== '');
    const role = roleOfGroups(this.s.roles, groups);
    const sso = { via: 'proxy' as const, email: headerValue(req, emailHeader) ?? null, groups, from: peer };
    if (role === null) {
      throw new HarrowError(
        'FORBIDDEN',
        `the user '${user}' is signed in, but none of their groups (${groups.join(', ') || 'none sent'}) has a role in HARROW_SSO_ROLES (${this.s.roles.text}); ask an admin to add you to one of those groups`,
      );
    }
    return { name: user, role, projects: null, ref: `@sso:proxy:${role}:${user}`, sso };
  }

  /** Why a request without an identity was refused, for the 401 message. */
  missing(req: FastifyRequest): HarrowError {
    const peer = this.peerOf(req);
    if (this.s.trusted.has(peer)) {
      return new HarrowError(
        'UNAUTHORIZED',
        `the request came through the single-sign-on proxy (${peer}) without a ${this.s.userHeader} header: the proxy must authenticate this path and set it (nginx: proxy_set_header ${this.s.userHeader} $remote_user), or send Authorization: Bearer <token>`,
      );
    }
    return new HarrowError(
      'UNAUTHORIZED',
      `this server signs people in through its single-sign-on proxy and ${peer} is not that proxy: open Harrow through the proxy, or send Authorization: Bearer <token> (a named token, HARROW_TOKEN or an OIDC token)`,
    );
  }
}
