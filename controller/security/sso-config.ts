/**
 * The value schemas of the single-sign-on settings (`controller/config.ts` declares the variables):
 * which peers may assert an identity (HARROW_TRUSTED_PROXIES), under which header names, and how
 * the identity provider's groups become Harrow roles (HARROW_SSO_ROLES, shared by the proxy and
 * by OIDC bearer tokens).
 */
import { BlockList, isIP } from 'node:net';
import { z } from 'zod';
import type { Role } from '../../protocol/auth-api.js';

/** The roles a group may grant. `agent` is for machines with named tokens, never for people. */
export const SSO_ROLES = ['viewer', 'member', 'admin'] as const satisfies readonly Role[];
export type SsoRole = (typeof SSO_ROLES)[number];
const RANK: Record<SsoRole, number> = { viewer: 1, member: 2, admin: 3 };

/** Group → role; `*` is every signed-in user. */
export interface RoleMap {
  groups: ReadonlyMap<string, SsoRole>;
  everyone: SsoRole | null;
  /** As configured, for messages. */
  text: string;
}

/**
 * `ml-admins=admin,ml-team=member,*=viewer`: the highest role among the user's groups (and `*`)
 * wins; a user none of whose groups is listed and with no `*` entry is refused.
 */
export const RoleMapSchema = z
  .string()
  .trim()
  .transform((text, ctx): RoleMap => {
    const groups = new Map<string, SsoRole>();
    let everyone: SsoRole | null = null;
    for (const raw of text.split(',')) {
      const entry = raw.trim();
      const eq = entry.lastIndexOf('=');
      const group = eq < 0 ? '' : entry.slice(0, eq).trim();
      const role = eq < 0 ? '' : entry.slice(eq + 1).trim();
      if (!group) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not group=role; write it as ml-admins=admin,ml-team=member,*=viewer` });
        continue;
      }
      if (!(SSO_ROLES as readonly string[]).includes(role)) {
        ctx.addIssue({ code: 'custom', message: `"${entry}": the role must be ${SSO_ROLES.join(', ')} (agents use named tokens)` });
        continue;
      }
      if (group === '*') {
        if (everyone !== null) ctx.addIssue({ code: 'custom', message: '* is given twice' });
        everyone = role as SsoRole;
      } else {
        if (groups.has(group)) ctx.addIssue({ code: 'custom', message: `the group "${group}" is given twice` });
        groups.set(group, role as SsoRole);
      }
    }
    return { groups, everyone, text };
  });

/** The role a member of `groups` gets, or null when none is mapped. */
export function roleOfGroups(map: RoleMap, groups: readonly string[]): SsoRole | null {
  let best: SsoRole | null = map.everyone;
  for (const g of groups) {
    const role = map.groups.get(g);
    if (role !== undefined && (best === null || RANK[role] > RANK[best])) best = role;
  }
  return best;
}

/** IPv4-mapped IPv6 (`::ffff:10.0.0.1`, how a dual-stack socket reports IPv4 peers) as plain IPv4. */
export function plainAddress(address: string): string {
  const m = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  return m ? m[1]! : address;
}

/** The trusted proxies: IP addresses and CIDR ranges, IPv4 or IPv6. */
export interface TrustedProxies {
  list: BlockList;
  text: string;
  has(address: string | undefined): boolean;
}

/** `127.0.0.1,10.0.0.0/8,fd00::/8`. Host names are refused: the check is on the socket's address. */
export const TrustedProxiesSchema = z
  .string()
  .trim()
  .transform((text, ctx): TrustedProxies => {
    const list = new BlockList();
    for (const raw of text.split(',')) {
      const entry = raw.trim();
      const [addr = '', bits, extra] = entry.split('/');
      const family = isIP(addr);
      if (family === 0 || extra !== undefined) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address or CIDR range (such as 127.0.0.1 or 10.0.0.0/8); host names are not accepted` });
        continue;
      }
      const type = family === 4 ? 'ipv4' : 'ipv6';
      if (bits === undefined) {
        list.addAddress(addr, type);
        continue;
      }
      const max = family === 4 ? 32 : 128;
      if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) {
        ctx.addIssue({ code: 'custom', message: `"${entry}": the prefix length must be 0 to ${max}` });
        continue;
      }
      list.addSubnet(addr, Number(bits), type);
    }
    return {
      list,
      text,
      has(address) {
        if (address === undefined) return false;
        const plain = plainAddress(address);
        const family = isIP(plain);
        return family !== 0 && list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
      },
    };
  });

/** A request header name (RFC 9110 token), lower-cased as Node presents headers. */
export const HeaderNameSchema = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, 'must be a header name such as X-Forwarded-User')
  .transform((s) => s.toLowerCase())
  .refine((s) => !['authorization', 'cookie', 'host'].includes(s), 'must not be Authorization, Cookie or Host');

const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * An issuer (or JWKS) URL: https, or http on loopback only (a test's issuer, or a sidecar on the
 * same host): over plain HTTP elsewhere anyone on the path could swap the keys.
 */
export const IssuerUrlSchema = (name: string) =>
  z
    .string()
    .trim()
    .superRefine((u, ctx) => {
      if (!URL.canParse(u)) {
        ctx.addIssue({ code: 'custom', message: 'must be a URL such as https://login.example.com/realms/ml' });
        return;
      }
      const url = new URL(u);
      if (!(url.protocol === 'https:' || (url.protocol === 'http:' && LOOPBACK_HOSTS.has(url.hostname)))) {
        ctx.addIssue({ code: 'custom', message: `${name} must be https:// (http:// only on localhost): over plain HTTP anyone on the path could replace the signing keys` });
      }
    });
