/**
 * The format of a named API token: `hrw_<id>_<secret>`, with a 64-bit id that finds the row and a
 * 256-bit random secret of which only the SHA-256 is stored.
 *
 * Why SHA-256 and not scrypt/argon2: a slow hash protects guessable secrets (passwords) against
 * someone who stole the hashes. These secrets are 256 random bits: nobody can enumerate them, with
 * or without a slow hash, so the only cost a slow hash would add is per request, on every API call.
 * The id prefix means each request hashes once and compares once (in constant time), never
 * scanning the table or comparing against other tokens.
 */
import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { HOUR, MINUTE } from '../../protocol/time.js';
import { DURATION_PATTERN } from '../../protocol/auth-api.js';

const PREFIX = 'hrw';
const DAY = 24 * HOUR;
const TOKEN_PATTERN = /^hrw_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface NewTokenSecret {
  id: string;
  token: string;
  secretHash: string;
}

export function newTokenSecret(): NewTokenSecret {
  const id = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  return { id, token: `${PREFIX}_${id}_${secret}`, secretHash: hashSecret(secret) };
}

/** The id and secret of a presented token, or null when it does not have the format at all. */
export function parseToken(token: string): { id: string; secret: string } | null {
  const m = TOKEN_PATTERN.exec(token);
  return m ? { id: m[1]!, secret: m[2]! } : null;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

/** Constant-time equality of two strings (their lengths are not secret: both are hex digests or fixed-size). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** Equality against a configured token, in constant time whatever the presented length. */
export function matchesConfigured(given: string, configured: string): boolean {
  // Hashing both first makes the comparison fixed-size, so not even the length leaks.
  return timingSafeEqual(createHash('sha256').update(given).digest(), createHash('sha256').update(configured).digest());
}

export function hmac(key: string, data: string): string {
  return createHmac('sha256', key).update(data).digest('base64url');
}

/** `90d` → milliseconds; the pattern is checked at the boundary. */
export function durationMs(text: string): number {
  const m = DURATION_PATTERN.exec(text);
  if (!m) throw new Error(`not a duration: ${text}`);
  const n = Number(m[1]);
  return n * (m[2] === 'd' ? DAY : m[2] === 'h' ? HOUR : MINUTE);
}
