/**
 * An ascending multiset of numbers with O(1) order statistics: the values every run recorded at
 * one band, rung or step. Insertion is a binary search plus one `splice` (a memmove), which for
 * the 10,000 values of a large sweep costs microseconds, far less than a re-sort.
 */
export class SortedValues {
  private readonly a: number[];

  private constructor(sortedAscending: number[]) {
    this.a = sortedAscending;
  }

  static empty(): SortedValues {
    return new SortedValues([]);
  }

  /** Takes ownership of `values` and sorts it. */
  static from(values: number[]): SortedValues {
    return new SortedValues(values.sort((x, y) => x - y));
  }

  get length(): number {
    return this.a.length;
  }

  /** The i-th smallest (0-based). */
  at(i: number): number {
    const v = this.a[i];
    if (v === undefined) throw new RangeError(`index ${i} out of range (length ${this.a.length})`);
    return v;
  }

  insert(v: number): void {
    this.a.splice(this.lowerBound(v), 0, v);
  }

  /** First index whose value is ≥ v. */
  lowerBound(v: number): number {
    let lo = 0;
    let hi = this.a.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.a[mid] as number) < v) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Median of the values with one occurrence of `v` removed (a run's own entry), or `undefined`
   * when nothing remains. An even count averages the two middle values.
   */
  medianWithout(v: number): number | undefined {
    const p = this.lowerBound(v);
    if (this.a[p] !== v) throw new RangeError(`value ${v} is not in the set`);
    const m = this.a.length - 1;
    if (m < 1) return undefined;
    // The i-th element of the set without index p.
    const rest = (i: number): number => this.at(i < p ? i : i + 1);
    return m % 2 === 1 ? rest((m - 1) / 2) : (rest(m / 2 - 1) + rest(m / 2)) / 2;
  }
}
