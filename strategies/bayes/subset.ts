/**
 * A training subset chosen for quality, for when a sweep outgrows the exact GP: the best fifth
 * by outcome (where the optimizer works), the most recent runs (so it does not re-propose what it
 * just tried), then a greedy max-min space-filling pick of the rest in the kernel's metric (so the
 * model still knows the bad regions). Deterministic. W&B instead draws 100 runs uniformly with
 * replacement, which can drop the best ones and duplicates others.
 */

export interface SubsetInput {
  x: Float64Array;
  /** Outcomes, larger is better. */
  y: Float64Array;
  n: number;
  d: number;
  isCat: Uint8Array;
  /** Length scales for the distance (all 1 when unknown). */
  lengthscales: Float64Array | null;
}

/** Indices of at most `size` rows, ascending. */
export function selectSubset(input: SubsetInput, size: number, recent: number): Int32Array {
  const { x, y, n, d, isCat, lengthscales } = input;
  if (n <= size) return Int32Array.from({ length: n }, (_, i) => i);
  const chosen = new Uint8Array(n);
  const picked: number[] = [];
  const take = (i: number): void => {
    if (!chosen[i] && picked.length < size) {
      chosen[i] = 1;
      picked.push(i);
    }
  };
  const byY = Array.from({ length: n }, (_, i) => i).sort((a, b) => y[b]! - y[a]! || a - b);
  const nTop = Math.ceil(0.2 * size);
  for (let i = 0; i < nTop; i++) take(byY[i]!);
  for (let i = n - 1; i >= Math.max(0, n - recent); i--) take(i);

  const kappa = new Float64Array(d);
  for (let j = 0; j < d; j++) kappa[j] = lengthscales ? 1 / (lengthscales[j]! * lengthscales[j]!) : 1;
  const minDist = new Float64Array(n).fill(Infinity);
  const update = (c: number): void => {
    const oc = c * d;
    for (let i = 0; i < n; i++) {
      if (chosen[i]) continue;
      const oi = i * d;
      let q = 0;
      for (let j = 0; j < d; j++) {
        const u = x[oi + j]!;
        const v = x[oc + j]!;
        if (isCat[j] === 1) {
          if (u !== v) q += kappa[j]!;
        } else q += kappa[j]! * (u - v) * (u - v);
      }
      if (q < minDist[i]!) minDist[i] = q;
    }
  };
  for (const c of picked) update(c);
  while (picked.length < size) {
    let best = -1;
    let bestD = -1;
    for (let i = 0; i < n; i++) {
      if (!chosen[i] && minDist[i]! > bestD) {
        bestD = minDist[i]!;
        best = i;
      }
    }
    if (best < 0) break;
    take(best);
    update(best);
  }
  return Int32Array.from(picked.sort((a, b) => a - b));
}
