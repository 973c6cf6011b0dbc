/**
 * The one place a Harrow process turns REDIS_URL into a Redis connection: the controller's link,
 * the agent's connections and its BullMQ worker all come from here, so a Sentinel URL works in
 * every one of them. Sentinel support is ioredis' own (`sentinels` + `name`): it asks the
 * Sentinels for the current master, and asks again when the connection drops.
 */
import { Redis, type RedisOptions } from 'ioredis';
import type { RedisOptions as BullRedisOptions } from 'bullmq';
import { parseRedisTarget } from './config-schema.js';

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
    ...(target.tls ? { tls: {}, sentinelTLS: {}, enableTLSForSentinelMode: true } : {}),
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
  return sentinel ? new Redis({ ...sentinel, ...options }) : new Redis(url, options);
}

/** The same, as the connection options BullMQ takes (it opens and closes its own connections). */
export function bullConnection(url: string, options: ConnectionExtras = {}): BullRedisOptions {
  const sentinel = sentinelOptions(url);
  return sentinel ? { ...sentinel, ...options } : { url, ...options };
}
