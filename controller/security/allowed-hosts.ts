/**
 * The names this server answers to. A request whose `Host` header is not one of them is refused:
 * that is what stops DNS rebinding, where a page on `attacker.example` re-points its own name at
 * 127.0.0.1 and then reads this server as if it were its own origin (the browser still sends
 * `Host: attacker.example`). IP literals and the loopback names are safe to allow: a page can
 * only make the browser send them when the page itself was served from that address.
 */
import { isIP } from 'node:net';
import { hostname as osHostname, networkInterfaces } from 'node:os';
import { z } from 'zod';

/** One allowed name; without a port it matches the name on any port. */
export interface HostEntry {
  name: string;
  port: string | undefined;
}

/** `*` lets any Host through (only behind a proxy that checks Host itself). */
export type AllowedHosts = readonly HostEntry[] | '*';

/** The host part of a Host header or of an origin, normalized for comparison. */
export interface ParsedHost {
  /** Lower-case, without a trailing dot; IPv6 in brackets (`[::1]`), as WHATWG URLs print it. */
  name: string;
  /** '' when absent (the scheme's default port). */
  port: string;
}

/**
 * Parses `name[:port]` as a browser would put it in a Host header. Anything that is not a bare
 * authority (a path, credentials, spaces) is not a host: undefined.
 */
export function parseHost(value: string, scheme: 'http:' | 'https:' = 'http:'): ParsedHost | undefined {
  if (value === '' || /[\s/\\@?#]/.test(value)) return undefined;
  let url: URL;
  try {
    url = new URL(`${scheme}//${value}`);
  } catch {
    return undefined;
  }
  const name = url.hostname.toLowerCase().replace(/\.$/, '');
  if (name === '') return undefined;
  return { name, port: url.port };
}

/** The loopback names, always allowed: a rebinding page cannot make a browser send them. */
const LOOPBACK_NAMES = ['localhost', '127.0.0.1', '[::1]'];

const WILDCARDS = new Set(['0.0.0.0', '::', '[::]', '']);

export interface HostEnvironment {
  hostname: () => string;
  interfaceAddresses: () => string[];
}

const SYSTEM: HostEnvironment = {
  hostname: osHostname,
  interfaceAddresses: () =>
    Object.values(networkInterfaces())
      .flat()
      .filter((a) => a !== undefined && a.scopeid === undefined)
      .map((a) => a!.address),
};

/**
 * The names a request may carry: the loopback names, the listen address (for a wildcard listen
 * address, the machine's name and its interface addresses, since clients reach it by those), and
 * whatever HARROW_ALLOWED_HOSTS adds. Ports are not compared for these defaults: an SSH tunnel
 * (`ssh -L 9000:127.0.0.1:8080`) makes the browser send `localhost:9000`, and a port in the Host
 * header adds nothing against rebinding, which needs a foreign name.
 */
export function allowedHosts(listenHost: string, extra: AllowedHosts | undefined, env: HostEnvironment = SYSTEM): AllowedHosts {
  if (extra === '*') return '*';
  const names = new Set(LOOPBACK_NAMES);
  const listen = listenHost.trim();
  const candidates = WILDCARDS.has(listen) ? [env.hostname(), ...env.interfaceAddresses()] : [listen];
  for (const c of candidates) {
    const parsed = parseHost(isIP(c) === 6 ? `[${c}]` : c);
    if (parsed) names.add(parsed.name);
  }
  const entries: HostEntry[] = [...names].map((name) => ({ name, port: undefined }));
  return [...entries, ...(extra ?? [])];
}

export function hostAllowed(allowed: AllowedHosts, host: ParsedHost): boolean {
  if (allowed === '*') return true;
  return allowed.some((e) => e.name === host.name && (e.port === undefined || e.port === host.port));
}

/** For the start-up log line. */
export function describeAllowedHosts(allowed: AllowedHosts): string[] | '*' {
  return allowed === '*' ? '*' : allowed.map((e) => (e.port === undefined ? e.name : `${e.name}:${e.port}`));
}

/** HARROW_ALLOWED_HOSTS: `*`, or a comma-separated list of `name` or `name:port`. */
export const AllowedHostsSchema = z
  .string()
  .transform((text, ctx): AllowedHosts => {
    const items = text
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    if (items.includes('*')) {
      if (items.length > 1) ctx.addIssue({ code: 'custom', message: '`*` allows every host; list names or give `*` alone' });
      return '*';
    }
    const entries: HostEntry[] = [];
    for (const item of items) {
      // A bare IPv6 address has colons of its own; `[::1]:8080` is the form with a port.
      const parsed = parseHost(isIP(item) === 6 ? `[${item}]` : item);
      if (!parsed) {
        ctx.addIssue({ code: 'custom', message: `'${item}' is not a host name, IP address or name:port (e.g. harrow.example.com, 10.0.0.5:8080, [::1])` });
        continue;
      }
      // `name:80` is stored as the default port (''), the form a Host header without a port takes.
      const hasPort = isIP(item) !== 6 && /:\d+$/.test(item);
      entries.push({ name: parsed.name, port: hasPort ? parsed.port : undefined });
    }
    return entries;
  });
