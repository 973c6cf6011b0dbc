/**
 * Whether a listen address stays on this machine. The answer comes from what the name resolves
 * to, never from its spelling: `127.evil.example` is a public name like any other, and `localhost`
 * is loopback only if the resolver says so.
 */
import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { HarrowError } from '../../protocol/errors.js';

export interface ResolvedAddress {
  address: string;
  family: number;
}

/** `dns.lookup(host, { all: true })`: the system resolver, /etc/hosts included, as `listen` uses it. */
export type Lookup = (host: string) => Promise<ResolvedAddress[]>;

const systemLookup: Lookup = (host) => dnsLookup(host, { all: true, verbatim: true });

const LOOPBACK = new BlockList();
LOOPBACK.addSubnet('127.0.0.0', 8, 'ipv4');
LOOPBACK.addAddress('::1', 'ipv6');
// BlockList matches IPv4-mapped IPv6 addresses (::ffff:127.0.0.1) against the IPv4 rules itself.

export function isLoopbackAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  return LOOPBACK.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/**
 * Resolves `host` and reports every address it stands for; loopback only when there is at least
 * one and each is loopback. An unresolvable name is an INVALID_CONFIG error naming it.
 */
export async function resolveListenHost(host: string, lookup: Lookup = systemLookup): Promise<{ loopback: boolean; addresses: string[] }> {
  // A bracketed IPv6 literal ([::1]) is how URLs spell it; the resolver wants it bare.
  const bare = /^\[.*\]$/.test(host) ? host.slice(1, -1) : host;
  let resolved: ResolvedAddress[];
  try {
    resolved = await lookup(bare);
  } catch (err) {
    const code = (err as { code?: unknown }).code;
    throw new HarrowError('INVALID_CONFIG', `cannot resolve the listen address '${host}'${typeof code === 'string' ? ` (${code})` : ''}; set HARROW_HOST (or --host) to an IP address or a name this machine resolves, such as 127.0.0.1`, { cause: err });
  }
  const addresses = resolved.map((r) => r.address);
  return { loopback: addresses.length > 0 && addresses.every(isLoopbackAddress), addresses };
}

/**
 * Refuses to start an API that anyone on the network could use to run commands on the agents:
 * off loopback, a token is required unless the operator says the network is trusted.
 */
export async function assertSafeListen(host: string, options: { token: boolean; insecure: boolean }, lookup?: Lookup): Promise<void> {
  if (options.token || options.insecure) return;
  const { loopback, addresses } = await resolveListenHost(host, lookup);
  if (loopback) return;
  const where = addresses.length === 1 && addresses[0] === host ? host : `${host} (${addresses.join(', ') || 'no address'})`;
  throw new HarrowError(
    'INVALID_CONFIG',
    `refusing to listen on ${where} without a token: anyone on the network could create sweeps that run commands on your GPU boxes. Set HARROW_TOKEN (at least 8 characters), listen on 127.0.0.1, or pass --insecure if the network is trusted.`,
  );
}
