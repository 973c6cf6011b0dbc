/**
 * The one place a Harrow process turns REDIS_URL into a Redis connection: the controller's link,
 * the agent's connections and its BullMQ worker all come from here, so a Sentinel URL works in
 * every one of them. Sentinel support is ioredis' own (`sentinels` + `name`): it asks the
 * Sentinels for the current master, and asks again when the connection drops.
 */
import { readFileSync } from 'node:fs';
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { parseRedisTarget } from './config-schema.js';
import { HarrowError } from './errors.js';

/**
 * The CA of a `rediss://…?ca=/path/ca.pem` URL: only the servers it signed are trusted (Node's
 * built-in CAs and NODE_EXTRA_CA_CERTS are not consulted for that connection). Read once per
 * process and path; a file that cannot be read is a configuration error, not an outage.
 */
const caFiles = new Map<string, Buffer>();
function readCa(path: string): Buffer {
  let pem = caFiles.get(path);
  if (pem === undefined) {
    try {
      pem = readFileSync(path);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      throw new HarrowError('INVALID_CONFIG', `cannot read the CA file of REDIS_URL (ca=${path}): ${code === 'ENOENT' ? 'no such file' : (code ?? (err as Error).message)}`, { cause: err });
    }
    caFiles.set(path, pem);
  }
  return pem;
}

/** A direct URL without its `ca` parameter (ioredis would take it for an option), and its TLS options. */
function directTarget(url: string): { url: string; tls?: { ca: Buffer } } {
  if (!url.includes('ca=') || !URL.canParse(url)) return { url };
  const u = new URL(url);
  const ca = u.searchParams.get('ca');
  if (ca === null) return { url };
  u.searchParams.delete('ca');
  return { url: u.toString(), tls: { ca: readCa(ca) } };
}

/**
 * After a failover the old master, now a replica, refuses writes with READONLY. The Sentinels
 * also drop its clients when they reconfigure it (so the failover test passes without this), but
 * a write that reaches it before that would fail; reconnecting (2: and re-sending the command)
 * asks the Sentinels for the new master instead.
 */
function reconnectOnReadonly(err: Error): 2 | false {
  return err.message.startsWith('READONLY') ? 2 : false;
}

/** ioredis options for a Sentinel target; null for a direct URL (ioredis parses it itself). */
function sentinelOptions(url: string) {
  const target = parseRedisTarget(url);
  if (target.kind === 'direct') return null;
  return {
    sentinels: target.sentinels,
    name: target.name,
    role: 'master',
    db: target.db,
    username: target.username,
    password: target.password,
    sentinelPassword: target.sentinelPassword,
    // Subscribes to the Sentinels' +switch-master: a failover is noticed at once, not at the
    // next failed command.
    failoverDetector: true,
    reconnectOnError: reconnectOnReadonly,
    ...(target.tls
      ? { tls: target.ca ? { ca: readCa(target.ca) } : {}, sentinelTLS: target.ca ? { ca: readCa(target.ca) } : {}, enableTLSForSentinelMode: true }
      : {}),
  } satisfies RedisOptions;
}

/** The options a caller adds to the target's (the ones Harrow uses). */
export interface ConnectionExtras {
  maxRetriesPerRequest?: number | null;
  connectionName?: string;
  lazyConnect?: boolean;
  /** For a one-off check (the server's start): fail at once instead of queueing or retrying. */
  enableOfflineQueue?: boolean;
  connectTimeout?: number;
  retryStrategy?: (times: number) => number | null;
}

/** A connection to the Redis of `url` (a server or a Sentinel-managed master). */
export function connectRedis(url: string, options: ConnectionExtras = {}): Redis {
  const sentinel = sentinelOptions(url);
  if (sentinel) return new Redis({ ...sentinel, ...options });
  const direct = directTarget(url);
  return new Redis(direct.url, direct.tls ? { tls: direct.tls, ...options } : options);
}

/** The same, as the connection options BullMQ takes (it opens and closes its own connections). */
export function bullConnection(url: string, options: ConnectionExtras = {}): BullRedisOptions {
  const sentinel = sentinelOptions(url);
  if (sentinel) return { ...sentinel, ...options };
  const direct = directTarget(url);
  return { url: direct.url, ...(direct.tls ? { tls: direct.tls } : {}), ...options };
}
