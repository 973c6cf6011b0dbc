/**
 * The HTTP contract of deleting sweeps and of retention: `DELETE /api/sweeps/:id` and
 * `GET|POST /api/retention` (admin only).
 */
import { z } from 'zod';

export const DeleteSweepQuerySchema = z.object({
  force: z
    .enum(['true', 'false', '1', '0'], { error: 'use force=true to cancel a running sweep and kill its runs first, or leave it out' })
    .optional()
    .transform((v) => v === 'true' || v === '1'),
});

export const DeletedSweepSchema = z.object({
  id: z.string(),
  /** The sweep was running or paused and was canceled first (force). */
  canceled: z.boolean(),
  /** Rows removed per table. */
  rows: z.record(z.string(), z.number().int()),
  /** Redis keys removed, and entries of the reports stream. */
  redisKeys: z.number().int(),
  reports: z.number().int(),
});
export type DeletedSweep = z.output<typeof DeletedSweepSchema>;

export const ExpiringSweepSchema = z.object({
  id: z.string(),
  name: z.string().nullable(),
  endedAt: z.string(),
  /** Runs whose output tail goes. */
  tails: z.number().int(),
  /** Metric points (kept and refused ones) that go. */
  points: z.number().int(),
});

export const RetentionResponseSchema = z.object({
  /** HARROW_RETENTION_DAYS; null: retention is off and nothing expires. */
  days: z.number().int().nullable(),
  /** Sweeps that ended before this qualify. */
  cutoff: z.string().nullable(),
  /** false: what would go (GET); true: what went (POST). */
  applied: z.boolean(),
  /** POST only: another controller replica was running a pass, so this one did nothing. */
  skipped: z.boolean(),
  sweeps: z.array(ExpiringSweepSchema),
  tails: z.number().int(),
  points: z.number().int(),
});
export type RetentionResponse = z.output<typeof RetentionResponseSchema>;
