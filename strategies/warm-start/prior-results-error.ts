/** A file of prior results that cannot be read, with the row and column at fault. */
export class PriorResultsError extends Error {
  override readonly name = 'PriorResultsError';
}
