/**
 * A run's metric history as the rules see it: finite values only, sign-normalized so that lower
 * is always better (W&B negates for `maximize`), with the running best and prefix sums.
 */
export class CurveHistory {
  /** Normalized finite values; `values[i]` is iteration i + 1. */
  readonly values: number[] = [];
  /**
   * `sums[t]` is the sum of the first t values, accumulated left to right. The stateless and the
   * incremental paths both add in this order, so their running averages are bit-identical.
   */
  readonly sums: number[] = [0];
  /** Best (lowest normalized) value so far; +Infinity before the first value. */
  best = Infinity;

  /** `sign` is -1 for `maximize`, 1 for `minimize`. */
  constructor(readonly sign: 1 | -1) {}

  static of(raw: readonly number[], sign: 1 | -1): CurveHistory {
    const h = new CurveHistory(sign);
    for (const v of raw) h.push(v);
    return h;
  }

  /** Iteration count: the number of finite values logged. */
  get count(): number {
    return this.values.length;
  }

  /** Appends one logged value; returns false (and ignores it) when it is not finite. */
  push(raw: number): boolean {
    if (!Number.isFinite(raw)) return false;
    const v = this.sign * raw;
    this.values.push(v);
    this.sums.push((this.sums[this.sums.length - 1] ?? 0) + v);
    if (v < this.best) this.best = v;
    return true;
  }

  /** Normalized value at iteration `t` (1-based), W&B's `history[t - 1]`. */
  valueAt(t: number): number {
    const v = this.values[t - 1];
    if (v === undefined) throw new RangeError(`iteration ${t} not reached (count ${this.count})`);
    return v;
  }

  /** Mean of the first `t` normalized values. */
  averageTo(t: number): number {
    const s = this.sums[t];
    if (s === undefined || t < 1) throw new RangeError(`iteration ${t} not reached (count ${this.count})`);
    return s / t;
  }

  /** Back to the metric's own sign, for reports. */
  raw(normalized: number): number {
    return this.sign * normalized;
  }
}
