/** Identifiers and hashes the controller hands out. */
import { createHash, randomBytes } from 'node:crypto';

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** 8 characters of [a-z0-9], like W&B's sweep ids; 36^8 ≈ 2.8e12. */
export function newSweepId(): string {
  const bytes = randomBytes(8);
  let id = '';
  for (const b of bytes) id += ALPHABET[b % ALPHABET.length];
  return id;
}

export function runId(sweepId: string, number: number): string {
  return `${sweepId}-${number}`;
}

/** JSON with object keys sorted, so equal params hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
  }
  return JSON.stringify(value);
}

export function paramsHash(params: unknown): string {
  return createHash('sha256').update(canonicalJson(params)).digest('hex');
}

/** A seed for a sweep that did not set `harrow.seed`: 31 bits, fits every RNG we use. */
export function newSeed(): number {
  return randomBytes(4).readUInt32BE(0) >>> 1;
}
