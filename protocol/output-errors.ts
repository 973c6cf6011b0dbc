/**
 * Which lines of a run's output tail say what went wrong: the one definition behind the runs
 * list's `errorLine` and the run page's marked lines (`errorLines`), so the two never disagree.
 *
 * A line is an error line when it names an error, exception, traceback, fatal, panic, assertion,
 * segmentation fault, out of memory, `Killed` or NaN, unless it is a metric line (only
 * `name=value` pairs, or one JSON object): `val_error=0.12` is a result, not a failure.
 */

/** How much of the tail the error line is looked for in (the end of it: a traceback ends there). */
export const ERROR_TAIL_CHARS = 4096;
/** Longest error line sent; longer ones are cut with an ellipsis. */
export const MAX_ERROR_LINE = 500;

const ERROR_WORDS = /error|exception|traceback|fatal|panic|assert|segmentation fault|out of memory|\boom\b|\bkilled\b|\bnan\b/i;
const METRIC_PAIRS = /^(?:[A-Za-z_][^\s=]*=\S+\s*)+$/;
const JSON_OBJECT = /^\{.*\}$/;

export function isErrorLine(line: string): boolean {
  const text = line.trim();
  if (text === '' || METRIC_PAIRS.test(text) || JSON_OBJECT.test(text)) return false;
  return ERROR_WORDS.test(text);
}

/** Indices (into `tail.split('\n')`) of the error lines. */
export function errorLineIndices(tail: string | null): number[] {
  if (!tail) return [];
  const out: number[] = [];
  tail.split('\n').forEach((line, i) => {
    if (isErrorLine(line)) out.push(i);
  });
  return out;
}

/**
 * The line most likely to say why a run failed: the last error line of the tail's end, else its
 * last non-empty line; null for an empty tail.
 */
export function lastErrorLine(tail: string | null): string | null {
  if (!tail) return null;
  let lines = tail.slice(-ERROR_TAIL_CHARS).split('\n');
  // A cut in the middle of a line leaves its end: not a line of its own. (db/ reads one character
  // more than the window for this, so a list answers as the full tail would.)
  if (tail.length > ERROR_TAIL_CHARS && tail[tail.length - ERROR_TAIL_CHARS - 1] !== '\n') lines = lines.slice(1);
  const kept = lines.map((l) => l.trim()).filter(Boolean);
  const line = kept.findLast(isErrorLine) ?? kept.at(-1) ?? null;
  return line !== null && line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE - 1)}…` : line;
}
