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
  // From the end, line by line without splitting the whole window: the error is usually last
  // (the runs list calls this for every failed run of a page).
  const start = tail.length > ERROR_TAIL_CHARS ? tail.length - ERROR_TAIL_CHARS : 0;
  // A cut in the middle of a line leaves its end: not a line of its own. (db/ reads one character
  // more than the window for this, so a list answers as the full tail would.)
  const cut = start > 0 && tail[start - 1] !== '\n';
  let lastText: string | null = null;
  let end = tail.length;
  while (end > start) {
    const nl = tail.lastIndexOf('\n', end - 1);
    const from = nl < start ? start : nl + 1;
    if (from === start && cut) break;
    const line = tail.slice(from, end).trim();
    if (line !== '') {
      lastText ??= line;
      if (isErrorLine(line)) return clip(line);
    }
    if (nl < start) break;
    end = nl;
  }
  return lastText === null ? null : clip(lastText);
}

function clip(line: string): string {
  return line.length > MAX_ERROR_LINE ? `${line.slice(0, MAX_ERROR_LINE - 1)}…` : line;
}
