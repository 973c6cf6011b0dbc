/**
 * The opaque cursor of a sweep's runs list (GET /api/sweeps/:id/runs?cursor=...): where the next
 * page starts, so a deep page costs what the first one does. An OFFSET makes Postgres walk every
 * run before the page (31 ms for the page at offset 50,000 of 100,000 runs, EXPLAIN ANALYZE);
 * `number < last` is one probe of the (sweep_id, number) index. Run numbers are unique in a sweep
 * and never change, so the order by number is total and stable while runs are added. Only the
 * orders by number carry a cursor: the others sort by values that change as runs report.
 */
import { z } from 'zod';

export const CURSOR_SORTS = ['number', '-number'] as const;
export type CursorSort = (typeof CURSOR_SORTS)[number];

const CursorSchema = z.object({ s: z.enum(CURSOR_SORTS), n: z.number().int() });
export type RunCursor = { sort: CursorSort; after: number };

export function encodeRunCursor(c: RunCursor): string {
  return Buffer.from(JSON.stringify({ s: c.sort, n: c.after })).toString('base64url');
}

/** The cursor, or null when the text is not one this server made. */
export function decodeRunCursor(text: string): RunCursor | null {
  try {
    const parsed = CursorSchema.safeParse(JSON.parse(Buffer.from(text, 'base64url').toString('utf8')));
    return parsed.success ? { sort: parsed.data.s, after: parsed.data.n } : null;
  } catch {
    return null;
  }
}

export function isCursorSort(sort: string): sort is CursorSort {
  return (CURSOR_SORTS as readonly string[]).includes(sort);
}
