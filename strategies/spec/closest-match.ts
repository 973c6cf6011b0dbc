/**
 * "Did you mean" for typos in keys, enum values and macro names (`maximise` → `maximize`,
 * `valeus` → `values`, `interpereter` → `interpreter`).
 *
 * The words come from users and can be as long as a sweep file allows, so nothing here may cost
 * more than the length of the word times the length of the (short) candidate: a candidate whose
 * length differs by more than the edits allowed cannot match and is skipped without computing
 * anything, and the distance keeps three rows instead of a full matrix.
 */

/** At most this many edits (a third of the word's length, at least 1) separate a typo from another word. */
const MAX_EDITS = 3;

/** Levenshtein distance with transpositions counted as one edit (optimal string alignment). */
export function editDistance(a: string, b: string): number {
  const n = b.length;
  // Rows i-2, i-1 and i of the usual (m+1)×(n+1) matrix: O(n) memory, no per-row allocation.
  let before = new Array<number>(n + 1).fill(0);
  let prev = Array.from({ length: n + 1 }, (_, j) => j);
  let cur = new Array<number>(n + 1).fill(0);
  for (let i = 1; i <= a.length; i++) {
    cur[0] = i;
    for (let j = 1; j <= n; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let v = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) v = Math.min(v, before[j - 2]! + 1);
      cur[j] = v;
    }
    [before, prev, cur] = [prev, cur, before];
  }
  return prev[n]!;
}

/** The candidate closest to `word` when it is plausibly a typo of it, else undefined. */
export function closestMatch(word: string, candidates: readonly string[]): string | undefined {
  const allowed = Math.min(MAX_EDITS, Math.max(1, Math.floor(word.length / 3)));
  const w = word.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    // The distance is at least the difference in length: such a candidate is no typo of the word.
    const lower = c.toLowerCase();
    if (Math.abs(lower.length - w.length) > allowed) continue;
    const dist = editDistance(w, lower);
    if (dist < bestDistance) {
      best = c;
      bestDistance = dist;
    }
  }
  return bestDistance <= allowed && bestDistance > 0 ? best : bestDistance === 0 && best !== word ? best : undefined;
}
