/** `x` limited to [lo, hi] (NaN stays NaN). */
export function clamp(x: number, lo: number, hi: number): number {
  return x < lo ? lo : x > hi ? hi : x;
}
