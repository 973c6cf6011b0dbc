/** Finite-difference helpers for the gradient tests. */

/** Central difference of f along coordinate i of x. */
export function centralDiff(f: (x: Float64Array) => number, x: ArrayLike<number>, i: number, h: number): number {
  const xp = Float64Array.from(x);
  const xm = Float64Array.from(x);
  xp[i] = xp[i]! + h;
  xm[i] = xm[i]! - h;
  return (f(xp) - f(xm)) / (2 * h);
}

/** |a − b| / max(|a|, |b|, floor): relative error that tolerates values near zero. */
export function relErr(a: number, b: number, floor = 1e-8): number {
  return Math.abs(a - b) / Math.max(Math.abs(a), Math.abs(b), floor);
}

/** A deterministic pseudo-random stream for building fixtures (not the strategy's RNG). */
export function fixtureStream(seed: number): () => number {
  let s = seed >>> 0 || 1;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 4294967296;
  };
}
